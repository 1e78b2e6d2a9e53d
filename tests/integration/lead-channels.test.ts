import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { clients, inboundRequests, inboundSources, leadCaptures, metaLeadFetches, notifications } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { GET as handshake, POST as inbound } from "@/app/api/inbound/[source]/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import { afterWorkSettled } from "@/lib/http/after";
import { pumpMetaFetches } from "@/lib/leads/meta";
import { newId } from "@/lib/ids";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey, fromRandomIp } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let key: string;
let restoreEnv: () => void;
let graph: http.Server;
/** How the Graph stand-in answers: per call, in order; then `ok`. */
let graphScript: ("fail" | "hang" | "ok")[] = [];
const graphCalls: string[] = [];

beforeAll(async () => {
  graph = http.createServer((req, res) => {
    graphCalls.push(req.url!);
    const step = req.url!.includes("access_token=EAAB-hang") ? "hang" : (graphScript.shift() ?? "ok");
    if (step === "hang") return; // never answers
    if (step === "fail") {
      res.writeHead(500, { "content-type": "application/json" });
      return res.end('{"error":{"message":"temporarily unavailable"}}');
    }
    const id = req.url!.split("?")[0]!.split("/").pop();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        created_time: "2026-12-01T10:00:00+0000",
        field_data: [
          { name: "full_name", values: ["Mia Meta"] },
          { name: "email", values: [`mia-${id}@example.com`] },
          { name: "phone_number", values: ["+15550101234"] },
          { name: "which_service?", values: ["window cleaning"] },
        ],
      }),
    );
  });
  await new Promise<void>((r) => graph.listen(0, "127.0.0.1", r));
  restoreEnv = allowPrivateUrls({ META_GRAPH_URL: `http://127.0.0.1:${(graph.address() as AddressInfo).port}/v21.0` });
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
  key = (await makeKey(db, org, ["admin"])).key;
});

afterAll(async () => {
  await afterWorkSettled();
  await dropTestOrgs(db, [org]);
  await handle.close();
  restoreEnv();
  graph.closeAllConnections();
  await new Promise((r) => graph.close(r));
});

async function createSource(body: Record<string, unknown>) {
  const res = await call(sources.POST, { method: "POST", key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; url: string; secret: string; verify_token?: string };
}

async function send(sourceId: string, body: string, headers: Record<string, string> = {}) {
  const res = await inbound(
    new Request(`http://127.0.0.1/api/inbound/${sourceId}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...fromRandomIp(), ...headers },
    }),
    {
      params: Promise.resolve({ source: sourceId }),
    },
  );
  return { status: res.status, body: await res.json() };
}

/** Shaped like the sample lead in Google's lead form webhook documentation (a test lead). */
const googleSample = (googleKey: string, leadId: string, isTest = true) => ({
  lead_id: leadId,
  user_column_data: [
    { column_name: "Full Name", string_value: "FirstName LastName", column_id: "FULL_NAME" },
    { column_name: "User Phone", string_value: "+16505550123", column_id: "PHONE_NUMBER" },
    { column_name: "User Email", string_value: `test-${leadId}@example.com`, column_id: "EMAIL" },
    { column_name: "Postal Code", string_value: "94043", column_id: "POSTAL_CODE" },
    { column_name: "City", string_value: "Mountain View", column_id: "CITY" },
    { column_name: "Company Name", string_value: "Example Co", column_id: "COMPANY_NAME" },
  ],
  api_version: "1.0",
  form_id: 40000000000,
  campaign_id: 12345678901,
  google_key: googleKey,
  is_test: isTest,
  gcl_id: "TeSter-123ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  adgroup_id: 20000000000,
  creative_id: 30000000000,
});

const leadNotes = (name: string) =>
  db
    .select()
    .from(notifications)
    .where(and(eq(notifications.orgId, org.org.id), eq(notifications.title, `New lead: ${name}`)));

describe("Google Ads lead forms", () => {
  it("turns Google's sample test lead into one client, flagged as a test and notifying nobody; the same lead_id again is a replay", async () => {
    const src = await createSource({ name: "Spring campaign form", kind: "google_ads_leads" });
    expect(src.url).toBe(`http://127.0.0.1/api/inbound/${src.id}`);
    expect(src.secret).toMatch(/^insec_/);
    const body = JSON.stringify(googleSample(src.secret, "TeSter-lead-1"));
    const first = await send(src.id, body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: "created", new: true, test: true });
    const again = await send(src.id, JSON.stringify({ ...googleSample(src.secret, "TeSter-lead-1"), gcl_id: "other" }));
    expect(again.body.outcome).toBe("duplicate");

    const rows = await db.select().from(clients).where(eq(clients.id, first.body.client_id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      name: "FirstName LastName",
      email: "test-TeSter-lead-1@example.com",
      phone: "+16505550123",
      company: "Example Co",
      status: "lead",
      source: "google ads",
    });
    expect(rows[0]!.customFields).toMatchObject({
      postal_code: "94043",
      city: "Mountain View",
      google_lead_id: "TeSter-lead-1",
      form_id: "40000000000",
      campaign_id: "12345678901",
      is_test: true,
    });
    expect(await leadNotes("FirstName LastName")).toHaveLength(0);
    // The key is a secret: the request log keeps the body without it.
    const logged = await db.select().from(inboundRequests).where(eq(inboundRequests.sourceId, src.id));
    expect(logged.every((r) => !r.body.includes(src.secret))).toBe(true);
  });

  it("a real lead notifies the team, lands in the lead history, and a wrong or missing google_key is refused", async () => {
    const src = await createSource({ name: "Real form", kind: "google_ads_leads" });
    const lead = googleSample(src.secret, "real-lead-1", false);
    lead.user_column_data[0]!.string_value = "Gina Google";
    const ok = await send(src.id, JSON.stringify(lead));
    expect(ok.body).toMatchObject({ outcome: "created", new: true, test: false });
    expect(await leadNotes("Gina Google")).toHaveLength(3);
    const history = await db.select().from(leadCaptures).where(eq(leadCaptures.clientId, ok.body.client_id));
    expect(history.map((h) => h.channel)).toEqual(["google ads"]);

    const wrong = await send(src.id, JSON.stringify({ ...lead, lead_id: "real-lead-2", google_key: "not-the-key" }));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("unauthorized");
    const missing = await send(src.id, JSON.stringify({ ...lead, lead_id: "real-lead-3", google_key: undefined }));
    expect(missing.status).toBe(401);
    expect(
      (
        await db
          .select()
          .from(clients)
          .where(and(eq(clients.orgId, org.org.id), eq(clients.name, "Gina Google")))
      ).length,
    ).toBe(1);
  });

  it("refuses a lead without lead_id or with too many columns, writing nothing", async () => {
    const src = await createSource({ name: "Bad input form", kind: "google_ads_leads" });
    const noId = await send(src.id, JSON.stringify({ ...googleSample(src.secret, "x"), lead_id: undefined }));
    expect(noId.status).toBe(400);
    expect(noId.body.error.code).toBe("validation_failed");
    const wide = googleSample(src.secret, "wide-1");
    wide.user_column_data = Array.from({ length: 101 }, (_, i) => ({ column_name: `Q${i}`, string_value: "a", column_id: `Q_${i}` }));
    const tooWide = await send(src.id, JSON.stringify(wide));
    expect(tooWide.status).toBe(400);
    const big = await send(src.id, JSON.stringify({ ...googleSample(src.secret, "big-1"), pad: "x".repeat(70_000) }));
    expect(big.status).toBe(413);
  });

  it("takes no mapping and refuses a secret of the admin's choosing", async () => {
    const res = await call(sources.POST, { method: "POST", key, body: { name: "x", kind: "google_ads_leads", secret: "my-own-secret", mapping: {} } });
    expect(res.status).toBe(400);
    expect((res.body.error as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual(["mapping", "secret"]);
  });
});

const metaSig = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
const notification = (...leadgenIds: string[]) =>
  JSON.stringify({
    object: "page",
    entry: [
      {
        id: "1000",
        time: 1764756000,
        changes: leadgenIds.map((id) => ({
          field: "leadgen",
          value: { leadgen_id: id, page_id: "1000", form_id: "2000", ad_id: "3000", created_time: 1764756000 },
        })),
      },
    ],
  });

describe("Meta Lead Ads", () => {
  const appSecret = "meta-app-secret-0123456789";
  const token = "EAAB-page-access-token-xyz";

  it("answers the subscription handshake with the challenge only for the right verify token", async () => {
    const src = await createSource({ name: "Facebook page", kind: "meta_lead_ads", secret: appSecret, page_access_token: token });
    expect(src.verify_token).toMatch(/^smarfle_/);
    expect(src).not.toHaveProperty("page_access_token");
    const [row] = await db.select().from(inboundSources).where(eq(inboundSources.id, src.id));
    expect(row!.accessTokenCiphertext).not.toContain(token);
    const hs = (t: string) =>
      handshake(
        new Request(`http://127.0.0.1/api/inbound/${src.id}?hub.mode=subscribe&hub.verify_token=${t}&hub.challenge=1158201444`, { headers: fromRandomIp() }),
        { params: Promise.resolve({ source: src.id }) },
      );
    const ok = await hs(src.verify_token!);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("1158201444");
    const bad = await hs("wrong");
    expect(bad.status).toBe(403);
  });

  it("a signed notification makes one lead through the Graph stand-in; a Graph failure is retried until it succeeds", async () => {
    const src = await createSource({ name: "Instagram ads", kind: "meta_lead_ads", secret: appSecret, page_access_token: token });
    graphScript = ["fail", "hang"];
    const body = notification("444444444");
    const res = await send(src.id, body, { "x-hub-signature-256": metaSig(appSecret, body) });
    expect(res.status).toBe(200);
    expect(res.body.queued).toBe(1);
    await afterWorkSettled(); // first attempt: the stand-in answers 500
    const job = async () => (await db.select().from(metaLeadFetches).where(eq(metaLeadFetches.sourceId, src.id)))[0]!;
    expect(await job()).toMatchObject({ status: "pending", attempts: 1 });
    expect((await job()).lastError).toContain("500");

    // Due again; this time the stand-in hangs: the fetch times out and stays queued.
    await db.update(metaLeadFetches).set({ nextAttemptAt: new Date() }).where(eq(metaLeadFetches.sourceId, src.id));
    await pumpMetaFetches(db, { orgIds: [org.org.id], timeoutMs: 300 });
    expect(await job()).toMatchObject({ status: "pending", attempts: 2 });
    expect((await job()).lastError).toContain("timed out");

    await db.update(metaLeadFetches).set({ nextAttemptAt: new Date() }).where(eq(metaLeadFetches.sourceId, src.id));
    await pumpMetaFetches(db, { orgIds: [org.org.id] });
    const done = await job();
    expect(done).toMatchObject({ status: "done", attempts: 3 });
    expect(graphCalls.filter((u) => u.startsWith("/v21.0/444444444?access_token="))).toHaveLength(3);
    const [client] = await db.select().from(clients).where(eq(clients.id, done.clientId!));
    expect(client).toMatchObject({ name: "Mia Meta", email: "mia-444444444@example.com", status: "lead", source: "meta lead ads" });
    expect(client!.customFields).toMatchObject({ meta_lead_id: "444444444", form_id: "2000", "which_service?": "window cleaning" });

    // The same notification again (Meta re-sends), and the lead in a new notification: still one lead.
    const again = await send(src.id, body, { "x-hub-signature-256": metaSig(appSecret, body) });
    expect(again.body.outcome).toBe("duplicate");
    const other = notification("444444444");
    const resent = await send(src.id, `${other} `, { "x-hub-signature-256": metaSig(appSecret, `${other} `) });
    expect(resent.body.queued).toBe(0);
    expect(
      await db
        .select()
        .from(clients)
        .where(and(eq(clients.orgId, org.org.id), eq(clients.name, "Mia Meta"))),
    ).toHaveLength(1);
  });

  it("a flood in one organization, whose Graph API hangs, does not hold up another's lead", async () => {
    const busyOrg = await createTestOrg(db, { plan: "business" });
    const busyKey = (await makeKey(db, busyOrg, ["admin"])).key;
    try {
      const busy = await call(sources.POST, {
        method: "POST",
        key: busyKey,
        body: { name: "Busy", kind: "meta_lead_ads", secret: appSecret, page_access_token: "EAAB-hang-token" },
      });
      const calm = await createSource({ name: "Calm", kind: "meta_lead_ads", secret: appSecret, page_access_token: token });
      // 30 leads of the busy organization waiting longer than the calm one's single lead.
      const at = (msAgo: number) => new Date(Date.now() - msAgo);
      await db.insert(metaLeadFetches).values(
        Array.from({ length: 30 }, (_, i) => ({
          id: newId("mlf"),
          orgId: busyOrg.org.id,
          sourceId: String(busy.body.id),
          leadgenId: String(700000 + i),
          notification: {},
          nextAttemptAt: at(60_000 - i),
        })),
      );
      await db
        .insert(metaLeadFetches)
        .values({ id: newId("mlf"), orgId: org.org.id, sourceId: calm.id, leadgenId: "800000", notification: {}, nextAttemptAt: at(1000) });
      const calls = graphCalls.length;
      await pumpMetaFetches(db, { orgIds: [busyOrg.org.id, org.org.id], timeoutMs: 300 });
      const order = graphCalls.slice(calls).map((u) => u.split("?")[0]!.split("/").pop());
      expect(order).toHaveLength(31);
      // In the first batch of 20, not after the 30 older ones.
      expect(order.indexOf("800000")).toBeLessThan(20);
      const [done] = await db.select().from(metaLeadFetches).where(eq(metaLeadFetches.sourceId, calm.id));
      expect(done!.status).toBe("done");
      const waiting = await db
        .select()
        .from(metaLeadFetches)
        .where(eq(metaLeadFetches.sourceId, String(busy.body.id)));
      expect(waiting.every((w) => w.status === "pending" && w.attempts === 1 && w.lastError?.includes("timed out"))).toBe(true);
    } finally {
      await dropTestOrgs(db, [busyOrg]);
    }
  });

  it("refuses a tampered or unsigned notification, and requires the app secret and page token", async () => {
    const src = await createSource({ name: "Page 2", kind: "meta_lead_ads", secret: appSecret, page_access_token: token });
    const body = notification("555");
    const tampered = await send(src.id, notification("556"), { "x-hub-signature-256": metaSig(appSecret, body) });
    expect(tampered.status).toBe(401);
    const unsigned = await send(src.id, body);
    expect(unsigned.status).toBe(401);
    expect(await db.select().from(metaLeadFetches).where(eq(metaLeadFetches.sourceId, src.id))).toHaveLength(0);
    const missing = await call(sources.POST, { method: "POST", key, body: { name: "x", kind: "meta_lead_ads" } });
    expect(missing.status).toBe(400);
    expect((missing.body.error as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual(["page_access_token", "secret"]);
  });
});
