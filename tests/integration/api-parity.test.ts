import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { auditLog, webhookDeliveries, workflowRules } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { createRecord } from "@/lib/records/pipeline";
import { attemptDelivery } from "@/lib/webhooks/deliver";
import * as hooks from "@/app/api/v1/webhooks/route";
import * as deliveries from "@/app/api/v1/webhooks/[id]/deliveries/route";
import * as recover from "@/app/api/v1/webhooks/[id]/recover/route";
import * as preview from "@/app/api/v1/webhooks/preview-filter/route";
import * as delivery from "@/app/api/v1/deliveries/[id]/route";
import * as redeliver from "@/app/api/v1/deliveries/[id]/redeliver/route";
import * as workflows from "@/app/api/v1/workflows/route";
import * as workflow from "@/app/api/v1/workflows/[id]/route";
import * as workflowTest from "@/app/api/v1/workflows/[id]/test/route";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { startReceiver } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";
import { expectConforms, loadDocument, type OpenApiDoc } from "../helpers/openapi";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let doc: OpenApiDoc;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  restoreEnv = allowPrivateUrls({ WEBHOOK_RETRY_SCHEDULE: "0" });
  handle = await useTestDb();
  db = handle.db;
  doc = await loadDocument();
});

afterAll(async () => {
  await dropTestOrgs(db, orgs);
  await handle.close();
  restoreEnv();
});

async function newOrg(plan: "starter" | "business" = "business") {
  const o = await createTestOrg(db, { plan });
  orgs.push(o);
  return { ...o, key: (await makeKey(db, o, ["admin"])).key };
}

/** Runs every pending delivery of an org once, as the worker would. */
async function attemptAll(orgId: string) {
  const pending = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.status, "pending")));
  for (const d of pending) await attemptDelivery(db, d.id);
}

describe("the delivery log over the API", () => {
  it("lists, filters and pages deliveries, shows each attempt exactly, re-delivers one and recovers every failure since", async () => {
    const o = await newOrg();
    let failing = true;
    const r = await startReceiver(() => (failing ? { status: 500, body: "down for maintenance" } : { status: 200 }));
    try {
      const made = await call(hooks.POST, { method: "POST", key: o.key, body: { url: r.url, event_types: ["client_created"] } });
      const endpointId = made.body.id as string;
      for (let i = 0; i < 3; i++) await createRecord(o.ctx, "client", { name: `Log ${i}` });
      await attemptAll(o.org.id);

      const page1 = await call(deliveries.GET, {
        key: o.key,
        params: { id: endpointId },
        path: `/api/v1/webhooks/${endpointId}/deliveries?status=failed&event_type=client_created&limit=2`,
      });
      expect(page1.status).toBe(200);
      expectConforms(doc, "get", "/api/v1/webhooks/{id}/deliveries", 200, page1.body);
      expect(page1.body).toMatchObject({ has_more: true });
      const page2 = await call(deliveries.GET, {
        key: o.key,
        params: { id: endpointId },
        path: `/api/v1/webhooks/${endpointId}/deliveries?status=failed&limit=2&cursor=${page1.body.next_cursor}`,
      });
      const ids = [...(page1.body.data as { id: string }[]), ...(page2.body.data as { id: string }[])].map((d) => d.id);
      expect(new Set(ids).size).toBe(3);
      expect(
        (await call(deliveries.GET, { key: o.key, params: { id: endpointId }, path: `/api/v1/webhooks/${endpointId}/deliveries?status=succeeded` })).body.data,
      ).toEqual([]);
      const bad = await call(deliveries.GET, { key: o.key, params: { id: endpointId }, path: `/api/v1/webhooks/${endpointId}/deliveries?state=failed` });
      expect(bad.status).toBe(400);

      const one = await call(delivery.GET, { key: o.key, params: { id: ids[0]! } });
      expectConforms(doc, "get", "/api/v1/deliveries/{id}", 200, one.body);
      const attempt = (one.body.attempts as { request: { headers: Record<string, string>; body: string }; response: { status: number; body: string } }[])[0]!;
      const sent = r.received.find((x) => x.headers["webhook-id"] === attempt.request.headers["webhook-id"])!;
      expect(attempt.request.body).toBe(sent.body);
      expect(attempt.request.headers["webhook-signature"]).toBe(sent.headers["webhook-signature"]);
      expect(attempt.response).toMatchObject({ status: 500, body: "down for maintenance" });
      expect(new Webhook(made.body.secret as string).verify(attempt.request.body, attempt.request.headers)).toMatchObject({ type: "client_created" });

      failing = false;
      const again = await call(redeliver.POST, { method: "POST", key: o.key, params: { id: ids[0]! } });
      expect(again.status).toBe(202);
      expectConforms(doc, "post", "/api/v1/deliveries/{id}/redeliver", 202, again.body);
      const recovered = await call(recover.POST, {
        method: "POST",
        key: o.key,
        params: { id: endpointId },
        body: { since: new Date(Date.now() - 3600_000).toISOString() },
      });
      expect(recovered.status).toBe(202);
      expect(recovered.body).toMatchObject({ object: "webhook_recovery", queued: 3 });
      await attemptAll(o.org.id);
      const ok = await call(deliveries.GET, { key: o.key, params: { id: endpointId }, path: `/api/v1/webhooks/${endpointId}/deliveries?status=succeeded` });
      expect((ok.body.data as unknown[]).length).toBe(4);
      const audits = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, o.org.id), eq(auditLog.action, "webhook_delivery.redelivered")));
      expect(audits.map((a) => a.source)).toEqual(["api", "api"]);

      expect((await call(recover.POST, { method: "POST", key: o.key, params: { id: endpointId }, body: { since: "yesterday" } })).status).toBe(400);
      expect((await call(delivery.GET, { key: o.key, params: { id: "dlv_doesNotExist000" } })).status).toBe(404);
    } finally {
      await r.close();
    }
  });

  it("previews a filter over the API and pages the endpoint list", async () => {
    const o = await newOrg();
    const paid = await createRecord(o.ctx, "client", { name: "Active one", status: "active" });
    await createRecord(o.ctx, "client", { name: "A lead", status: "lead" });
    const res = await call(preview.POST, {
      method: "POST",
      key: o.key,
      body: { event_types: ["client_created"], filter: [{ field: "data.status", op: "equals", value: "active" }] },
    });
    expect(res.status).toBe(200);
    expectConforms(doc, "post", "/api/v1/webhooks/preview-filter", 200, res.body);
    expect(res.body).toMatchObject({ examined: 2, matched: 1 });
    const [eventId] = res.body.event_ids as string[];
    expect(eventId).toMatch(/^evt_/);
    expect(JSON.stringify(res.body.events)).toContain(eventId!);
    expect(paid.id).toBeTruthy();

    for (let i = 0; i < 3; i++) await call(hooks.POST, { method: "POST", key: o.key, body: { url: `http://127.0.0.1:9/page${i}` } });
    const first = await call(hooks.GET, { key: o.key, path: "/api/v1/webhooks?limit=2" });
    expect(first.body).toMatchObject({ has_more: true });
    const second = await call(hooks.GET, { key: o.key, path: `/api/v1/webhooks?limit=2&cursor=${first.body.next_cursor}` });
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    const urls = [...(first.body.data as { url: string }[]), ...(second.body.data as { url: string }[])].map((e) => e.url).sort();
    expect(urls).toEqual(["http://127.0.0.1:9/page0", "http://127.0.0.1:9/page1", "http://127.0.0.1:9/page2"]);
  });
});

describe("workflow rules over the API", () => {
  const rule = {
    name: "Welcome",
    record_type: "client",
    trigger: "created",
    conditions: [{ field: "status", op: "equals", value: "lead" }],
    actions: [{ type: "notify", title: "New lead {{name}}" }],
  };

  it("creates, reads, changes, dry-runs and deletes a rule, with the UI's validation and audit entries", async () => {
    const o = await newOrg();
    const created = await call(workflows.POST, { method: "POST", key: o.key, body: rule });
    expect(created.status).toBe(201);
    expectConforms(doc, "post", "/api/v1/workflows", 201, created.body);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ enabled: false, record_type: "client" });

    const listed = await call(workflows.GET, { key: o.key, path: "/api/v1/workflows" });
    expectConforms(doc, "get", "/api/v1/workflows", 200, listed.body);
    expect((listed.body.data as { id: string }[]).map((r) => r.id)).toEqual([id]);

    const patched = await call(workflow.PATCH, { method: "PATCH", key: o.key, params: { id }, body: { enabled: true, name: "Welcome leads" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: true, name: "Welcome leads", conditions: rule.conditions });
    const badField = await call(workflow.PATCH, {
      method: "PATCH",
      key: o.key,
      params: { id },
      body: { conditions: [{ field: "shoe_size", op: "equals", value: 9 }] },
    });
    expect(badField.status).toBe(400);
    expect(JSON.stringify(badField.body)).toContain("conditions.0.field");
    const unknown = await call(workflow.PATCH, { method: "PATCH", key: o.key, params: { id }, body: { enable: true } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain("did you mean `enabled`?");

    const lead = await createRecord(o.ctx, "client", { name: "Lou", status: "lead" });
    const dry = await call(workflowTest.POST, { method: "POST", key: o.key, params: { id }, body: { record_id: lead.id } });
    expect(dry.status).toBe(200);
    expectConforms(doc, "post", "/api/v1/workflows/{id}/test", 200, dry.body);
    expect(dry.body).toMatchObject({ would_fire: true, actions: ['notify members: "New lead {{name}}" — reads "New lead Lou"'] });

    const gone = await call(workflow.DELETE, { method: "DELETE", key: o.key, params: { id } });
    expect(gone.body).toMatchObject({ id, deleted: true });
    expect((await call(workflow.GET, { key: o.key, params: { id } })).status).toBe(404);
    const actions = (
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, o.org.id), eq(auditLog.targetId, id)))
    )
      .map((a) => `${a.action}:${a.source}`)
      .sort();
    expect(actions).toEqual(["workflow_rule.created:api", "workflow_rule.deleted:api", "workflow_rule.updated:api"]);
  });

  it("refuses a rule beyond the plan's quota, and an invalid one, writing nothing", async () => {
    const o = await newOrg("starter");
    for (let i = 0; i < 10; i++) expect((await call(workflows.POST, { method: "POST", key: o.key, body: { ...rule, name: `R${i}` } })).status).toBe(201);
    const over = await call(workflows.POST, { method: "POST", key: o.key, body: rule });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: "plan_limit_reached" });
    const invalid = await call(workflows.POST, { method: "POST", key: o.key, body: { ...rule, actions: [] } });
    expect(invalid.status).toBe(400);
    expect(await db.select().from(workflowRules).where(eq(workflowRules.orgId, o.org.id))).toHaveLength(10);
  });
});
