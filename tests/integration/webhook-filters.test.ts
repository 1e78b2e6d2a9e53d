import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { auditLog, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { createRecord, updateRecord, writeRecords } from "@/lib/records/pipeline";
import { createEndpoint, updateEndpoint } from "@/lib/webhooks/endpoints";
import { eventMatchesFilter, previewFilter } from "@/lib/webhooks/filter";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { startReceiver, waitFor } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";
import { call, makeKey } from "../helpers/api";
import { expectConforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";
import * as hooks from "@/app/api/v1/webhooks/route";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let worker: DeliveryWorker;
let doc: OpenApiDoc;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  worker = startWorker(db, { pollMs: 100, orgIds: () => orgs.map((o) => o.org.id) });
  doc = await loadDocument();
});

afterAll(async () => {
  await worker.stop();
  await dropTestOrgs(db, orgs);
  await handle.close();
  restoreEnv();
});

async function newOrg() {
  const o = await createTestOrg(db, { plan: "business" });
  orgs.push(o);
  return o;
}

const PAID_OVER_500 = [
  { field: "data.status", op: "changed_to", value: "paid" },
  { field: "data.amount", op: "greater_than", value: 500 },
];

const deliveriesOf = (endpointId: string) => db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));

describe("endpoint filters", () => {
  it("delivers the invoice paid over 500 and leaves no delivery row for the one under it", async () => {
    const o = await newOrg();
    const r = await startReceiver();
    const all = await startReceiver();
    try {
      const { endpoint, secret } = await createEndpoint(db, o.ctx, { url: r.url, event_types: ["invoice_paid"], filter: PAID_OVER_500 });
      const plain = await createEndpoint(db, o.ctx, { url: all.url, event_types: ["invoice_paid"] });
      const client = await createRecord(o.ctx, "client", { name: "Filtered" });
      const big = await createRecord(o.ctx, "invoice", { number: "F-1000", amount: 1000, client_id: client.id, status: "sent" });
      const small = await createRecord(o.ctx, "invoice", { number: "F-100", amount: 100, client_id: client.id, status: "sent" });
      await updateRecord(o.ctx, "invoice", small.id, { status: "paid" });
      await updateRecord(o.ctx, "invoice", big.id, { status: "paid" });

      await waitFor(() => r.received.length === 1 && all.received.length === 2, { what: "the deliveries" });
      await new Promise((res) => setTimeout(res, 300));
      expect(r.received).toHaveLength(1);
      expect(new Webhook(secret).verify(r.received[0]!.body, r.received[0]!.headers)).toMatchObject({
        type: "invoice_paid",
        data: { id: big.id, amount: 1000 },
      });
      expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
      expect(await deliveriesOf(plain.endpoint.id)).toHaveLength(2);
    } finally {
      await r.close();
      await all.close();
    }
  });

  it("reads previous.*, custom fields and the emptiness ops; a create counts as changed to its value", () => {
    const update = { data: { status: "paid", amount: "750.00", custom_fields: { region: "North" }, email: null }, previous: { status: "sent" } };
    const holds = (filter: unknown) => eventMatchesFilter(filter as never, update);
    expect(holds([{ field: "previous.status", op: "equals", value: "sent" }])).toBe(true);
    expect(holds([{ field: "data.custom_fields.region", op: "contains", value: "nor" }])).toBe(true);
    expect(holds([{ field: "data.email", op: "is_empty" }])).toBe(true);
    expect(holds([{ field: "data.amount", op: "less_than", value: 500 }])).toBe(false);
    expect(holds(PAID_OVER_500)).toBe(true);
    // The status did not change in this update: changed_to does not hold.
    expect(eventMatchesFilter(PAID_OVER_500 as never, { data: { status: "paid", amount: 900 }, previous: { amount: 800 } })).toBe(false);
    expect(eventMatchesFilter(PAID_OVER_500 as never, { data: { status: "paid", amount: 900 }, previous: null })).toBe(true);
  });

  it("refuses a bad filter with the field named, and writes nothing", async () => {
    const o = await newOrg();
    const bad = [
      [{ field: "status", op: "equals", value: "paid" }, "filter.0.field"],
      [{ field: "data.status", op: "is_about", value: "paid" }, "filter.0.op"],
      [{ field: "data.status", op: "equals" }, "filter.0.value"],
      [{ field: "data.status", op: "equals", value: "x", extra: 1 }, "filter.0.extra"],
    ] as const;
    for (const [condition, path] of bad) {
      const err = await createEndpoint(db, o.ctx, { url: "http://127.0.0.1:9/hook", filter: [condition] }).catch((e) => e);
      expect(err, path).toMatchObject({ code: "validation_failed" });
      expect(
        err.details.map((d: { path: string }) => d.path),
        path,
      ).toContain(path);
    }
    // A field the events do not have would drop every event: refused, with a guess.
    const typo = await createEndpoint(db, o.ctx, {
      url: "http://127.0.0.1:9/hook",
      event_types: ["invoice_paid"],
      filter: [{ field: "data.amuont", op: "greater_than", value: 500 }],
    }).catch((e) => e);
    expect(typo).toMatchObject({
      code: "validation_failed",
      details: [{ path: "filter.0.field", message: "these events' data has no field amuont: did you mean `data.amount`?" }],
    });
    const clientsOnly = await createEndpoint(db, o.ctx, {
      url: "http://127.0.0.1:9/hook",
      event_types: ["client_created"],
      filter: [{ field: "data.amount", op: "greater_than", value: 500 }],
    }).catch((e) => e);
    expect(clientsOnly).toMatchObject({ code: "validation_failed" });
    const tooMany = Array.from({ length: 21 }, () => ({ field: "data.status", op: "is_not_empty" }));
    await expect(createEndpoint(db, o.ctx, { url: "http://127.0.0.1:9/hook", filter: tooMany })).rejects.toMatchObject({ code: "validation_failed" });
    expect(await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, o.org.id))).toHaveLength(0);
  });

  it("previews a filter over the last 100 events of the endpoint's types", async () => {
    const o = await newOrg();
    const vip = await createRecord(o.ctx, "client", { name: "VIP oldest", company: "Acme" });
    await writeRecords(
      o.ctx,
      "client",
      Array.from({ length: 100 }, (_, i) => ({ kind: "create" as const, data: { name: `Bulk ${i}`, company: i % 10 === 0 ? "Acme" : "Other" } })),
    );
    const filter = [{ field: "data.company", op: "equals", value: "Acme" }];
    const preview = await previewFilter(db, o.org.id, { event_types: ["client_created"], filter });
    expect(preview.examined).toBe(100);
    // The oldest Acme client is the 101st event back: outside the window.
    expect(preview.matched).toBe(10);
    expect(preview.event_ids).toHaveLength(10);
    expect(preview.events.filter((e) => e.matched).map((e) => e.id)).toEqual(preview.event_ids);
    const none = await previewFilter(db, o.org.id, { event_types: ["invoice_paid"], filter: [{ field: "data.status", op: "equals", value: "paid" }] });
    expect(none).toMatchObject({ examined: 0, matched: 0, event_ids: [] });
    await expect(previewFilter(db, o.org.id, { event_types: ["client_created"], filter: [{ field: "nope", op: "equals", value: 1 }] })).rejects.toMatchObject({
      code: "validation_failed",
    });
    await expect(previewFilter(db, o.org.id, { events: ["client_created"] })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "events" }],
    });
    expect(vip.id).toBeTruthy();
  });

  it("changes a filter on PATCH, and an empty filter means every event again", async () => {
    const o = await newOrg();
    const { endpoint } = await createEndpoint(db, o.ctx, {
      url: "http://127.0.0.1:9/hook",
      event_types: ["client_created"],
      filter: [{ field: "data.status", op: "equals", value: "active" }],
    });
    await createRecord(o.ctx, "client", { name: "A lead", status: "lead" });
    expect(await deliveriesOf(endpoint.id)).toHaveLength(0);
    // Types whose data lacks the filter's field are refused: the filter would drop every event.
    await updateEndpoint(db, o.ctx, endpoint.id, { filter: [{ field: "data.company", op: "equals", value: "Acme" }] });
    await expect(updateEndpoint(db, o.ctx, endpoint.id, { event_types: ["invoice_paid"] })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "filter.0.field" }],
    });
    const patched = await updateEndpoint(db, o.ctx, endpoint.id, { filter: [] });
    expect(patched.filter).toBeNull();
    await createRecord(o.ctx, "client", { name: "Another lead", status: "lead" });
    expect(await deliveriesOf(endpoint.id)).toHaveLength(1);
  });
});

describe("duplicate-proof subscribe", () => {
  it("20 identical concurrent subscribes make one endpoint; the others get it back", async () => {
    const o = await newOrg();
    const input = { url: "http://127.0.0.1:9/zap", event_types: ["invoice_paid", "client_created"], filter: PAID_OVER_500 };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createEndpoint(db, o.ctx, i % 2 ? input : { ...input, event_types: ["client_created", "invoice_paid", "client_created"] }),
      ),
    );
    const rows = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, o.org.id));
    expect(rows).toHaveLength(1);
    expect(results.filter((r) => !r.existing)).toHaveLength(1);
    expect(new Set(results.map((r) => r.endpoint.id))).toEqual(new Set([rows[0]!.id]));
    expect(new Set(results.map((r) => r.secret)).size).toBe(1);
    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.orgId, o.org.id), eq(auditLog.action, "webhook_endpoint.resubscribed")));
    expect(audits).toHaveLength(19);

    // Another filter, other types, or another URL is another subscription.
    expect((await createEndpoint(db, o.ctx, { ...input, filter: null })).existing).toBe(false);
    expect((await createEndpoint(db, o.ctx, { ...input, event_types: ["invoice_paid"] })).existing).toBe(false);
    expect((await createEndpoint(db, o.ctx, { ...input, url: "http://127.0.0.1:9/zap2" })).existing).toBe(false);
    // A disabled endpoint is not handed back: the subscriber would receive nothing.
    await updateEndpoint(db, o.ctx, rows[0]!.id, { enabled: false });
    expect((await createEndpoint(db, o.ctx, input)).existing).toBe(false);
  });

  it("answers 201 for a new subscription and 200 with existing: true for the same one over the API", async () => {
    const o = await newOrg();
    const key = (await makeKey(db, o, ["admin"])).key;
    const body = { url: "http://127.0.0.1:9/n8n", event_types: ["client_created"], filter: [{ field: "data.status", op: "equals", value: "lead" }] };
    const first = await call(hooks.POST, { method: "POST", key, body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ existing: false, filter: body.filter });
    expectConforms(doc, "post", "/api/v1/webhooks", 201, first.body);
    const again = await Promise.all(Array.from({ length: 5 }, () => call(hooks.POST, { method: "POST", key, body })));
    for (const res of again) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: first.body.id, existing: true, secret: first.body.secret });
      expectConforms(doc, "post", "/api/v1/webhooks", 200, res.body);
    }
  });
});
