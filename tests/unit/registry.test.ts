import { describe, expect, it } from "vitest";
import { RECORD_TYPES, registry, schemasFor } from "@/lib/records/registry";

const create = (type: keyof typeof registry, data: unknown) => schemasFor(registry[type]).create.safeParse(data);
const update = (type: keyof typeof registry, data: unknown) => schemasFor(registry[type]).update.safeParse(data);

describe("record schemas derived from the registry", () => {
  it("has one entry per type, each with a table, a title field and status options", () => {
    for (const type of RECORD_TYPES) {
      const def = registry[type];
      expect(def.type).toBe(type);
      expect(def.fields.some((f) => f.name === def.titleField)).toBe(true);
      expect(def.fields.find((f) => f.name === def.statusField)?.options).toEqual(def.statusOptions);
    }
  });

  it("requires required fields on create but not on update", () => {
    expect(create("client", {}).success).toBe(false);
    expect(update("client", {}).success).toBe(true);
    expect(create("booking", { service: "Clean" }).error?.issues.map((i) => i.path.join("."))).toEqual(["starts_at"]);
  });

  it("normalises form-style input", () => {
    const r = create("invoice", { number: " INV-9 ", amount: "1200.456", currency: "eur", due_date: "2026-12-31", client_id: "" });
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({ number: "INV-9", amount: 1200.46, currency: "EUR", due_date: "2026-12-31", client_id: null });
  });

  it("rejects malformed values with a message per field", () => {
    const r = create("invoice", { number: "1", amount: "12abc", currency: "EURO", due_date: "2026-02-30x", client_id: "opp_123" });
    expect(r.success).toBe(false);
    expect([...new Set(r.error!.issues.map((i) => i.path.join(".")))].sort()).toEqual(["amount", "client_id", "currency", "due_date"]);
    expect(create("invoice", { number: "1", amount: 1, due_date: "2026-02-30" }).error?.issues[0]?.message).toBe("must be a real date");
  });

  it("parses date-times and refuses nonsense", () => {
    const ok = create("booking", { service: "x", starts_at: "2026-12-01T09:30:00+01:00" });
    expect(ok.data?.starts_at).toEqual(new Date("2026-12-01T08:30:00Z"));
    expect(create("booking", { service: "x", starts_at: "tomorrow-ish" }).success).toBe(false);
  });

  it("refuses unknown fields rather than dropping them silently", () => {
    const r = create("client", { name: "A", favourite_colour: "blue" });
    expect(r.success).toBe(false);
  });

  it("caps text length and custom field size", () => {
    expect(create("client", { name: "x".repeat(201) }).success).toBe(false);
    expect(create("client", { name: "A", custom_fields: { big: "x".repeat(20_000) } }).success).toBe(false);
    expect(create("client", { name: "A", custom_fields: { tier: "gold", n: 3 } }).success).toBe(true);
  });

  it("treats an empty defaulted field as 'use the default' on create, and never clears it", () => {
    expect(create("client", { name: "A", status: "" }).data).toEqual({ name: "A" });
    expect(create("client", { name: "A", status: null }).data).toEqual({ name: "A" });
    expect(update("client", { status: "" }).data).toEqual({});
    expect(update("client", { status: null }).success).toBe(false);
    expect(create("invoice", { number: "1", amount: 1, currency: "" }).data).toEqual({ number: "1", amount: 1 });
  });

  it("lets an update clear an optional field with null", () => {
    expect(update("client", { email: null }).data).toEqual({ email: null });
    expect(update("client", { name: null }).success).toBe(false);
  });
});
