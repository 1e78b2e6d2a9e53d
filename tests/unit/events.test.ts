import { describe, expect, it } from "vitest";
import { eventsForChange } from "@/lib/records/events";
import { registry } from "@/lib/records/registry";
import type { ApiRecord } from "@/lib/records/serialize";

const rec = (type: keyof typeof registry, fields: Record<string, unknown>): ApiRecord => ({ id: "x_1", object: type, version: 1, ...fields });

describe("eventsForChange", () => {
  it("emits the type's created event and record.created on create", () => {
    expect(eventsForChange(registry.client, null, rec("client", { status: "lead" }))).toEqual(["client_created", "record.created"]);
    expect(eventsForChange(registry.booking, null, rec("booking", {}))).toEqual(["booking_received", "record.created"]);
    expect(eventsForChange(registry.opportunity, null, rec("opportunity", {}))).toEqual(["record.created"]);
  });

  it("emits client_updated on every client update", () => {
    expect(eventsForChange(registry.client, rec("client", { name: "a" }), rec("client", { name: "b" }))).toEqual(["client_updated", "record.updated"]);
  });

  it("fires a transition when the field becomes the value, not while it stays there", () => {
    const inv = registry.invoice;
    expect(eventsForChange(inv, rec("invoice", { status: "draft" }), rec("invoice", { status: "sent" }))).toEqual(["invoice_sent", "record.updated"]);
    expect(eventsForChange(inv, rec("invoice", { status: "sent" }), rec("invoice", { status: "sent", amount: 2 }))).toEqual(["record.updated"]);
    expect(eventsForChange(inv, rec("invoice", { status: "sent" }), rec("invoice", { status: "paid" }))).toEqual(["invoice_paid", "record.updated"]);
    expect(eventsForChange(inv, null, rec("invoice", { status: "paid" }))).toEqual(["invoice_paid", "record.created"]);
    const wo = registry.work_order;
    expect(eventsForChange(wo, rec("work_order", { status: "in_progress" }), rec("work_order", { status: "completed" }))).toEqual([
      "work_order_completed",
      "record.updated",
    ]);
  });

  it("emits only record.deleted on delete", () => {
    expect(eventsForChange(registry.client, rec("client", {}), null)).toEqual(["record.deleted"]);
  });
});
