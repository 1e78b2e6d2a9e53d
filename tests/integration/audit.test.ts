import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { apiRequests, auditLog, connectorRuns, organizations, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { ORG_ACTIONS } from "@/lib/actions";
import { newId } from "@/lib/ids";
import { encrypt } from "@/lib/crypto/encryption";
import { generateSecret } from "@/lib/webhooks/signing";
import { createConnector } from "@/lib/connectors/connectors";
import { connectorRunsSettled, pumpConnectorRuns, runConnectorNow } from "@/lib/connectors/run";
import { flushRequestLog } from "@/lib/audit/request-log";
import { parseAuditFilter, queryAuditStream } from "@/lib/audit/query";
import { auditCsv } from "@/lib/audit/export";
import { enforceRetention } from "@/lib/audit/retention";
import * as records from "@/app/api/v1/records/[type]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import * as me from "@/app/api/v1/me/route";
import * as leads from "@/app/api/webhook/leads/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import { POST as inbound } from "@/app/api/inbound/[source]/route";
import * as imports from "@/app/api/v1/imports/route";
import * as importOne from "@/app/api/v1/imports/[id]/route";
import { createTestOrg, dropTestOrgs, useTestDb, uniq, type TestOrg } from "../helpers/db";
import { call, makeKey, randomIp, fromRandomIp } from "../helpers/api";
import { waitFor } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let org: TestOrg;
let other: TestOrg;
let keys: { id: string; key: string; prefix: string };
let feed: http.Server;
let feedUrl: string;

beforeAll(async () => {
  restoreEnv = allowPrivateUrls();
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  other = await createTestOrg(db, { plan: "business" });
  const made = await makeKey(db, org, ["admin"]);
  keys = { id: made.apiKey.id, key: made.key, prefix: made.apiKey.prefix };
  feed = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ items: [{ id: "feed-1", name: "From the feed" }] }));
  });
  await new Promise<void>((r) => feed.listen(0, "127.0.0.1", r));
  feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/items`;
});

afterAll(async () => {
  await new Promise((r) => feed.close(r));
  await dropTestOrgs(db, [org, other]);
  await handle.close();
  restoreEnv();
});

/** The database's own refusal, unwrapped from drizzle's "Failed query" error. */
async function refused(query: PromiseLike<unknown>): Promise<string> {
  try {
    await query;
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    return (cause ?? (err as Error)).message;
  }
  throw new Error("the database accepted the change");
}

const createdEntry = async (name: string) => {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, org.org.id), eq(auditLog.action, "client.created"), sql`${auditLog.after}->>'name' = ${name}`));
  expect(rows).toHaveLength(1);
  return { source: rows[0]!.source, actor: `${rows[0]!.actorType}:${rows[0]!.actorId}` };
};

describe("the audit trail", () => {
  it("names the source and the actor of a record created through each of the seven doors", async () => {
    // 1. The settings UI (a server action).
    const ui = await ORG_ACTIONS.createRecordAction.invoke(org.users.member.id, { org: org.org.slug, type: "client", "f.name": "Door UI" });
    expect(ui.ok).toBe(true);
    // 2. The REST API.
    expect((await call(records.POST, { method: "POST", key: keys.key, params: { type: "client" }, body: { name: "Door API" } })).status).toBe(201);
    // 3. Lead capture.
    expect(
      (await call(leads.POST, { method: "POST", key: keys.key, path: "/api/webhook/leads", body: { name: "Door Lead", email: "lead@door.test" } })).status,
    ).toBe(201);
    // 4. An inbound webhook.
    const src = (
      await call(sources.POST, {
        method: "POST",
        key: keys.key,
        body: { name: "Door shop", kind: "hmac_sha256_hex", mapping: { target: "client", external_id: "id", fields: { name: "name" } } },
      })
    ).body as { id: string; secret: string };
    const body = JSON.stringify({ id: "door-1", name: "Door Inbound" });
    const signed = await inbound(
      new Request(`http://127.0.0.1/api/inbound/${src.id}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-signature": createHmac("sha256", src.secret).update(body).digest("hex"), ...fromRandomIp() },
      }),
      { params: Promise.resolve({ source: src.id }) },
    );
    expect(signed.status).toBe(200);
    // 5. A pull connector.
    const connector = await createConnector(db, org.ctx, {
      name: "Door feed",
      url: feedUrl,
      interval_minutes: 60,
      records_path: "items",
      mapping: { target: "client", external_id: "id", fields: { name: { value: "Door Connector" } } },
    });
    const queued = await runConnectorNow(db, org.org.id, connector.id);
    await pumpConnectorRuns(db, { orgIds: [org.org.id] });
    await connectorRunsSettled();
    expect((await db.select().from(connectorRuns).where(eq(connectorRuns.id, queued.id)))[0]).toMatchObject({ status: "succeeded", created: 1 });
    // 6. A file import.
    const form = new FormData();
    form.set("type", "client");
    form.set("file", new Blob(["Name\nDoor Import\n"]), "door.csv");
    const upload = await imports.POST(
      new Request("http://127.0.0.1/api/v1/imports", { method: "POST", body: form, headers: { authorization: `Bearer ${keys.key}`, ...fromRandomIp() } }),
      { params: Promise.resolve({}) },
    );
    const job = (await upload.json()) as { id: string };
    await waitFor(
      async () => {
        const r = await importOne.GET(
          new Request(`http://127.0.0.1/api/v1/imports/${job.id}`, { headers: { authorization: `Bearer ${keys.key}`, ...fromRandomIp() } }),
          { params: Promise.resolve({ id: job.id }) },
        );
        return ((await r.json()) as { status: string }).status === "completed";
      },
      { what: "import" },
    );
    // 7. The bulk endpoint.
    expect(
      (
        await call(bulk.POST, {
          method: "POST",
          key: keys.key,
          params: { type: "client" },
          body: { records: [{ external_id: "door-bulk", name: "Door Bulk" }] },
        })
      ).status,
    ).toBe(200);

    expect(await createdEntry("Door UI")).toEqual({ source: "ui", actor: `user:${org.users.member.id}` });
    expect(await createdEntry("Door API")).toEqual({ source: "api", actor: `api_key:${keys.id}` });
    expect(await createdEntry("Door Lead")).toEqual({ source: "lead_capture", actor: `api_key:${keys.id}` });
    expect(await createdEntry("Door Inbound")).toEqual({ source: "inbound", actor: `inbound_source:${src.id}` });
    expect(await createdEntry("Door Connector")).toEqual({ source: "connector", actor: `connector:${connector.id}` });
    expect(await createdEntry("Door Import")).toEqual({ source: "import", actor: `import:${job.id}` });
    expect(await createdEntry("Door Bulk")).toEqual({ source: "api", actor: `api_key:${keys.id}` });
  });

  it("cannot be changed: updates, early deletes and truncation are refused, even with direct SQL", async () => {
    const [entry] = await db.select().from(auditLog).where(eq(auditLog.orgId, org.org.id)).limit(1);
    expect(await refused(db.update(auditLog).set({ action: "client.forged" }).where(eq(auditLog.id, entry!.id)))).toMatch(/append-only/);
    expect(await refused(db.delete(auditLog).where(eq(auditLog.id, entry!.id)))).toMatch(/append-only/);
    expect(await refused(db.execute(sql`truncate audit_log`))).toMatch(/append-only/);
    const [still] = await db.select().from(auditLog).where(eq(auditLog.id, entry!.id));
    expect(still).toEqual(entry);
  });

  it("logs API requests in batches: method, path without the query, status, key prefix, duration, address", async () => {
    await flushRequestLog(db); // what earlier tests left, and its timer
    const ip = randomIp();
    await call(me.GET, { key: keys.key, ip, path: "/api/v1/me?secret=hidden" });
    await call(records.GET, { key: keys.key, ip, params: { type: "unicorn" }, path: "/api/v1/records/unicorn" });
    await call(me.GET, { key: "sk_live_not_a_key", ip });
    expect(await db.select().from(apiRequests).where(eq(apiRequests.ip, ip))).toHaveLength(0); // not written on the request's path
    await flushRequestLog(db);
    const rows = await db.select().from(apiRequests).where(eq(apiRequests.ip, ip));
    expect(rows.map((r) => [r.method, r.path, r.status, r.keyPrefix, r.orgId]).sort()).toEqual(
      [
        // /me takes no query parameters (400), and the logged path leaves the query out.
        ["GET", "/api/v1/me", 400, keys.prefix, org.org.id],
        ["GET", "/api/v1/records/unicorn", 404, keys.prefix, org.org.id],
      ].sort(),
    );
    expect(rows.every((r) => r.durationMs >= 0 && r.id.startsWith("req_"))).toBe(true);
    expect(await refused(db.update(apiRequests).set({ status: 200 }).where(eq(apiRequests.ip, ip)))).toMatch(/append-only/);
  });

  it("filters by kind, actor, action, target, source, date and free text, and pages without gaps", async () => {
    const stream = (q: Record<string, string>, cursor?: string | null, limit?: number) =>
      queryAuditStream(db, org.org.id, parseAuditFilter(q), { cursor, limit });
    const leadEntries = await stream({ source: "lead_capture" });
    expect(leadEntries.entries.map((e) => e.action).sort()).toEqual(["api.request", "client.created"]);
    expect((await stream({ kind: "requests" })).entries.every((e) => e.action === "api.request")).toBe(true);
    expect((await stream({ actor: `user:${org.users.member.id}` })).entries.map((e) => e.after?.name)).toEqual(["Door UI"]);
    expect((await stream({ actor: "connector" })).entries.map((e) => e.action)).toEqual(["client.created"]);
    expect((await stream({ action: "inbound_source" })).entries.map((e) => e.action)).toEqual(["inbound_source.created"]);
    expect((await stream({ kind: "changes", q: "door import" })).entries).toHaveLength(1);
    const clientId = (await stream({ q: "Door Bulk", kind: "changes" })).entries[0]!.targetId!;
    expect((await stream({ target_type: "client", target_id: clientId })).entries).toHaveLength(1);
    const today = new Date().toISOString().slice(0, 10);
    expect((await stream({ from: today, to: today, kind: "changes" })).entries.length).toBeGreaterThanOrEqual(7);
    expect((await stream({ to: "2020-01-01" })).entries).toHaveLength(0);
    // Another org's entries never show up.
    expect((await queryAuditStream(db, other.org.id, parseAuditFilter({}))).entries).toHaveLength(0);

    const all = await stream({}, null, 1000);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await stream({}, cursor, 3);
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.entries.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);

    expect(() => parseAuditFilter({ source: "fax" })).toThrow(/Invalid audit log filter/);
    await expect(stream({}, "not-a-cursor")).rejects.toMatchObject({ code: "validation_failed" });
  });

  it("exports the filtered view as CSV", async () => {
    const csv = await auditCsv(db, org.org.id, parseAuditFilter({ kind: "changes" }));
    const lines = csv.trim().split("\n");
    expect(lines[0]).toBe("time,kind,actor_type,actor_id,actor,source,action,target_type,target_id,summary,before,after");
    expect(lines.slice(1).every((l) => l.includes(",changes,"))).toBe(true);
    expect(csv).toContain("Door Connector");
  });

  it("keeps entries for the org's retention, then lets the scheduled job remove them", async () => {
    const old = new Date(Date.now() - 100 * 86_400_000);
    const recent = new Date(Date.now() - 20 * 86_400_000);
    const ids = { oldAudit: newId("aud"), recentAudit: newId("aud"), oldRequest: newId("req"), recentRequest: newId("req") };
    await db.insert(auditLog).values([
      { id: ids.oldAudit, orgId: org.org.id, actorType: "system", source: "system", action: "test.old", targetType: "test", createdAt: old },
      { id: ids.recentAudit, orgId: org.org.id, actorType: "system", source: "system", action: "test.recent", targetType: "test", createdAt: recent },
    ]);
    await db.insert(apiRequests).values([
      { id: ids.oldRequest, orgId: org.org.id, method: "GET", path: "/old", status: 200, durationMs: 1, createdAt: new Date(Date.now() - 31 * 86_400_000) },
      { id: ids.recentRequest, orgId: org.org.id, method: "GET", path: "/recent", status: 200, durationMs: 1, createdAt: recent },
    ]);
    const endpointId = newId("we");
    await db.insert(webhookEndpoints).values({
      id: endpointId,
      orgId: org.org.id,
      url: "https://receiver.example/h",
      secretCiphertext: encrypt(generateSecret(), { orgId: org.org.id, column: "webhook_endpoints.secret" }),
    });
    const oldEvent = newId("evt");
    await db
      .insert(webhookEvents)
      .values({ id: oldEvent, orgId: org.org.id, type: "client_created", recordType: "client", recordId: "cli_x", data: {}, createdAt: old });
    await db.insert(webhookDeliveries).values({ id: newId("dlv"), orgId: org.org.id, eventId: oldEvent, endpointId, status: "succeeded", createdAt: old });
    // An early delete of the old row is still refused for the recent one.
    expect(await refused(db.delete(auditLog).where(eq(auditLog.id, ids.recentAudit)))).toMatch(/append-only/);

    const result = await enforceRetention(db);
    expect(result.auditEntries).toBeGreaterThanOrEqual(1);
    const left = async (id: string) => (await db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.id, id))).length;
    expect(await left(ids.oldAudit)).toBe(0);
    expect(await left(ids.recentAudit)).toBe(1);
    expect((await db.select().from(apiRequests).where(eq(apiRequests.orgId, org.org.id))).map((r) => r.path)).not.toContain("/old");
    expect(await db.select().from(apiRequests).where(eq(apiRequests.id, ids.recentRequest))).toHaveLength(1);
    expect(await db.select().from(webhookEvents).where(eq(webhookEvents.id, oldEvent))).toHaveLength(0);

    // A shorter retention, set by an owner, applies at the next run (and is itself audited).
    const set = await ORG_ACTIONS.updateAuditRetentionAction.invoke(org.users.owner.id, { org: org.org.slug, auditDays: "30", requestDays: "7" });
    expect(set.ok).toBe(true);
    await enforceRetention(db);
    expect(await left(ids.recentAudit)).toBe(1); // 20 days < 30
    expect(await db.select().from(apiRequests).where(eq(apiRequests.id, ids.recentRequest))).toHaveLength(0); // 20 days > 7
    const tooShort = await ORG_ACTIONS.updateAuditRetentionAction.invoke(org.users.owner.id, { org: org.org.slug, auditDays: "3", requestDays: "7" });
    expect(tooShort).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    const asAdmin = await ORG_ACTIONS.updateAuditRetentionAction.invoke(org.users.admin.id, { org: org.org.slug, auditDays: "365", requestDays: "30" });
    expect(asAdmin).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const [o] = await db.select().from(organizations).where(eq(organizations.id, org.org.id));
    expect(o).toMatchObject({ auditRetentionDays: 30, requestLogRetentionDays: 7 });
  });

  it("goes with its organization when the organization itself is deleted", async () => {
    const doomed = await createTestOrg(db, { name: uniq("Doomed") });
    await ORG_ACTIONS.createRecordAction.invoke(doomed.users.owner.id, { org: doomed.org.slug, type: "client", "f.name": "Short-lived" });
    expect((await db.select().from(auditLog).where(eq(auditLog.orgId, doomed.org.id))).length).toBeGreaterThan(0);
    await dropTestOrgs(db, [doomed]);
    expect(await db.select().from(auditLog).where(eq(auditLog.orgId, doomed.org.id))).toHaveLength(0);
  });
});
