import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { notifications, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { newId } from "@/lib/ids";
import { createRecord } from "@/lib/records/pipeline";
import { CIRCUIT_FAILURE_THRESHOLD } from "@/lib/webhooks/controls";
import { createEndpoint, updateEndpoint } from "@/lib/webhooks/endpoints";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { createTestOrg, dropTestOrgs, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { startReceiver, waitFor, type Received } from "../helpers/receiver";
import { allowPrivateUrls } from "../helpers/env";

/**
 * Delivery that respects every receiver: the circuit breaker, isolation from hanging endpoints,
 * per-endpoint rate and back-off, per-record ordering, custom headers and receiver auth, and the
 * operational events — each against real receivers on 127.0.0.1.
 */

let restoreEnv: () => void;
let handle: DbHandle;
let db: Db;
let worker: DeliveryWorker;
const orgs: TestOrg[] = [];
const closers: (() => Promise<void>)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // Compressed schedule: attempts due 0, 1, 2, … 5 s after the first.
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

const endpointRow = async (id: string) => (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0]!;
const payload = (r: Received) => JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> };

describe("the circuit breaker", () => {
  it("opens after 10 consecutive failures, holds deliveries without using up their attempts, and one probe decides", async () => {
    const org = await newOrg();
    let healthy = false;
    const r = await receiver(() => ({ status: healthy ? 200 : 500 }));
    const watcher = await receiver();
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    const watch = await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["endpoint.failing", "endpoint.recovered"] });
    for (let i = 0; i < 12; i++) await createRecord(org.ctx, "client", { name: `Breaker ${i}` });

    const opened = await waitFor(async () => {
      const e = await endpointRow(ep.endpoint.id);
      return e.circuitState === "open" ? e : null;
    }, { what: "open circuit" });
    expect(opened.consecutiveFailures).toBeGreaterThanOrEqual(CIRCUIT_FAILURE_THRESHOLD);
    expect(opened.circuitCooldownSeconds).toBe(30);
    await sleep(300); // attempts already in flight when it opened land
    const attemptsWhenOpened = r.received.length;
    const countsWhenOpened = await db.select({ id: webhookDeliveries.id, n: webhookDeliveries.attemptCount }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
    // Retries fall due every second on this schedule: none is attempted while the circuit is open.
    await sleep(2500);
    expect(r.received.length).toBe(attemptsWhenOpened);
    const countsLater = await db.select({ id: webhookDeliveries.id, n: webhookDeliveries.attemptCount }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
    expect(countsLater.sort((a, b) => a.id.localeCompare(b.id))).toEqual(countsWhenOpened.sort((a, b) => a.id.localeCompare(b.id)));

    // The org hears of it, signed, at its other endpoint — and the failing endpoint is not told about itself.
    const failing = await waitFor(() => watcher.received.find((x) => payload(x).type === "endpoint.failing"), { what: "endpoint.failing" });
    const body = new Webhook(watch.secret).verify(failing.body, failing.headers) as { data: Record<string, unknown> };
    expect(body.data).toMatchObject({ object: "webhook_endpoint", id: ep.endpoint.id, url: r.url });
    expect(r.received.every((x) => !payload(x).type.startsWith("endpoint."))).toBe(true);
    const bell = await db.select().from(notifications).where(eq(notifications.orgId, org.org.id));
    expect(bell.filter((n) => n.kind === "endpoint.failing")).toHaveLength(2); // owner and admin

    // The cool-down runs out while the receiver still fails: exactly one probe, and the cool-down doubles.
    await db.update(webhookEndpoints).set({ circuitUntil: new Date(Date.now() - 1000) }).where(eq(webhookEndpoints.id, ep.endpoint.id));
    await waitFor(async () => (await endpointRow(ep.endpoint.id)).circuitCooldownSeconds === 60, { what: "doubled cool-down" });
    await sleep(1000);
    expect(r.received.length).toBe(attemptsWhenOpened + 1);
    expect(await endpointRow(ep.endpoint.id)).toMatchObject({ circuitState: "open", status: "enabled" });

    // It recovers: the probe succeeds, the circuit closes and everything waiting is delivered.
    healthy = true;
    await db.update(webhookEndpoints).set({ circuitUntil: new Date(Date.now() - 1000) }).where(eq(webhookEndpoints.id, ep.endpoint.id));
    await waitFor(async () => {
      const rows = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
      return rows.length === 12 && rows.every((x) => x.status === "succeeded");
    }, { what: "all delivered after recovery" });
    expect(await endpointRow(ep.endpoint.id)).toMatchObject({ circuitState: "closed", consecutiveFailures: 0, circuitCooldownSeconds: 0 });
    await waitFor(() => watcher.received.find((x) => payload(x).type === "endpoint.recovered"), { what: "endpoint.recovered" });
  });
});

describe("isolation", () => {
  /** A TCP server that accepts connections and never answers; it holds every socket until closed. */
  async function hangingServer() {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
      s.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      port,
      sockets,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  // 50,000 pending deliveries and 50 held sockets: real PostgreSQL (the embedded database runs in
  // this same process, so its queries would compete with the sockets under test for one thread).
  it.runIf(usingPostgres)(
    "50 hanging endpoints across 10 organizations, 1,000 deliveries each, never slow another organization's endpoint",
    async () => {
      const ownWorkerOrgs: string[] = [];
      const own = startWorker(db, { pollMs: 100, orgIds: () => ownWorkerOrgs });
      const servers: Awaited<ReturnType<typeof hangingServer>>[] = [];
      try {
        for (let o = 0; o < 10; o++) {
          const org = await newOrg();
          ownWorkerOrgs.push(org.org.id);
          const server = await hangingServer();
          servers.push(server);
          for (let e = 0; e < 5; e++) {
            const ep = await createEndpoint(db, org.ctx, { url: `http://127.0.0.1:${server.port}/hook/${e}`, event_types: ["client_created"] });
            const eventId = newId("evt");
            await db.execute(sql`insert into webhook_events (id, org_id, type, record_type, record_id, data) values (${eventId}, ${org.org.id}, 'client_created', 'client', ${`cli_${eventId}`}, '{"object":"client"}'::jsonb)`);
            await db.execute(sql`
              insert into webhook_deliveries (id, org_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
              select 'dlv_hang' || ${ep.endpoint.id} || '_' || g, ${org.org.id}, ${eventId}, ${ep.endpoint.id}, 'pending', now() - interval '1 minute', now() - interval '1 minute', now()
              from generate_series(1, 1000) g`);
          }
        }
        const healthyOrg = await newOrg();
        ownWorkerOrgs.push(healthyOrg.org.id);
        const latencies: number[] = [];
        const r = await receiver((req) => {
          latencies.push(req.at - Date.parse((JSON.parse(req.body) as { created_at: string }).created_at));
          return { status: 200 };
        });
        await createEndpoint(db, healthyOrg.ctx, { url: r.url, event_types: ["client_created"] });

        // 80 records over about 8 s while the hanging backlog is being worked.
        for (let i = 0; i < 80; i++) {
          await createRecord(healthyOrg.ctx, "client", { name: `Healthy ${i}` });
          await sleep(100);
        }
        await waitFor(() => latencies.length >= 80, { timeoutMs: 10_000, what: "healthy deliveries" });
        const sorted = [...latencies].sort((a, b) => a - b);
        const p95 = sorted[Math.floor(0.95 * sorted.length)]!;
        // The hanging endpoints really were being attempted, holding sockets open.
        const held = servers.reduce((n, s) => n + s.sockets.size, 0);
        expect(held).toBeGreaterThan(0);
        expect(p95, `p95 ${p95} ms, p50 ${sorted[Math.floor(sorted.length / 2)]} ms`).toBeLessThan(1000);
      } finally {
        // Closing the servers resets the held sockets, so the hanging attempts end at once.
        for (const s of servers) await s.close();
        await own.stop();
      }
    },
    90_000,
  );
});

describe("WEBHOOK_DISABLE_AFTER", () => {
  it("disables an endpoint failing for longer than it, and endpoint.disabled reaches another endpoint", async () => {
    process.env.WEBHOOK_DISABLE_AFTER = "2";
    resetEnvCache();
    try {
      const org = await newOrg();
      const dead = await receiver(() => ({ status: 404 }));
      const watcher = await receiver();
      const ep = await createEndpoint(db, org.ctx, { url: dead.url, event_types: ["client_created"] });
      const watch = await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["endpoint.disabled"] });
      await createRecord(org.ctx, "client", { name: "Never arrives" });
      const disabled = await waitFor(async () => {
        const e = await endpointRow(ep.endpoint.id);
        return e.status === "disabled" ? e : null;
      }, { what: "disabled endpoint", timeoutMs: 10_000 });
      expect(disabled.disabledReason).toBe("every delivery failed for 2 s");
      const got = await waitFor(() => watcher.received.find((x) => payload(x).type === "endpoint.disabled"), { what: "endpoint.disabled" });
      const body = new Webhook(watch.secret).verify(got.body, got.headers) as { data: Record<string, unknown> };
      expect(body.data).toMatchObject({ object: "webhook_endpoint", id: ep.endpoint.id, reason: "every delivery failed for 2 s" });
      // An admin disabling the watcher's sibling is an endpoint.disabled too.
      const other = await createEndpoint(db, org.ctx, { url: dead.url, event_types: ["invoice_paid"] });
      await updateEndpoint(db, org.ctx, other.endpoint.id, { enabled: false });
      await waitFor(() => watcher.received.filter((x) => payload(x).type === "endpoint.disabled").length === 2, { what: "second endpoint.disabled" });
    } finally {
      delete process.env.WEBHOOK_DISABLE_AFTER;
      resetEnvCache();
    }
  });
});
