import { describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { auditLog, clients, inboundRequests } from "@/db/schema";
import { POST as inbound } from "@/app/api/inbound/[source]/route";
import * as sources from "@/app/api/v1/inbound-sources/route";
import * as requestsRoute from "@/app/api/v1/inbound-sources/[id]/requests/route";
import * as sourceRoute from "@/app/api/v1/inbound-sources/[id]/route";
import { reprocessRequest } from "@/lib/inbound/receive";
import { withTestOrg } from "../helpers/fixture";
import { call, fromRandomIp } from "../helpers/api";

const t = withTestOrg({ plan: "business", scopes: ["admin"] });

const shopifyMapping = {
  target: "client",
  external_id: "customer.id",
  fields: {
    name: { from: "customer.first_name" },
    email: { from: "customer.email", transform: "lower" },
    phone: "customer.phone",
    source: { value: "shopify" },
    status: { value: "active" },
    "custom_fields.last_order": "name",
  },
};
const order = (total = "99.00") => ({
  id: 820982911946154500,
  name: "#1001",
  total_price: total,
  customer: { id: 115310627314723950, first_name: "Bob", email: "BOB@example.com", phone: "+1 555 0111" },
});

async function createSource(kind: string, mapping: object = shopifyMapping) {
  const res = await call(sources.POST, { method: "POST", key: t.key, body: { name: `${kind} source`, kind, mapping } });
  expect(res.status).toBe(201);
  return res.body as { id: string; url: string; secret: string };
}

function send(sourceId: string, body: string, headers: Record<string, string>) {
  return inbound(
    new Request(`http://127.0.0.1/api/inbound/${sourceId}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...fromRandomIp(), ...headers },
    }),
    {
      params: Promise.resolve({ source: sourceId }),
    },
  );
}

const shopifySig = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("base64");
const clientsByExt = (ext: string) =>
  t.db
    .select()
    .from(clients)
    .where(and(eq(clients.orgId, t.org.org.id), eq(clients.externalId, ext)));

describe("inbound webhooks", () => {
  it("creates one client from a signed Shopify-style order and stays idempotent on re-send", async () => {
    const src = await createSource("shopify");
    expect(src.url).toBe(`http://127.0.0.1/api/inbound/${src.id}`);
    const body = JSON.stringify(order());
    const first = await send(src.id, body, { "x-shopify-hmac-sha256": shopifySig(src.secret, body), "x-shopify-topic": "orders/create" });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ outcome: "created" });
    const again = await send(src.id, body, { "x-shopify-hmac-sha256": shopifySig(src.secret, body) });
    expect(await again.json()).toMatchObject({ outcome: "duplicate" }); // the same delivery again: a replay, dropped
    const changed = JSON.stringify({ ...order(), name: "#1002" });
    const third = await send(src.id, changed, { "x-shopify-hmac-sha256": shopifySig(src.secret, changed) });
    expect(await third.json()).toMatchObject({ outcome: "updated" });

    const rows = await clientsByExt("115310627314723950");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "Bob", email: "bob@example.com", source: "shopify", customFields: { last_order: "#1002" }, version: 2 });
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.targetId, rows[0]!.id));
    expect(audit.every((a) => a.source === "inbound" && a.actorType === "inbound_source" && a.actorId === src.id)).toBe(true);
  });

  it("refuses a bad signature, a tampered body and a stale timestamp with 401, writing no record, logging each", async () => {
    const shop = await createSource("shopify", { ...shopifyMapping, external_id: "customer.email" });
    const body = JSON.stringify({ ...order(), customer: { ...order().customer, email: "mallory@example.com" } });
    const bad = await send(shop.id, body, { "x-shopify-hmac-sha256": shopifySig("wrong secret", body) });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe("unauthorized");
    const tampered = body.replace("99.00", "0.01");
    expect((await send(shop.id, tampered, { "x-shopify-hmac-sha256": shopifySig(shop.secret, body) })).status).toBe(401);
    expect((await send(shop.id, body, {})).status).toBe(401);

    const sw = await createSource("standard_webhooks", { ...shopifyMapping, external_id: "customer.email" });
    const wh = new Webhook(sw.secret);
    const stale = new Date(Date.now() - 10 * 60 * 1000);
    const staleHeaders = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(stale.getTime() / 1000)),
      "webhook-signature": wh.sign("msg_1", stale, body),
    };
    expect((await send(sw.id, body, staleHeaders)).status).toBe(401);
    const now = new Date();
    const fresh = { "webhook-id": "msg_2", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": wh.sign("msg_2", now, body) };
    expect((await send(sw.id, body.replace("Bob", "Eve"), fresh)).status).toBe(401);
    expect((await send(sw.id, body, fresh)).status).toBe(200);

    expect(await clientsByExt("mallory@example.com")).toHaveLength(1); // only the valid Standard Webhooks request wrote
    const shopLog = await call(requestsRoute.GET, { key: t.key, params: { id: shop.id } });
    const entries = shopLog.body.data as { verified: boolean; status: string; http_status: number; error: string }[];
    expect(entries).toHaveLength(3);
    expect(entries.every((e) => !e.verified && e.status === "rejected" && e.http_status === 401)).toBe(true);
    expect(entries.map((e) => e.error)).toContain("missing X-Shopify-Hmac-Sha256 header");
    const swLog = (await call(requestsRoute.GET, { key: t.key, params: { id: sw.id } })).body.data as { error: string | null; status: string }[];
    expect(swLog.map((e) => e.status)).toEqual(["processed", "rejected", "rejected"]);
    expect(swLog[2]!.error).toMatch(/tolerance/);
  });

  it("verifies generic hex HMAC signatures, with or without the sha256= prefix", async () => {
    const src = await createSource("hmac_sha256_hex", { target: "client", external_id: "ref", fields: { name: "who" } });
    const body = JSON.stringify({ ref: "hex-1", who: "Hex Hattie" });
    const hex = createHmac("sha256", src.secret).update(body).digest("hex");
    expect((await send(src.id, body, { "x-signature": hex })).status).toBe(200);
    expect((await send(src.id, body, { "x-signature": `sha256=${hex}` })).status).toBe(200);
    expect((await send(src.id, body, { "x-signature": hex.replace(/.$/, hex.endsWith("0") ? "1" : "0") })).status).toBe(401);
    expect(await clientsByExt("hex-1")).toHaveLength(1);
  });

  it("logs a payload the mapping cannot use, and processes it again once the mapping is fixed", async () => {
    const src = await createSource("hmac_sha256_hex", { target: "client", external_id: "ref", fields: { name: "full_name" } });
    const body = JSON.stringify({ ref: "fix-1", customer_name: "Fixable Fay" });
    const res = await send(src.id, body, { "x-signature": createHmac("sha256", src.secret).update(body).digest("hex") });
    expect(res.status).toBe(400);
    const [logged] = await t.db.select().from(inboundRequests).where(eq(inboundRequests.sourceId, src.id));
    expect(logged).toMatchObject({ verified: true, status: "failed" });
    expect(await clientsByExt("fix-1")).toHaveLength(0);

    const patched = await call(sourceRoute.PATCH, {
      method: "PATCH",
      key: t.key,
      params: { id: src.id },
      body: { mapping: { target: "client", external_id: "ref", fields: { name: "customer_name" } } },
    });
    expect(patched.status).toBe(200);
    const again = await reprocessRequest(t.db, t.org.org.id, logged!.id);
    expect(again).toMatchObject({ status: "processed", created: 1 });
    expect(await clientsByExt("fix-1")).toHaveLength(1);
  });

  it("answers an unknown source with 404 and a bad mapping with 400", async () => {
    expect((await send("src_doesnotexist", "{}", {})).status).toBe(404);
    const bad = await call(sources.POST, {
      method: "POST",
      key: t.key,
      body: { name: "x", kind: "shopify", mapping: { target: "client", fields: { colour: "c" } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "validation_failed" });
  });
});
