import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { clients, inboundRequests } from "@/db/schema";
import { POST as inbound } from "@/app/api/inbound/[source]/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import { REJECTED_BODY_BYTES, REJECTED_PER_SOURCE_RPM } from "@/lib/inbound/receive";
import { withTestOrg } from "../helpers/fixture";
import { call, fromRandomIp } from "../helpers/api";

const t = withTestOrg({ plan: "business", scopes: ["admin"] });

const mapping = { target: "client", external_id: "id", fields: { name: "name", email: "email" } };

async function createSource(kind: string) {
  const res = await call(sources.POST, { method: "POST", key: t.key, body: { name: `${kind} source`, kind, mapping } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string };
}

async function send(sourceId: string, body: string, headers: Record<string, string>) {
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
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const hexSig = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");
const shopifySig = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("base64");
const logOf = (sourceId: string) => t.db.select().from(inboundRequests).where(eq(inboundRequests.sourceId, sourceId));
const clientCount = async (ext: string) =>
  (
    await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.externalId, ext)))
  ).length;

describe("inbound sources verify first", () => {
  it("a flood of 1,000 unsigned requests neither refuses nor delays a signed one, and is stored 4 KB at most each", async () => {
    const src = await createSource("hmac_sha256_hex");
    const junk = JSON.stringify({ id: "junk", name: "x".repeat(20_000) });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => send(src.id, junk, { "x-signature": "0".repeat(64) })));
      for (const r of batch) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    // Each one refused: 401 while the rejected budget lasts, then 429 without being stored. (A
    // sliding window may let a few more through when the flood straddles a minute.)
    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    const logged = statuses.get(401)!;
    expect(logged).toBeGreaterThanOrEqual(REJECTED_PER_SOURCE_RPM);
    expect(logged).toBeLessThanOrEqual(2 * REJECTED_PER_SOURCE_RPM);

    const body = JSON.stringify({ id: "real-1", name: "Real Customer", email: "real@example.com" });
    const started = Date.now();
    const signed = await send(src.id, body, { "x-signature": hexSig(src.secret, body) });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body).toMatchObject({ outcome: "created" });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await clientCount("real-1")).toBe(1);

    const [stored] = await t.db
      .select({ n: sql<number>`count(*)::int`, longest: sql<number>`max(octet_length(${inboundRequests.body}))::int` })
      .from(inboundRequests)
      .where(and(eq(inboundRequests.sourceId, src.id), eq(inboundRequests.status, "rejected")));
    expect(stored).toEqual({ n: logged, longest: REJECTED_BODY_BYTES });
  }, 120_000);
});

describe("replay protection", () => {
  it("Standard Webhooks: the same webhook-id again answers 200 and writes nothing, logged as duplicate", async () => {
    const src = await createSource("standard_webhooks");
    const wh = new Webhook(src.secret);
    const body = JSON.stringify({ id: "sw-1", name: "Ada", email: "ada@example.com" });
    const signed = (msgId: string, payload: string) => {
      const now = new Date();
      return { "webhook-id": msgId, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": wh.sign(msgId, now, payload) };
    };
    expect((await send(src.id, body, signed("msg_a", body))).body).toMatchObject({ outcome: "created" });
    // A captured request replayed within the timestamp tolerance, and re-signed by the same id.
    const replay = await send(src.id, body, signed("msg_a", body));
    expect(replay).toMatchObject({ status: 200, body: { outcome: "duplicate", record_id: null } });
    const changed = JSON.stringify({ id: "sw-1", name: "Ada Lovelace", email: "ada@example.com" });
    expect((await send(src.id, changed, signed("msg_a", changed))).body).toMatchObject({ outcome: "duplicate" });
    const [client] = await t.db
      .select()
      .from(clients)
      .where(and(eq(clients.orgId, t.org.org.id), eq(clients.externalId, "sw-1")));
    expect(client).toMatchObject({ name: "Ada", version: 1 });
    // A new delivery id is a new event.
    expect((await send(src.id, changed, signed("msg_b", changed))).body).toMatchObject({ outcome: "updated" });
    const statuses = (await logOf(src.id)).map((r) => r.status).sort();
    expect(statuses).toEqual(["duplicate", "duplicate", "processed", "processed"]);
  });

  it("Shopify: X-Shopify-Webhook-Id is remembered; generic: the body's digest", async () => {
    const shop = await createSource("shopify");
    const body = JSON.stringify({ id: "sh-1", name: "Bob", email: "bob@example.com" });
    const headers = { "x-shopify-hmac-sha256": shopifySig(shop.secret, body), "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" };
    expect((await send(shop.id, body, headers)).body).toMatchObject({ outcome: "created" });
    for (let i = 0; i < 3; i++) expect(await send(shop.id, body, headers)).toMatchObject({ status: 200, body: { outcome: "duplicate" } });
    // The id is not covered by Shopify's signature: a replay under a new id, or none, is still a repeat.
    expect((await send(shop.id, body, { ...headers, "x-shopify-webhook-id": "0f9c2a61-0000-4000-8000-000000000000" })).body).toMatchObject({
      outcome: "duplicate",
    });
    expect((await send(shop.id, body, { "x-shopify-hmac-sha256": headers["x-shopify-hmac-sha256"] })).body).toMatchObject({ outcome: "duplicate" });
    expect(await clientCount("sh-1")).toBe(1);

    const generic = await createSource("hmac_sha256_hex");
    const g = JSON.stringify({ id: "g-1", name: "Cy", email: "cy@example.com" });
    expect((await send(generic.id, g, { "x-signature": hexSig(generic.secret, g) })).body).toMatchObject({ outcome: "created" });
    expect((await send(generic.id, g, { "x-signature": `sha256=${hexSig(generic.secret, g)}` })).body).toMatchObject({ outcome: "duplicate" });
    const g2 = JSON.stringify({ id: "g-1", name: "Cy Young", email: "cy@example.com" });
    expect((await send(generic.id, g2, { "x-signature": hexSig(generic.secret, g2) })).body).toMatchObject({ outcome: "updated" });
  });

  it("a delivery that failed is not remembered: the sender's retry is processed", async () => {
    const src = await createSource("hmac_sha256_hex");
    const bad = JSON.stringify({ id: "r-1", name: "Dee", email: "not-an-email" });
    expect((await send(src.id, bad, { "x-signature": hexSig(src.secret, bad) })).status).toBe(400);
    const retried = await send(src.id, bad, { "x-signature": hexSig(src.secret, bad) });
    expect(retried.status).toBe(400);
    expect(retried.body).not.toMatchObject({ outcome: "duplicate" });
  });
});
