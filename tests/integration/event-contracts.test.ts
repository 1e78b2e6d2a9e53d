import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { Db, DbHandle } from "@/db/client";
import { createRecord, deleteRecord, updateRecord } from "@/lib/records/pipeline";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import * as eventTypes from "@/app/api/v1/event-types/route";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { contractViolation } from "../helpers/contracts";
import { feedWhen } from "../helpers/feed";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["read"])).key;
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  await handle.close();
});

type Entry = { type: string; sample: Record<string, unknown>; schema: Record<string, unknown> };

describe("typed event contracts", () => {
  it("GET /api/v1/event-types serves a JSON Schema beside every sample, and every sample keeps it", async () => {
    const res = await call(eventTypes.GET, { key, path: "/api/v1/event-types" });
    const entries = res.body.data as Entry[];
    expect(entries.map((e) => e.type)).toEqual([...CATALOG_EVENT_TYPES]);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const e of entries) {
      const validate = ajv.compile(e.schema);
      expect(validate(e.sample), `${e.type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      // The schema is exact: an unknown field, a wrong type or another event's name is refused.
      expect(validate({ ...e.sample, surprise: 1 }), e.type).toBe(false);
      expect(validate({ ...e.sample, type: e.type === "client_created" ? "client_updated" : "client_created" }), e.type).toBe(false);
      expect(validate({ ...e.sample, data: { ...(e.sample.data as object), id: 42 } }), e.type).toBe(false);
    }
    const clientCreated = entries.find((e) => e.type === "client_created")!;
    expect(JSON.stringify(clientCreated.schema)).toContain('"email"');
  });

  it("every event the pipeline writes keeps the contract of its type", async () => {
    const client = await createRecord(org.ctx, "client", { name: "Contract Carla", email: "carla@example.com", custom_fields: { tier: "gold" } });
    await updateRecord(org.ctx, "client", client.id, { phone: "555 0101" });
    const wo = await createRecord(org.ctx, "work_order", { title: "Fix", client_id: client.id });
    await updateRecord(org.ctx, "work_order", wo.id, { status: "completed" });
    const inv = await createRecord(org.ctx, "invoice", { number: "C-1", amount: 99.5, client_id: client.id, work_order_id: wo.id });
    await updateRecord(org.ctx, "invoice", inv.id, { status: "sent" });
    await updateRecord(org.ctx, "invoice", inv.id, { status: "paid" });
    await createRecord(org.ctx, "booking", { service: "Visit", starts_at: "2026-12-01T10:00:00Z", client_id: client.id });
    const opp = await createRecord(org.ctx, "opportunity", { title: "Deal", value: 1200, client_id: client.id });
    await deleteRecord(org.ctx, "opportunity", opp.id);

    const page = await feedWhen(key, "limit=100", (data) => data.some((e) => e.type === "record.deleted"));
    // The feed adds `object: "event"`; the rest is the webhook body.
    const bodies = (page.body.data as Record<string, unknown>[]).map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== "object")));
    expect(new Set(bodies.map((b) => b.type))).toEqual(
      new Set([
        "client_created",
        "client_updated",
        "work_order_created",
        "work_order_completed",
        "invoice_sent",
        "invoice_paid",
        "booking_received",
        "record.created",
        "record.updated",
        "record.deleted",
      ]),
    );
    for (const body of bodies) expect(contractViolation(body), String(body.type)).toBeNull();
  });
});
