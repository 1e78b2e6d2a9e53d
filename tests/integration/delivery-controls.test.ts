import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { connectors, notifications, webhookAttempts, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { newId } from "@/lib/ids";
import { rowsOf } from "@/lib/db-utils";
import { createApiKey } from "@/lib/api-keys/keys";
import { announceExpiringKeys } from "@/lib/api-keys/expiring";
import { createConnector } from "@/lib/connectors/connectors";
import { runDueConnectors } from "@/lib/connectors/run";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { CIRCUIT_FAILURE_THRESHOLD } from "@/lib/webhooks/controls";
import { createEndpoint, updateEndpoint } from "@/lib/webhooks/endpoints";
import { endpointView } from "@/lib/webhooks/endpoint-fields";
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

/** The most requests that fell in any one-second window. */
function maxPerSecond(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("the circuit breaker", () => {
  it("opens after 10 consecutive failures, holds deliveries without using up their attempts, and one probe decides", async () => {
    const org = await newOrg();
    let healthy = false;
    const r = await receiver(() => ({ status: healthy ? 200 : 500 }));
    const watcher = await receiver();
    const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
    const watch = await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["endpoint.failing", "endpoint.recovered"] });
    for (let i = 0; i < 12; i++) await createRecord(org.ctx, "client", { name: `Breaker ${i}` });

    const opened = await waitFor(
      async () => {
        const e = await endpointRow(ep.endpoint.id);
        return e.circuitState === "open" ? e : null;
      },
      { what: "open circuit" },
    );
    expect(opened.consecutiveFailures).toBeGreaterThanOrEqual(CIRCUIT_FAILURE_THRESHOLD);
    expect(opened.circuitCooldownSeconds).toBe(30);
    await sleep(300); // attempts already in flight when it opened land
    const attemptsWhenOpened = r.received.length;
    const countsWhenOpened = await db
      .select({ id: webhookDeliveries.id, n: webhookDeliveries.attemptCount })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
    // Retries fall due every second on this schedule: none is attempted while the circuit is open.
    await sleep(2500);
    expect(r.received.length).toBe(attemptsWhenOpened);
    const countsLater = await db
      .select({ id: webhookDeliveries.id, n: webhookDeliveries.attemptCount })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
    expect(countsLater.sort((a, b) => a.id.localeCompare(b.id))).toEqual(countsWhenOpened.sort((a, b) => a.id.localeCompare(b.id)));

    // The org hears of it, signed, at its other endpoint — and the failing endpoint is not told about itself.
    const failing = await waitFor(() => watcher.received.find((x) => payload(x).type === "endpoint.failing"), { what: "endpoint.failing" });
    const body = new Webhook(watch.secret).verify(failing.body, failing.headers) as { data: Record<string, unknown> };
    expect(body.data).toMatchObject({ object: "webhook_endpoint", id: ep.endpoint.id, url: r.url });
    expect(r.received.every((x) => !payload(x).type.startsWith("endpoint."))).toBe(true);
    const bell = await db.select().from(notifications).where(eq(notifications.orgId, org.org.id));
    expect(bell.filter((n) => n.kind === "endpoint.failing")).toHaveLength(2); // owner and admin

    // The cool-down runs out while the receiver still fails: exactly one probe, and the cool-down doubles.
    await db
      .update(webhookEndpoints)
      .set({ circuitUntil: new Date(Date.now() - 1000) })
      .where(eq(webhookEndpoints.id, ep.endpoint.id));
    await waitFor(async () => (await endpointRow(ep.endpoint.id)).circuitCooldownSeconds === 60, { what: "doubled cool-down" });
    await sleep(1000);
    expect(r.received.length).toBe(attemptsWhenOpened + 1);
    expect(await endpointRow(ep.endpoint.id)).toMatchObject({ circuitState: "open", status: "enabled" });

    // It recovers: the probe succeeds, the circuit closes and everything waiting is delivered.
    healthy = true;
    await db
      .update(webhookEndpoints)
      .set({ circuitUntil: new Date(Date.now() - 1000) })
      .where(eq(webhookEndpoints.id, ep.endpoint.id));
    await waitFor(
      async () => {
        const rows = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
        return rows.length === 12 && rows.every((x) => x.status === "succeeded");
      },
      { what: "all delivered after recovery" },
    );
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
            await db.execute(
              sql`insert into webhook_events (id, org_id, type, record_type, record_id, data) values (${eventId}, ${org.org.id}, 'client_created', 'client', ${`cli_${eventId}`}, '{"object":"client"}'::jsonb)`,
            );
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
      const disabled = await waitFor(
        async () => {
          const e = await endpointRow(ep.endpoint.id);
          return e.status === "disabled" ? e : null;
        },
        { what: "disabled endpoint", timeoutMs: 10_000 },
      );
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

/** Runs `fn` with some environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  resetEnvCache();
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetEnvCache();
  }
}

describe("per-endpoint rate", () => {
  // Real PostgreSQL only: the embedded database executes on this process's one thread, and while a
  // query runs the in-process receiver cannot take arrivals, so their timestamps bunch up even
  // though the sends were spaced (the pacing is the same code on both drivers).
  it.runIf(usingPostgres)(
    "an endpoint at rate_limit 5 never receives more than 6 requests in any one second while 100 events go out",
    async () => {
      const org = await newOrg();
      const r = await receiver();
      const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"], rate_limit: 5 });
      expect(endpointView(ep.endpoint)).toMatchObject({ rate_limit: 5, effective_rate: 5 });
      for (let i = 0; i < 100; i++) await createRecord(org.ctx, "client", { name: `Paced ${i}` });
      await waitFor(() => r.received.length >= 100, { timeoutMs: 40_000, what: "100 paced deliveries" });
      expect(maxPerSecond(r.received.map((x) => x.at))).toBeLessThanOrEqual(6);
    },
    60_000,
  );

  it("a receiver answering 429 with Retry-After: 2 above 5 requests/s gets all 200 events, and after 20 s fewer than 10 % of attempts are refused", async () => {
    await withEnv({ WEBHOOK_RETRY_SCHEDULE: "0,60,360,2160" }, async () => {
      const org = await newOrg();
      const times: number[] = [];
      const delivered = new Set<string>();
      const answers: { at: number; status: number }[] = [];
      const r = await receiver((req) => {
        const now = req.at;
        times.push(now);
        const recent = times.filter((t) => now - t < 1000).length;
        const status = recent > 5 ? 429 : 200;
        answers.push({ at: now, status });
        if (status === 200) delivered.add(payload(req).id);
        return status === 429 ? { status, headers: { "retry-after": "2" } } : { status };
      });
      const ep = await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_created"] });
      for (let i = 0; i < 200; i++) await createRecord(org.ctx, "client", { name: `Throttled ${i}` });
      const started = Date.now();
      // The endpoint page shows the back-off and why, once the receiver has pushed back.
      const slowed = await waitFor(
        async () => {
          const e = await endpointRow(ep.endpoint.id);
          return e.effectiveRate !== null ? e : null;
        },
        { what: "back-off in force" },
      );
      expect(endpointView(slowed).rate_reason).toMatch(/receiver answered 429/);
      await waitFor(() => delivered.size >= 200, { timeoutMs: 110_000, what: "all 200 events" });
      const late = answers.filter((a) => a.at - started > 20_000);
      const refused = late.filter((a) => a.status === 429).length;
      expect(late.length).toBeGreaterThan(20);
      expect(refused / late.length, `${refused} of ${late.length} attempts after 20 s were refused`).toBeLessThan(0.1);
      // No delivery was given up: back-pressure does not use up the retry schedule.
      const rows = await waitFor(
        async () => {
          const d = await db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
          return d.every((x) => x.status !== "pending") ? d : null;
        },
        { what: "every attempt recorded" },
      );
      expect(rows.filter((x) => x.status !== "succeeded")).toHaveLength(0);
    });
  }, 150_000);
});

describe("per-record ordering", () => {
  it("50 updates of one record reach a per_record endpoint in strictly increasing version, through slow answers and failures", async () => {
    const org = await newOrg();
    const accepted: number[] = [];
    const r = await receiver((req) => {
      if (Math.random() < 0.1) return { status: 500, delayMs: Math.random() * 200 };
      accepted.push(Number(payload(req).data.version));
      return { status: 200, delayMs: Math.random() * 200 };
    });
    await createEndpoint(db, org.ctx, { url: r.url, event_types: ["client_updated"], ordering: "per_record" });
    const client = await createRecord(org.ctx, "client", { name: "Ordered" });
    for (let i = 0; i < 50; i++) await updateRecord(org.ctx, "client", client.id, { phone: `+1 555 ${String(i).padStart(4, "0")}` });
    await waitFor(() => accepted.length >= 50, { timeoutMs: 60_000, what: "50 ordered deliveries" });
    expect(accepted).toHaveLength(50);
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]).toBeGreaterThan(accepted[i - 1]!);
    // Every receipt happened after the previous one was answered: one at a time.
    const times = r.received.map((x) => payload(x).data.version as number);
    expect(new Set(times).size).toBe(50);
  }, 90_000);
});

describe("custom headers and receiver auth", () => {
  it("sends static headers and bearer auth, logs them masked and shows header names only", async () => {
    const org = await newOrg();
    const r = await receiver();
    const ep = await createEndpoint(db, org.ctx, {
      url: r.url,
      event_types: ["client_created"],
      headers: { "X-Api-Key": "k-secret-1", "X-Tenant": "acme" },
      auth: { type: "bearer", token: "tok-bearer-1" },
    });
    await createRecord(org.ctx, "client", { name: "Headers" });
    const got = await waitFor(() => r.received[0], { what: "delivery" });
    expect(got.headers).toMatchObject({ "x-api-key": "k-secret-1", "x-tenant": "acme", authorization: "Bearer tok-bearer-1" });
    const view = endpointView(ep.endpoint);
    expect(view.headers).toEqual(["X-Api-Key", "X-Tenant"]);
    expect(view.auth).toEqual({ type: "bearer" });
    expect(JSON.stringify(view)).not.toMatch(/k-secret-1|tok-bearer-1/);
    const [logged] = await waitFor(
      () =>
        db
          .select()
          .from(webhookAttempts)
          .where(eq(webhookAttempts.orgId, org.org.id))
          .then((x) => (x.length ? x : null)),
      { what: "attempt log" },
    );
    expect(JSON.stringify(logged!.requestHeaders)).not.toMatch(/k-secret-1|tok-bearer-1/);
    expect(logged!.requestHeaders["X-Api-Key"]).toBe("[redacted]");
  });

  it("sends basic auth", async () => {
    const org = await newOrg();
    const r = await receiver();
    const ep = await createEndpoint(db, org.ctx, {
      url: r.url,
      event_types: ["client_created"],
      auth: { type: "basic", username: "smarfle", password: "p@ss word" },
    });
    expect(endpointView(ep.endpoint).auth).toEqual({ type: "basic", username: "smarfle" });
    await createRecord(org.ctx, "client", { name: "Basic" });
    const got = await waitFor(() => r.received[0], { what: "delivery" });
    expect(got.headers.authorization).toBe(`Basic ${Buffer.from("smarfle:p@ss word").toString("base64")}`);
  });

  it("fetches an OAuth 2.0 client-credentials token, caches it, and fetches a new one on a 401", async () => {
    const org = await newOrg();
    let issued = 0;
    let current = "";
    const tokenRequests: { auth: string; body: string }[] = [];
    const tokenServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        tokenRequests.push({ auth: req.headers.authorization ?? "", body: Buffer.concat(chunks).toString() });
        current = `tok-${++issued}`;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: current, token_type: "Bearer", expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => tokenServer.close(() => resolve())));
    const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth/token`;
    const r = await receiver((req) => ({ status: req.headers.authorization === `Bearer ${current}` ? 200 : 401 }));
    const ep = await createEndpoint(db, org.ctx, {
      url: r.url,
      event_types: ["client_created"],
      auth: { type: "oauth2", token_url: tokenUrl, client_id: "smarfle-client", client_secret: "s3cret", scope: "hooks:write" },
    });
    expect(endpointView(ep.endpoint).auth).toEqual({ type: "oauth2", token_url: tokenUrl, client_id: "smarfle-client", scope: "hooks:write" });
    await createRecord(org.ctx, "client", { name: "OAuth 1" });
    await waitFor(() => r.received.length === 1, { what: "first delivery" });
    await createRecord(org.ctx, "client", { name: "OAuth 2" });
    await waitFor(() => r.received.length === 2, { what: "second delivery" });
    expect(tokenRequests).toHaveLength(1); // cached
    expect(tokenRequests[0]!.auth).toBe(`Basic ${Buffer.from("smarfle-client:s3cret").toString("base64")}`);
    expect(new URLSearchParams(tokenRequests[0]!.body).get("grant_type")).toBe("client_credentials");
    expect(new URLSearchParams(tokenRequests[0]!.body).get("scope")).toBe("hooks:write");
    // The receiver revokes the token early: the next attempt gets a 401, fetches a new token and succeeds.
    current = "revoked";
    await createRecord(org.ctx, "client", { name: "OAuth 3" });
    await waitFor(() => r.received.filter((x) => x.headers.authorization === "Bearer tok-2").length === 1, { what: "retried with a fresh token" });
    expect(tokenRequests).toHaveLength(2);
    const rows = await waitFor(
      async () => {
        const d = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.endpoint.id));
        return d.length === 3 && d.every((x) => x.status === "succeeded") ? d : null;
      },
      { what: "three succeeded deliveries" },
    );
    expect(rows).toHaveLength(3);
  });

  it("refuses reserved header names, a custom Authorization beside auth, and a private token URL", async () => {
    const org = await newOrg();
    for (const name of ["Content-Type", "webhook-signature", "Host", "Transfer-Encoding", "Connection", "Content-Length", "X-Smarfle-Event"]) {
      await expect(createEndpoint(db, org.ctx, { url: "http://127.0.0.1:9/hook", headers: { [name]: "x" } })).rejects.toMatchObject({
        code: "validation_failed",
      });
    }
    await expect(createEndpoint(db, org.ctx, { url: "http://127.0.0.1:9/hook", headers: { "X-Ok": "a\r\nInjected: 1" } })).rejects.toMatchObject({
      code: "validation_failed",
    });
    await expect(
      createEndpoint(db, org.ctx, { url: "http://127.0.0.1:9/hook", headers: { Authorization: "x" }, auth: { type: "bearer", token: "t" } }),
    ).rejects.toMatchObject({ code: "validation_failed" });
    await withEnv({ SMARFLE_ALLOW_PRIVATE_URLS: "0" }, async () => {
      await expect(
        createEndpoint(db, org.ctx, {
          url: "https://93.184.215.14/hook",
          auth: { type: "oauth2", token_url: "http://169.254.169.254/token", client_id: "c", client_secret: "s" },
        }),
      ).rejects.toMatchObject({ code: "validation_failed", details: [{ path: "auth.token_url" }] });
    });
    const rows = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.orgId, org.org.id));
    expect(rows).toHaveLength(0);
  });
});

describe("operational events", () => {
  it("api_key.expiring is announced once, 7 days ahead, to subscribed endpoints and the bell", async () => {
    const org = await newOrg();
    const watcher = await receiver();
    const watch = await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["api_key.expiring"] });
    const everything = await receiver();
    await createEndpoint(db, org.ctx, { url: everything.url }); // every record event: not operational ones
    const soon = await createApiKey(db, org.ctx, { name: "Expiring soon", scopes: ["read"], expiresAt: new Date(Date.now() + 3 * 24 * 3600 * 1000) });
    await createApiKey(db, org.ctx, { name: "Expiring later", scopes: ["read"], expiresAt: new Date(Date.now() + 30 * 24 * 3600 * 1000) });
    expect(await announceExpiringKeys(db, { orgIds: [org.org.id] })).toBe(1);
    expect(await announceExpiringKeys(db, { orgIds: [org.org.id] })).toBe(0);
    const got = await waitFor(() => watcher.received[0], { what: "api_key.expiring" });
    const body = new Webhook(watch.secret).verify(got.body, got.headers) as { type: string; data: Record<string, unknown> };
    expect(body).toMatchObject({ type: "api_key.expiring", data: { object: "api_key", id: soon.apiKey.id, name: "Expiring soon" } });
    await sleep(500);
    expect(watcher.received).toHaveLength(1);
    expect(everything.received).toHaveLength(0);
    const bell = await db.select().from(notifications).where(eq(notifications.orgId, org.org.id));
    expect(bell.filter((n) => n.kind === "api_key.expiring")).toHaveLength(2);
  });

  it("connector.paused reaches a subscribed endpoint when a failing connector is paused", async () => {
    const org = await newOrg();
    const source = await receiver(() => ({ status: 503 }));
    const watcher = await receiver();
    await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["connector.paused"] });
    const connector = await createConnector(db, org.ctx, {
      name: "Flaky CRM",
      url: source.url,
      interval_minutes: 15,
      records_path: "data",
      mapping: { target: "client", fields: { name: "name" } },
    });
    await db
      .update(connectors)
      .set({ consecutiveFailures: 4, nextRunAt: new Date(Date.now() - 1000) })
      .where(eq(connectors.id, connector.id));
    expect(await runDueConnectors(db, { orgIds: [org.org.id] })).toBe(1);
    const got = await waitFor(() => watcher.received[0], { what: "connector.paused" });
    expect(payload(got)).toMatchObject({ type: "connector.paused", data: { object: "connector", id: connector.id, name: "Flaky CRM" } });
  });
});

describe("delivery.exhausted", () => {
  it("tells subscribed endpoints when every attempt failed, but never about an operational event's own delivery", async () => {
    const org = await newOrg();
    const dead = await receiver(() => ({ status: 404 }));
    const watcher = await receiver();
    const ep = await createEndpoint(db, org.ctx, { url: dead.url, event_types: ["client_created"] });
    await createEndpoint(db, org.ctx, { url: watcher.url, event_types: ["delivery.exhausted"] });
    // An endpoint that wants the same alerts but refuses them all: its failures raise no alert.
    await createEndpoint(db, org.ctx, { url: dead.url, event_types: ["delivery.exhausted"] });
    await createRecord(org.ctx, "client", { name: "Undeliverable" });
    const got = await waitFor(() => watcher.received[0], { what: "delivery.exhausted", timeoutMs: 20_000 });
    expect(payload(got)).toMatchObject({
      type: "delivery.exhausted",
      data: { object: "webhook_delivery", endpoint_id: ep.endpoint.id, event_type: "client_created", attempts: 6 },
    });
    // The refusing subscriber's copy of that alert fails 6 times too (about 5 s): still one alert in all.
    await sleep(7000);
    const alerts = await db.execute(sql`select count(*)::int as n from webhook_events where org_id = ${org.org.id} and type = 'delivery.exhausted'`);
    expect(rowsOf<{ n: number }>(alerts)[0]).toMatchObject({ n: 1 });
    expect(watcher.received).toHaveLength(1);
  }, 40_000);
});
