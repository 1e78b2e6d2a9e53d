import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditLog, clients } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { revokeApiKey } from "@/lib/api-keys/keys";
import { createRecord } from "@/lib/records/pipeline";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";
import { createSource } from "@/lib/inbound/sources";
import { connectors, imports, inboundSources } from "@/db/schema";
import { webhookDeliveries, webhookEndpoints, webhookEvents, workflowRules } from "@/db/schema";
import { createRule } from "@/lib/workflows/rules";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { API_ROUTES } from "../helpers/routes";

/**
 * The shared security suite: every authenticated API route, with no key, a wrong key, a revoked
 * key, a key lacking the route's scope, and a valid key of another organization aimed at this
 * organization's record. None may answer 2xx, and none may write.
 */
let handle: DbHandle;
let db: Db;
let a: TestOrg;
let b: TestOrg;
let bRecordId: string;
let bEndpointId: string;
let bSourceId: string;
let bConnectorId: string;
let bImportId: string;
let bDeliveryId: string;
let bRuleId: string;
let aAdminKey: string;
let revokedKey: string;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  a = await createTestOrg(db, { plan: "business" });
  b = await createTestOrg(db, { plan: "business" });
  bRecordId = (await createRecord(b.ctx, "client", { name: "Only B may see me" })).id;
  aAdminKey = (await makeKey(db, a, ["admin"])).key;
  bEndpointId = newId("we");
  await db.insert(webhookEndpoints).values({
    id: bEndpointId,
    orgId: b.org.id,
    url: "https://b.example/hook",
    secretCiphertext: encrypt(generateSecret(), { orgId: b.org.id, column: "webhook_endpoints.secret" }),
  });
  bConnectorId = newId("con");
  await db.insert(connectors).values({
    id: bConnectorId,
    orgId: b.org.id,
    name: "B feed",
    url: "https://b.example/feed",
    intervalMinutes: 60,
    pagination: { type: "none" },
    mapping: { target: "client", fields: { name: "n" } },
  });
  bImportId = newId("imp");
  await db.insert(imports).values({ id: bImportId, orgId: b.org.id, recordType: "client", filename: "b.csv", format: "csv", status: "completed" });
  bRuleId = (await createRule(db, b.ctx, { name: "B rule", record_type: "client", trigger: "created", actions: [{ type: "notify", title: "B" }] }, null)).id;
  const bEvent = newId("evt");
  await db
    .insert(webhookEvents)
    .values({ id: bEvent, orgId: b.org.id, type: "client_created", recordType: "client", recordId: bRecordId, data: { id: bRecordId } });
  bDeliveryId = newId("dlv");
  await db.insert(webhookDeliveries).values({ id: bDeliveryId, orgId: b.org.id, eventId: bEvent, endpointId: bEndpointId, status: "failed" });
  bSourceId = (await createSource(db, b.ctx, { name: "B source", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } })).source.id;
  const revoked = await makeKey(db, b, ["admin"]);
  await revokeApiKey(db, b.ctx, revoked.apiKey.id);
  revokedKey = revoked.key;
});

afterAll(async () => {
  await dropTestOrgs(db, [a, b]);
  await handle.close();
});

async function writesInB() {
  const [c] = await db.select().from(clients).where(eq(clients.id, bRecordId));
  const audit = await db.select().from(auditLog).where(eq(auditLog.orgId, b.org.id));
  const endpoints = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, b.org.id));
  const srcs = await db.select().from(inboundSources).where(eq(inboundSources.orgId, b.org.id));
  const cons = await db.select().from(connectors).where(eq(connectors.orgId, b.org.id));
  const rules = await db.select().from(workflowRules).where(eq(workflowRules.orgId, b.org.id));
  const deliveries = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.orgId, b.org.id));
  return {
    rules: JSON.stringify(rules),
    deliveries: JSON.stringify(deliveries),
    client: JSON.stringify(c),
    audit: audit.length,
    clients: (await db.select().from(clients).where(eq(clients.orgId, b.org.id))).length,
    endpoints: JSON.stringify(endpoints),
    sources: JSON.stringify(srcs),
    connectors: JSON.stringify(cons),
  };
}

describe.each(API_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_name, route) => {
  const send = (key: string | null) =>
    call(route.handler, {
      method: route.method,
      key,
      body: route.body,
      params: route.params({
        recordId: bRecordId,
        endpointId: bEndpointId,
        sourceId: bSourceId,
        connectorId: bConnectorId,
        importId: bImportId,
        deliveryId: bDeliveryId,
        ruleId: bRuleId,
      }),
    });

  it("refuses a missing, wrong or revoked key with 401", async () => {
    const before = await writesInB();
    for (const key of [null, "sk_live_wrong", `sk_live_${"x".repeat(43)}`, revokedKey]) {
      const res = await send(key);
      expect(res.status).toBe(401);
      expect((res.body.error as { code: string }).code).toBe("unauthorized");
    }
    expect(await writesInB()).toEqual(before);
  });

  it("refuses a key without the route's scope with 403 insufficient_scope", async () => {
    const others = ["read", "write", "delete", "bulk", "leads"].filter((s) => s !== route.scope);
    const { key } = await makeKey(db, b, others);
    const before = await writesInB();
    const res = await send(key);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "insufficient_scope" });
    expect(await writesInB()).toEqual(before);
  });

  it("never lets another organization's key reach this organization's records", async () => {
    const before = await writesInB();
    const res = await send(aAdminKey);
    if (route.path.includes("{id}") && !(route.path === "/api/v1/webhooks/{id}" && route.method === "DELETE")) {
      expect(res.status).toBe(404);
      expect((res.body.error as { code: string }).code).toBe("not_found");
    } else if (route.method === "GET") {
      // Lists and /me answer with org A's own data only.
      expect(JSON.stringify(res.body)).not.toContain(bRecordId);
      expect(JSON.stringify(res.body)).not.toContain(bEndpointId);
      expect(JSON.stringify(res.body)).not.toContain(bSourceId);
      expect(JSON.stringify(res.body)).not.toContain(bConnectorId);
      expect(JSON.stringify(res.body)).not.toContain(bRuleId);
      expect(JSON.stringify(res.body)).not.toContain(bDeliveryId);
    }
    expect(await writesInB()).toEqual(before);
  });
});
