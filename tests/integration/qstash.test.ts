import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { resetEnvCache } from "@/lib/env";
import { createRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { dispatchPending, qstashClient } from "@/lib/webhooks/qstash";
import { POST as deliveriesRoute } from "@/app/api/internal/deliveries/route";
import { withTestOrg } from "../helpers/fixture";
import { startReceiver } from "../helpers/receiver";
import { qstashRequest as signedRequest } from "../helpers/qstash";

const t = withTestOrg({ plan: "business" });

/**
 * The QStash driver against a local stand-in of QStash's HTTP contract: the real
 * @upstash/qstash client publishes to it (through its base-URL option), and the internal route
 * is called with JWTs signed the way QStash signs them, checked by the real Receiver.
 */
const CURRENT_KEY = "sig_current_" + randomUUID();
const NEXT_KEY = "sig_next_" + randomUUID();
const APP_URL = "http://127.0.0.1:39999";

interface Published {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const published: Published[] = [];
let standIn: http.Server;

beforeAll(async () => {
  standIn = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      published.push({ path: decodeURIComponent(req.url ?? ""), headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ messageId: `msg_${published.length}` }));
    });
  });
  await new Promise<void>((r) => standIn.listen(0, "127.0.0.1", r));
  Object.assign(process.env, {
    QSTASH_URL: `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`,
    QSTASH_TOKEN: "qstash-test-token",
    QSTASH_CURRENT_SIGNING_KEY: CURRENT_KEY,
    QSTASH_NEXT_SIGNING_KEY: NEXT_KEY,
    APP_URL,
    SMARFLE_ALLOW_PRIVATE_URLS: "1",
    WEBHOOK_RETRY_SCHEDULE: "0,7,14",
  });
  resetEnvCache();
});

afterAll(async () => {
  for (const k of [
    "QSTASH_URL",
    "QSTASH_TOKEN",
    "QSTASH_CURRENT_SIGNING_KEY",
    "QSTASH_NEXT_SIGNING_KEY",
    "APP_URL",
    "SMARFLE_ALLOW_PRIVATE_URLS",
    "WEBHOOK_RETRY_SCHEDULE",
  ])
    delete process.env[k];
  resetEnvCache();
  standIn.closeAllConnections();
  await new Promise((r) => standIn.close(r));
});

const qstashRequest = (body: string, key: string, url = `${APP_URL}/api/internal/deliveries`) =>
  signedRequest(`${APP_URL}/api/internal/deliveries`, body, key, url);

describe("delivery through QStash", () => {
  it("publishes each committed delivery to our internal route, then performs the attempt QStash calls back with", async () => {
    let fail = true;
    const receiver = await startReceiver(() => ({ status: fail ? 500 : 200 }));
    try {
      const ep = await createEndpoint(t.db, t.org.ctx, { url: receiver.url, event_types: ["client_created"] });
      await createRecord(t.org.ctx, "client", { name: "Queued Quinn" });
      const [delivery] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
      expect(delivery!.dispatchedAt).toBeNull();

      expect(await dispatchPending(t.db, qstashClient(), 0, [t.org.org.id])).toBe(1);
      expect(published).toHaveLength(1);
      const pub = published[0]!;
      expect(pub.path).toBe(`/v2/publish/${APP_URL}/api/internal/deliveries`);
      expect(pub.headers.authorization).toBe("Bearer qstash-test-token");
      expect(pub.headers["upstash-delay"]).toBe("0s");
      expect(pub.headers["upstash-retries"]).toBe("3");
      expect(pub.headers["upstash-deduplication-id"]).toBe(`${delivery!.id}-1`);
      expect(pub.headers["upstash-flow-control-key"]).toBe(`endpoint-${ep.endpoint.id}`);
      expect(JSON.parse(pub.body)).toEqual({ delivery_id: delivery!.id, attempt: 1 });
      const [marked] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery!.id));
      expect(marked!.dispatchedAt).not.toBeNull();
      expect(await dispatchPending(t.db, qstashClient(), 0, [t.org.org.id])).toBe(0); // nothing published twice

      // QStash calls back: the attempt fails, and the next one is published with its delay.
      const res = await deliveriesRoute(await qstashRequest(pub.body, CURRENT_KEY));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ran: true, decision: "retry" });
      expect(receiver.received).toHaveLength(1);
      expect(new Webhook(ep.secret).verify(receiver.received[0]!.body, receiver.received[0]!.headers)).toMatchObject({ type: "client_created" });
      expect(published).toHaveLength(2);
      expect(JSON.parse(published[1]!.body)).toEqual({ delivery_id: delivery!.id, attempt: 2 });
      expect(Number(String(published[1]!.headers["upstash-delay"]).replace("s", ""))).toBeGreaterThanOrEqual(5);

      // The second attempt, signed with the next signing key (as during QStash's key rotation).
      fail = false;
      const second = await deliveriesRoute(await qstashRequest(published[1]!.body, NEXT_KEY));
      expect(await second.json()).toEqual({ ran: true, decision: "succeeded" });
      // A duplicate message finds the delivery done and does nothing.
      const dup = await deliveriesRoute(await qstashRequest(published[1]!.body, CURRENT_KEY));
      expect(await dup.json()).toEqual({ ran: false, decision: null });
      const attempts = await t.db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, delivery!.id));
      expect(attempts.map((a) => a.responseStatus).sort()).toEqual([200, 500]);
    } finally {
      await receiver.close();
    }
  });

  it("applies the same receiver rules: an open circuit or a pause defers the attempt without using it up, then a probe goes", async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    try {
      const ep = await createEndpoint(t.db, t.org.ctx, { url: receiver.url, event_types: ["client_created"], headers: { "X-Tenant": "acme" } });
      await createRecord(t.org.ctx, "client", { name: "Held Hannah" });
      const [delivery] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
      const openUntil = new Date(Date.now() + 120_000);
      await t.db
        .update(webhookEndpoints)
        .set({ circuitState: "open", circuitUntil: openUntil, circuitCooldownSeconds: 60, consecutiveFailures: 10 })
        .where(eq(webhookEndpoints.id, ep.endpoint.id));
      const before = published.length;
      const body = JSON.stringify({ delivery_id: delivery!.id, attempt: 1 });
      expect(await (await deliveriesRoute(await qstashRequest(body, CURRENT_KEY))).json()).toEqual({ ran: false, decision: null });
      expect(receiver.received).toHaveLength(0);
      // Re-published for when the cool-down ends, as the same attempt.
      expect(published).toHaveLength(before + 1);
      expect(JSON.parse(published.at(-1)!.body)).toEqual({ delivery_id: delivery!.id, attempt: 1 });
      expect(Number(String(published.at(-1)!.headers["upstash-delay"]).replace("s", ""))).toBeGreaterThanOrEqual(115);
      const [held] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery!.id));
      expect(held).toMatchObject({ attemptCount: 0, status: "pending", lockedUntil: null });

      // A receiver's pause defers it the same way.
      await t.db
        .update(webhookEndpoints)
        .set({ circuitState: "closed", circuitUntil: null, pausedUntil: new Date(Date.now() + 30_000) })
        .where(eq(webhookEndpoints.id, ep.endpoint.id));
      expect(await (await deliveriesRoute(await qstashRequest(body, CURRENT_KEY))).json()).toEqual({ ran: false, decision: null });
      expect(receiver.received).toHaveLength(0);

      // The cool-down is over: this message is the probe; it succeeds and closes the circuit.
      await t.db
        .update(webhookEndpoints)
        .set({ circuitState: "open", circuitUntil: new Date(Date.now() - 1000), pausedUntil: null })
        .where(eq(webhookEndpoints.id, ep.endpoint.id));
      expect(await (await deliveriesRoute(await qstashRequest(body, CURRENT_KEY))).json()).toEqual({ ran: true, decision: "succeeded" });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.headers["x-tenant"]).toBe("acme");
      const [closed] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
      expect(closed).toMatchObject({ circuitState: "closed", consecutiveFailures: 0 });
    } finally {
      await receiver.close();
    }
  });

  it("refuses calls not signed by QStash", async () => {
    const body = JSON.stringify({ delivery_id: "dlv_whatever", attempt: 1 });
    const unsigned = new Request(`${APP_URL}/api/internal/deliveries`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect((await deliveriesRoute(unsigned)).status).toBe(401);
    expect((await deliveriesRoute(await qstashRequest(body, "some-other-key"))).status).toBe(401);
    // Signed for a different body: the hash does not match.
    const tampered = await qstashRequest(body, CURRENT_KEY);
    const forged = new Request(tampered.url, { method: "POST", headers: tampered.headers, body: JSON.stringify({ delivery_id: "dlv_other", attempt: 1 }) });
    expect((await deliveriesRoute(forged)).status).toBe(401);
    // Signed for another URL.
    expect((await deliveriesRoute(await qstashRequest(body, CURRENT_KEY, `${APP_URL}/api/internal/elsewhere`))).status).toBe(401);
  });
});
