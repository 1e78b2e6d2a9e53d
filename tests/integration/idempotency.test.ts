import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { clients, idempotencyKeys, imports, webhookDeliveries, webhookEvents } from "@/db/schema";
import { createRule } from "@/lib/workflows/rules";
import { resetEnvCache } from "@/lib/env";
import { newId } from "@/lib/ids";
import { createRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { createConnector } from "@/lib/connectors/connectors";
import { createSource } from "@/lib/inbound/sources";
import { afterWorkSettled } from "@/lib/http/after";
import { connectorRunsSettled } from "@/lib/connectors/run";
import * as records from "@/app/api/v1/records/[type]/route";
import * as webhookTest from "@/app/api/v1/webhooks/[id]/test/route";
import { call, makeKey } from "../helpers/api";
import { withTestOrg } from "../helpers/fixture";
import { startReceiver } from "../helpers/receiver";
import { API_ROUTES, type ProbeIds } from "../helpers/routes";

/**
 * Idempotency-Key on every POST of the API: a retry gets the first answer (marked as a replay)
 * and writes nothing; the key with another request is refused; a retry racing the first is
 * refused until the first has answered; keys are per organization, bounded, and kept 24 hours.
 */
const t = withTestOrg({ plan: "business", scopes: ["admin", "read", "write", "bulk"] });
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let ids: ProbeIds;

beforeAll(async () => {
  process.env.SMARFLE_ALLOW_PRIVATE_URLS = "1";
  resetEnvCache();
  // The receiver takes a while to answer, so a retry can arrive while the first request runs.
  receiver = await startReceiver(() => ({ status: 200, delayMs: 600 }));
  const ctx = t.org.ctx;
  ids = {
    recordId: (await createRecord(ctx, "client", { name: "Idem record" })).id,
    endpointId: (await createEndpoint(t.db, ctx, { url: receiver.url })).endpoint.id,
    sourceId: (await createSource(t.db, ctx, { name: "Idem source", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } })).source.id,
    connectorId: (
      await createConnector(t.db, ctx, { name: "Idem feed", url: receiver.url, interval_minutes: 60, mapping: { target: "client", fields: { name: "n" } } })
    ).id,
    importId: newId("imp"),
    deliveryId: newId("dlv"),
    ruleId: (await createRule(t.db, ctx, { name: "Idem rule", record_type: "client", trigger: "created", actions: [{ type: "notify", title: "Idem" }] }, null))
      .id,
  };
  await t.db
    .insert(imports)
    .values({ id: ids.importId, orgId: t.org.org.id, recordType: "client", filename: "done.csv", format: "csv", status: "completed", finishedAt: new Date() });
  const eventId = newId("evt");
  await t.db
    .insert(webhookEvents)
    .values({ id: eventId, orgId: t.org.org.id, type: "client_created", recordType: "client", recordId: ids.recordId, data: { id: ids.recordId } });
  await t.db.insert(webhookDeliveries).values({ id: ids.deliveryId, orgId: t.org.org.id, eventId, endpointId: ids.endpointId, status: "failed" });
});

afterAll(async () => {
  await connectorRunsSettled();
  await afterWorkSettled();
  await receiver?.close();
  delete process.env.SMARFLE_ALLOW_PRIVATE_URLS;
  resetEnvCache();
});

type Handler = (req: Request, route: { params: Promise<Record<string, string>> }) => Promise<Response>;
interface Multipart {
  multipart: Uint8Array<ArrayBuffer>;
  type: string;
}
const isMultipart = (body: unknown): body is Multipart => typeof body === "object" && body !== null && "multipart" in body;

/** A POST as a client sends it; multipart for the imports route. */
async function post(handler: Handler, path: string, params: Record<string, string>, body: unknown, idempotencyKey: string | null, key = t.key) {
  const headers = new Headers({ authorization: `Bearer ${key}` });
  if (idempotencyKey !== null) headers.set("idempotency-key", idempotencyKey);
  let payload: BodyInit | undefined;
  if (isMultipart(body)) {
    payload = body.multipart;
    headers.set("content-type", body.type);
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set("content-type", "application/json");
  }
  const res = await handler(new Request(`http://127.0.0.1${path}`, { method: "POST", headers, body: payload }), { params: Promise.resolve(params) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** A multipart upload as bytes: a client's retry sends the same bytes, boundary included. */
async function importUpload(): Promise<Multipart> {
  const form = new FormData();
  form.set("type", "client");
  form.set("file", new Blob(["Name\nImported once\n"]), "clients.csv");
  const encoded = new Response(form);
  return { multipart: new Uint8Array(await encoded.arrayBuffer()), type: encoded.headers.get("content-type")! };
}

const urlOf = (path: string, params: Record<string, string>) => path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);
const count = async (name: string) =>
  (
    await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.name, name)))
  ).length;

describe("Idempotency-Key on every POST of the API", () => {
  it.each(API_ROUTES.filter((r) => r.method === "POST").map((r) => [r.path, r] as const))(
    "POST %s answers a retry with the first answer, marked as a replay",
    async (path, route) => {
      const params = route.params(ids);
      const body = path === "/api/v1/imports" ? await importUpload() : path === "/api/v1/workflows/{id}/test" ? { record_id: ids.recordId } : route.body;
      const idem = `retry-${newId("req")}`;
      const first = await post(route.handler, urlOf(path, params), params, body, idem);
      expect(first.status, JSON.stringify(first.body)).toBeLessThan(300);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      const again = await post(route.handler, urlOf(path, params), params, body, idem);
      expect(again.status).toBe(first.status);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
    },
  );

  it("keeps answers encrypted: a new endpoint's secret is replayed but never stored in the clear", async () => {
    const route = API_ROUTES.find((r) => r.method === "POST" && r.path === "/api/v1/webhooks")!;
    const idem = `sealed-${newId("req")}`;
    const body = { url: `${receiver.url}/sealed`, event_types: ["invoice_paid"] };
    const first = await post(route.handler, "/api/v1/webhooks", {}, body, idem);
    expect(first.status).toBe(201);
    const secret = String(first.body.secret);
    expect(secret).toMatch(/^whsec_/);
    const [row] = await t.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.orgId, t.org.org.id), eq(idempotencyKeys.key, idem)));
    expect(JSON.stringify(row!.responseBody)).not.toContain(secret);
    const again = await post(route.handler, "/api/v1/webhooks", {}, body, idem);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.secret).toBe(secret);
  });

  it("writes once: one record, one import, one test event sent", async () => {
    const idem = `once-${newId("req")}`;
    for (let i = 0; i < 3; i++) await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Written once" }, idem);
    expect(await count("Written once")).toBe(1);
    const before = (await t.db.select().from(imports).where(eq(imports.orgId, t.org.org.id))).length;
    const importRoute = API_ROUTES.find((r) => r.method === "POST" && r.path === "/api/v1/imports")!;
    const upload = await importUpload();
    for (let i = 0; i < 2; i++) expect((await post(importRoute.handler, "/api/v1/imports", {}, upload, "import-once")).status).toBe(202);
    expect((await t.db.select().from(imports).where(eq(imports.orgId, t.org.org.id))).length).toBe(before + 1);
  });

  it("refuses the key with another body or on another route (409 idempotency_key_reused), writing nothing", async () => {
    const idem = `reuse-${newId("req")}`;
    expect((await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Reuse A" }, idem)).status).toBe(201);
    const other = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Reuse B" }, idem);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "idempotency_key_reused", request_id: expect.stringMatching(/^req_/) });
    const elsewhere = await post(records.POST as Handler, "/api/v1/records/opportunity", { type: "opportunity" }, { name: "Reuse A" }, idem);
    expect(elsewhere.body.error).toMatchObject({ code: "idempotency_key_reused" });
    expect(await count("Reuse B")).toBe(0);
  });

  it("refuses a retry racing the first with 409 idempotency_key_in_use and Retry-After, then replays the answer", async () => {
    const idem = `race-${newId("req")}`;
    const sentBefore = receiver.received.length;
    const params = { id: ids.endpointId };
    const first = post(webhookTest.POST as Handler, `/api/v1/webhooks/${ids.endpointId}/test`, params, { event_type: "client_created" }, idem);
    await new Promise((r) => setTimeout(r, 250));
    const racing = await post(webhookTest.POST as Handler, `/api/v1/webhooks/${ids.endpointId}/test`, params, { event_type: "client_created" }, idem);
    expect(racing.status).toBe(409);
    expect(racing.body.error).toMatchObject({ code: "idempotency_key_in_use" });
    expect(racing.headers.get("retry-after")).toBe("1");
    const answered = await first;
    expect(answered).toMatchObject({ status: 200, body: { succeeded: true } });
    const retried = await post(webhookTest.POST as Handler, `/api/v1/webhooks/${ids.endpointId}/test`, params, { event_type: "client_created" }, idem);
    expect(retried.body).toEqual(answered.body);
    expect(receiver.received.length - sentBefore).toBe(1);
  });

  it("concurrent requests with one key create one record", async () => {
    const idem = `burst-${newId("req")}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Burst once" }, idem)),
    );
    for (const a of answers) expect(a.status === 201 || (a.status === 409 && (a.body.error as { code: string }).code === "idempotency_key_in_use")).toBe(true);
    expect(answers.filter((a) => a.status === 201 && a.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    expect(await count("Burst once")).toBe(1);
  });

  it("keeps no answer for a refused request, so the corrected retry runs", async () => {
    const idem = `fix-${newId("req")}`;
    const bad = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { email: "not-an-email" }, idem);
    expect(bad.status).toBe(400);
    const fixed = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Fixed retry" }, idem);
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
  });

  it("scopes keys per organization and refuses a key over 255 characters, writing nothing", async () => {
    const other = await t.anotherOrg();
    const otherKey = (await makeKey(t.db, other, ["write"])).key;
    const idem = `shared-${newId("req")}`;
    const mine = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Org one" }, idem);
    const theirs = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Org two" }, idem, otherKey);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);

    const long = await call(records.POST, {
      method: "POST",
      key: t.key,
      params: { type: "client" },
      body: { name: "Too long key" },
      headers: { "idempotency-key": "k".repeat(256) },
    });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: "validation_failed", details: [{ path: "Idempotency-Key" }] });
    expect(await count("Too long key")).toBe(0);
  });

  it("forgets a key after 24 hours, and a claim whose request never finished after 10 minutes", async () => {
    const idem = `old-${newId("req")}`;
    await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Day old" }, idem);
    const key = and(eq(idempotencyKeys.orgId, t.org.org.id), eq(idempotencyKeys.key, idem));
    await t.db
      .update(idempotencyKeys)
      .set({ createdAt: sql`now() - interval '25 hours'` })
      .where(key);
    const later = await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "Day old" }, idem);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(await count("Day old")).toBe(2);

    const stuck = `stuck-${newId("req")}`;
    await t.db
      .insert(idempotencyKeys)
      .values({ orgId: t.org.org.id, scope: "api", key: stuck, requestHash: "claim:crashed", createdAt: new Date(Date.now() - 11 * 60_000) });
    expect((await post(records.POST as Handler, "/api/v1/records/client", { type: "client" }, { name: "After a crash" }, stuck)).status).toBe(201);
  });
});
