import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { notifications, webhookAttempts, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { createEndpoint, rotateEndpointSecret, updateEndpoint } from "@/lib/webhooks/endpoints";
import { redeliver, sendTestEvent } from "@/lib/webhooks/delivery-log";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { encrypt } from "@/lib/crypto/encryption";
import { newId } from "@/lib/ids";
import { attemptDelivery } from "@/lib/webhooks/deliver";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { startReceiver, waitFor } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let worker: DeliveryWorker;
const orgs: TestOrg[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // Compressed schedule: attempts due 0, 1, 2, 3, 4 and 5 s after the first.
  restoreEnv = allowPrivateUrls({ WEBHOOK_RETRY_SCHEDULE: "0,1,2,3,4,5" });
  handle = await useTestDb();
  db = handle.db;
  worker = startWorker(db, { pollMs: 100, orgIds: () => orgs.map((o) => o.org.id) });
});

afterEach(async () => {
  while (closers.length) await closers.pop()!();
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

async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  closers.push(r.close);
  return r;
}

/** Verifies a received request with the standardwebhooks package, as a customer would. */
function verified(secret: string, r: { headers: Record<string, string>; body: string }) {
  return new Webhook(secret).verify(r.body, r.headers) as { id: string; type: string; data: Record<string, unknown>; previous?: Record<string, unknown> };
}

describe("outgoing webhooks", () => {
  it("delivers one verified client_created to each subscribed endpoint and nothing to the others", async () => {
    const org = await newOrg();
    const a = await receiver();
    const b = await receiver();
    const c = await receiver();
    const epA = await createEndpoint(db, org.ctx, { url: a.url, event_types: ["client_created"] });
    await createEndpoint(db, org.ctx, { url: b.url, event_types: ["invoice_paid"] });
    const epC = await createEndpoint(db, org.ctx, { url: c.url });
    const client = await createRecord(org.ctx, "client", { name: "Webhook Wendy", status: "lead" });

    await waitFor(() => a.received.length === 1 && c.received.length === 1, { what: "deliveries" });
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(0);
    const payload = verified(epA.secret, a.received[0]!);
    expect(payload).toMatchObject({ type: "client_created", data: { id: client.id, object: "client", name: "Webhook Wendy", version: 1 } });
    expect(a.received[0]!.headers["x-smarfle-event"]).toBe("client_created");
    expect(a.received[0]!.headers["x-smarfle-signature"]).toBe(a.received[0]!.headers["webhook-signature"]);
    expect(a.received[0]!.headers["webhook-id"]).toBe(payload.id);
    // "All events": one delivery for one change, the most specific type.
    expect(c.received.map((r) => verified(epC.secret, r).type)).toEqual(["client_created"]);
    // A wrong secret does not verify.
    expect(() => verified("whsec_" + Buffer.from("not the secret at all!!!").toString("base64"), a.received[0]!)).toThrow();
  });

  it("fires each lifecycle event on its transition, and only then", async () => {
    const org = await newOrg();
    const r = await receiver();
    const ep = await createEndpoint(db, org.ctx, {
      url: r.url,
      event_types: ["client_created", "client_updated", "work_order_created", "work_order_completed", "invoice_sent", "invoice_paid", "booking_received"],
    });
    const c = await createRecord(org.ctx, "client", { name: "Lifecycle" });
    await updateRecord(org.ctx, "client", c.id, { phone: "555" });
    const wo = await createRecord(org.ctx, "work_order", { title: "Job", client_id: c.id });
    await updateRecord(org.ctx, "work_order", wo.id, { status: "in_progress" });
    await updateRecord(org.ctx, "work_order", wo.id, { status: "completed" });
    await updateRecord(org.ctx, "work_order", wo.id, { title: "Job (done)" });
    const inv = await createRecord(org.ctx, "invoice", { number: "L-1", amount: 10, client_id: c.id });
    await updateRecord(org.ctx, "invoice", inv.id, { status: "sent" });
    await updateRecord(org.ctx, "invoice", inv.id, { amount: 12 });
    await updateRecord(org.ctx, "invoice", inv.id, { status: "paid" });
    await createRecord(org.ctx, "booking", { service: "Visit", starts_at: "2026-12-01T10:00:00Z", client_id: c.id });
    await createRecord(org.ctx, "opportunity", { title: "Not subscribed" });

    await waitFor(() => r.received.length >= 7, { what: "7 lifecycle events" });
    await new Promise((res) => setTimeout(res, 300));
    const types = r.received.map((x) => verified(ep.secret, x).type).sort();
    // Exactly once each: not on the in_progress step, the title edit, the amount edit, the draft
    // invoice's creation, or the opportunity nobody subscribed to.
    expect(types).toEqual([
      "booking_received",
      "client_created",
      "client_updated",
      "invoice_paid",
      "invoice_sent",
      "work_order_completed",
      "work_order_created",
    ]);
    const paid = r.received.map((x) => verified(ep.secret, x)).find((p) => p.type === "invoice_paid")!;
    expect(paid.previous).toEqual({ status: "sent" });
    expect(paid.data).toMatchObject({ status: "paid", version: 4 });
  });

  it("retries a receiver that fails twice, and logs all three attempts", async () => {
    const org = await newOrg();
    const r = await receiver((_req, n) => (n <= 2 ? { status: 503, body: "down for maintenance" } : { status: 200 }));
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    await createRecord(org.ctx, "client", { name: "Retry Rita" });
    await waitFor(() => r.received.length === 3, { what: "3 attempts" });
    const ids = new Set(r.received.map((x) => x.headers["webhook-id"]));
    expect(ids.size).toBe(1); // same webhook-id on every attempt...
    // ...signed afresh each time: each attempt verifies against its own timestamp.
    for (const x of r.received) expect(verified(ep.secret, x).type).toBe("client_created");
    const gaps = [r.received[1]!.at - r.received[0]!.at, r.received[2]!.at - r.received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(800);
    const [delivery] = await waitFor(async () => {
      const d = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
      return d[0]?.status === "succeeded" ? d : null;
    });
    expect(delivery!.attemptCount).toBe(3);
    const attempts = await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, delivery!.id)).orderBy(webhookAttempts.attemptNumber);
    expect(attempts.map((a) => a.responseStatus)).toEqual([503, 503, 200]);
    expect(attempts[0]!.responseBody).toBe("down for maintenance");
    expect(attempts[0]!.requestHeaders["webhook-id"]).toBe([...ids][0]);
    expect(attempts[0]!.requestBody).toBe(r.received[0]!.body);
  });

  it("marks a delivery failed after 6 attempts, and re-delivers it on request", async () => {
    const org = await newOrg();
    let healthy = false;
    const r = await receiver(() => (healthy ? { status: 204 } : { status: 500 }));
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    await createRecord(org.ctx, "client", { name: "Failing Fred" });
    const delivery = await waitFor(
      async () => {
        const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
        return d?.status === "failed" ? d : null;
      },
      { timeoutMs: 20_000, what: "failed delivery" },
    );
    expect(delivery.attemptCount).toBe(6);
    expect(r.received).toHaveLength(6);
    const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
    expect(endpoint!.failingSince).not.toBeNull();
    expect(endpoint!.status).toBe("enabled");

    healthy = true;
    const again = await redeliver(db, org.ctx, delivery.id);
    await waitFor(async () => (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, again)))[0]?.status === "succeeded", {
      what: "re-delivery",
    });
    expect(r.received[6]!.headers["webhook-id"]).toBe(r.received[0]!.headers["webhook-id"]);
    const [after] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
    expect(after!.failingSince).toBeNull();
  }, 30_000);

  it("unsubscribes an endpoint that answers 410 Gone and tells the admins", async () => {
    const org = await newOrg();
    const r = await receiver(() => ({ status: 410 }));
    const ep = await createEndpoint(db, org.ctx, { url: r.url });
    await createRecord(org.ctx, "client", { name: "Gone Gina" });
    await waitFor(async () => (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id)))[0]?.status === "disabled", {
      what: "disabled endpoint",
    });
    const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
    expect(endpoint!.disabledReason).toMatch(/410/);
    const notes = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "webhook_disabled")));
    expect(new Set(notes.map((n) => n.userId))).toEqual(new Set([org.users.owner.id, org.users.admin.id]));
    // No more deliveries to it.
    const before = r.received.length;
    await createRecord(org.ctx, "client", { name: "After" });
    await new Promise((res) => setTimeout(res, 400));
    expect(r.received.length).toBe(before);
    // Re-enabling resets its failure state.
    const enabled = await updateEndpoint(db, org.ctx, ep.endpoint.id, { enabled: true });
    expect(enabled).toMatchObject({ status: "enabled", disabledReason: null, failingSince: null });
  });

  it("disables an endpoint that has failed every delivery for 5 days, and tells the admins", async () => {
    const org = await newOrg();
    const r = await receiver(() => ({ status: 500 }));
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    // Its failures began six days ago (and nothing has succeeded since).
    await db
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - 6 * 24 * 3600 * 1000) })
      .where(eq(webhookEndpoints.id, ep.endpoint.id));
    await createRecord(org.ctx, "client", { name: "Still failing" });
    const disabled = await waitFor(
      async () => {
        const [e] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
        return e?.status === "disabled" ? e : null;
      },
      { what: "disabled endpoint" },
    );
    expect(disabled.disabledReason).toBe("every delivery failed for 5 days");
    const notes = await db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, org.org.id), eq(notifications.kind, "webhook_disabled")));
    expect(notes).toHaveLength(2);
    // A test event does not count: a failing test against a fresh endpoint leaves it enabled.
    const fresh = await createEndpoint(db, org.ctx, { url: r.url });
    await db
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - 6 * 24 * 3600 * 1000) })
      .where(eq(webhookEndpoints.id, fresh.endpoint.id));
    await sendTestEvent(db, org.ctx, fresh.endpoint.id, "client_created");
    const [still] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, fresh.endpoint.id));
    expect(still!.status).toBe("enabled");
  });

  it("logs a receiver's answer with NUL bytes in it, and the other deliveries of its batch with it", async () => {
    const org = await newOrg();
    const hostile = await receiver(() => ({ status: 500, body: "bad\u0000answer\u0000" }));
    const fine = await receiver();
    const bad = await createEndpoint(db, org.ctx, { url: hostile.url, event_types: ["client_created"] });
    const good = await createEndpoint(db, org.ctx, { url: fine.url, event_types: ["client_created"] });
    await createRecord(org.ctx, "client", { name: "Nul Nora" });
    const logged = await waitFor(
      async () =>
        (
          await db
            .select()
            .from(webhookAttempts)
            .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
            .where(eq(webhookDeliveries.endpointId, bad.endpoint.id))
        )[0],
      { what: "the hostile answer logged" },
    );
    expect(logged.webhook_attempts.responseStatus).toBe(500);
    expect(logged.webhook_attempts.responseBody).toBe("bad\uFFFDanswer\uFFFD");
    const delivered = await waitFor(
      async () =>
        (
          await db
            .select()
            .from(webhookDeliveries)
            .where(and(eq(webhookDeliveries.endpointId, good.endpoint.id), eq(webhookDeliveries.status, "succeeded")))
        )[0],
      { what: "the other delivery" },
    );
    expect(delivered.attemptCount).toBe(1);
    expect(fine.received).toHaveLength(1);
  });

  it("signs with both secrets during a rotation's grace period", async () => {
    const org = await newOrg();
    const r = await receiver();
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    const rotated = await rotateEndpointSecret(db, org.ctx, ep.endpoint.id, "24h");
    await createRecord(org.ctx, "client", { name: "Rotation Rob" });
    await waitFor(() => r.received.length === 1, { what: "delivery" });
    const req = r.received[0]!;
    expect(req.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verified(ep.secret, req).type).toBe("client_created");
    expect(verified(rotated.secret, req).type).toBe("client_created");
    // Without grace only the new secret signs.
    const third = await rotateEndpointSecret(db, org.ctx, ep.endpoint.id, "none");
    await createRecord(org.ctx, "client", { name: "Rotation Rob 2" });
    await waitFor(() => r.received.length === 2, { what: "second delivery" });
    expect(verified(third.secret, r.received[1]!).type).toBe("client_created");
    expect(() => verified(rotated.secret, r.received[1]!)).toThrow();
  });

  it("sends a signed test event at once, without counting it against the endpoint", async () => {
    const org = await newOrg();
    const r = await receiver(() => ({ status: 500 }));
    const ep = await createEndpoint(db, org.ctx, { url: r.url });
    const { outcome, deliveryId } = await sendTestEvent(db, org.ctx, ep.endpoint.id, "invoice_paid");
    expect(outcome.status).toBe(500);
    expect(r.received).toHaveLength(1);
    expect(verified(ep.secret, r.received[0]!)).toMatchObject({ type: "invoice_paid", data: { object: "invoice", status: "paid" } });
    const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
    expect(d).toMatchObject({ status: "failed", attemptCount: 1 });
    const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.endpoint.id));
    expect(endpoint!.failingSince).toBeNull();
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.received).toHaveLength(1); // not retried
  });
});

describe("the SSRF guard", () => {
  it("refuses private and loopback URLs when on, at save time and at send time", async () => {
    const org = await newOrg();
    const r = await receiver();
    process.env.SMARFLE_ALLOW_PRIVATE_URLS = "0";
    resetEnvCache();
    try {
      for (const url of [
        r.url,
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
        "http://localhost/hook",
        "ftp://example.com/x",
      ]) {
        await expect(createEndpoint(db, org.ctx, { url }), url).rejects.toMatchObject({ code: "validation_failed" });
      }
      // Outside production the refusal says how to go on with a receiver on this machine.
      await expect(createEndpoint(db, org.ctx, { url: r.url })).rejects.toThrow(/SMARFLE_ALLOW_PRIVATE_URLS=1 .*tunnel/);
      // An endpoint that slipped in (saved before the guard, or DNS changed): refused when sending.
      const id = newId("we");
      await db.insert(webhookEndpoints).values({
        id,
        orgId: org.org.id,
        url: r.url,
        eventTypes: ["client_created"],
        secretCiphertext: encrypt("whsec_" + Buffer.alloc(24, 1).toString("base64"), { orgId: org.org.id, column: "webhook_endpoints.secret" }),
      });
      await worker.stop();
      await createRecord(org.ctx, "client", { name: "SSRF" });
      const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id));
      const outcome = await attemptDelivery(db, d!.id);
      expect(outcome!.status).toBeNull();
      expect(outcome!.decision).toMatchObject({ kind: "retry" });
      expect((outcome!.decision as { error: string }).error).toMatch(/not allowed|private/i);
      expect(r.received).toHaveLength(0);
    } finally {
      process.env.SMARFLE_ALLOW_PRIVATE_URLS = "1";
      resetEnvCache();
      worker = startWorker(db, { pollMs: 100, orgIds: () => orgs.map((o) => o.org.id) });
    }
  });
});
