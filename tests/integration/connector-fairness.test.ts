import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { connectorRuns } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import * as list from "@/app/api/v1/connectors/route";
import * as one from "@/app/api/v1/connectors/[id]/route";
import * as runNow from "@/app/api/v1/connectors/[id]/run/route";
import { connectorRunsSettled } from "@/lib/connectors/run";
import { afterWorkSettled } from "@/lib/http/after";
import { newId } from "@/lib/ids";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";
import { allowPrivateUrls } from "../helpers/env";
import { waitFor } from "../helpers/receiver";

/**
 * Local sources: one answers every page after 20 s (a slow or hanging system), one at once; a
 * third records whatever reaches it (a foreign origin a next_url may point at).
 */
const SLOW_MS = 20_000;
const servers: http.Server[] = [];
const foreignHits: string[] = [];
let slowUrl: string;
let fastUrl: string;
let foreignUrl: string;
let handle: DbHandle;
let db: Db;
const orgs: TestOrg[] = [];
let restoreEnv: () => void;

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));

beforeAll(async () => {
  slowUrl = await listen((_req, res) => {
    const t = setTimeout(() => json(res, { items: [] }), SLOW_MS);
    res.on("close", () => clearTimeout(t));
  });
  foreignUrl = await listen((req, res) => {
    foreignHits.push(`${req.url} ${req.headers.authorization ?? ""}`);
    json(res, { items: [] });
  });
  fastUrl = await listen((req, res) => {
    if (req.url?.startsWith("/leak")) return json(res, { items: [{ id: "l1", name: "Leak" }], next: `${foreignUrl}/steal` });
    json(res, { items: [{ id: "f1", name: "Fast One" }] });
  });
  // Two-second budget, so a hanging source is cut off within the test.
  restoreEnv = allowPrivateUrls({ CONNECTOR_RUN_BUDGET_SECONDS: "2" });
  handle = await useTestDb();
  db = handle.db;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await afterWorkSettled();
  await connectorRunsSettled();
  restoreEnv();
  await dropTestOrgs(db, orgs);
  await handle.close();
});

const mapping = { target: "client", external_id: "id", fields: { name: "name" } };

async function orgWithKey() {
  const org = await createTestOrg(db, { plan: "pro" });
  orgs.push(org);
  return { org, key: (await makeKey(db, org, ["admin"])).key };
}

async function createConnector(key: string, url: string, extra: object = {}) {
  const res = await call(list.POST, {
    method: "POST",
    key,
    body: {
      name: "Source",
      url,
      headers: { Authorization: "Bearer secret-token" },
      interval_minutes: 60,
      records_path: "items",
      pagination: { type: "none" },
      mapping,
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

const runOf = async (id: string) => (await db.select().from(connectorRuns).where(eq(connectorRuns.id, id)))[0]!;

describe("connector runs are fair and asynchronous", () => {
  it("one organization's hanging sources never delay another's run now", async () => {
    restoreEnv();
    restoreEnv = allowPrivateUrls({ CONNECTOR_RUN_BUDGET_SECONDS: "60" });
    const slow = await orgWithKey();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await createConnector(slow.key, `${slowUrl}/items`));
    const queued: string[] = [];
    for (const id of ids) {
      const res = await call(runNow.POST, { method: "POST", key: slow.key, params: { id } });
      expect(res.status).toBe(202);
      queued.push(res.body.id as string);
    }
    await waitFor(async () => (await Promise.all(queued.map(runOf))).filter((r) => r.status === "running").length === 2, { what: "two slow runs started" });
    const statuses = (await Promise.all(queued.map(runOf))).map((r) => r.status).sort();
    expect(statuses).toEqual(["queued", "running", "running"]); // at most 2 per organization

    const fast = await orgWithKey();
    const fastId = await createConnector(fast.key, `${fastUrl}/items`);
    const started = Date.now();
    const res = await call(runNow.POST, { method: "POST", key: fast.key, params: { id: fastId } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ object: "connector_run", status: "queued", trigger: "manual" });
    expect(Date.now() - started).toBeLessThan(1000); // answered at once
    const done = await waitFor(
      async () => {
        const r = await runOf(res.body.id as string);
        return r.status === "succeeded" || r.status === "failed" ? r : null;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "the other organization's run" },
    );
    expect(done).toMatchObject({ status: "succeeded", created: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);

    // A connector never runs twice at once: a second "run now" while one is queued or running is refused.
    const again = await call(runNow.POST, { method: "POST", key: slow.key, params: { id: ids[0]! } });
    expect(again).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    await expect(
      db
        .insert(connectorRuns)
        .values({ id: newId("run"), orgId: slow.org.org.id, connectorId: ids[0]!, status: "queued", trigger: "schedule", startedAt: new Date() }),
    ).rejects.toThrow();
    for (const id of ids) await call(one.DELETE, { method: "DELETE", key: slow.key, params: { id } });
  }, 60_000);

  it("stops a run at its wall-clock budget and logs why", async () => {
    restoreEnv();
    restoreEnv = allowPrivateUrls({ CONNECTOR_RUN_BUDGET_SECONDS: "2" });
    const { key } = await orgWithKey();
    const id = await createConnector(key, `${slowUrl}/items`);
    const res = await call(runNow.POST, { method: "POST", key, params: { id } });
    const started = Date.now();
    const done = await waitFor(
      async () => {
        const r = await runOf(res.body.id as string);
        return r.status === "failed" ? r : null;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "the run to be stopped" },
    );
    expect(done.error).toMatch(/longer than its budget of 2 s/);
    expect(Date.now() - started).toBeLessThan(SLOW_MS);
  }, 30_000);
});

describe("connector hygiene", () => {
  it("refuses headers that belong to the connection, naming the header", async () => {
    const { key } = await orgWithKey();
    for (const name of [
      "Host",
      "Content-Length",
      "Transfer-Encoding",
      "Connection",
      "Upgrade",
      "TE",
      "Keep-Alive",
      "Expect",
      "Proxy-Authorization",
      "proxy-connection",
    ]) {
      const res = await call(list.POST, {
        method: "POST",
        key,
        body: { name: "x", url: `${fastUrl}/items`, headers: { Authorization: "Bearer t", [name]: "v" }, interval_minutes: 60, mapping },
      });
      expect(res.status, name).toBe(400);
      expect(res.body).toMatchObject({
        error: { code: "validation_failed", details: [{ path: `headers.${name}`, message: expect.stringContaining(`${name} may not be set`) }] },
      });
    }
    const ok = await createConnector(key, `${fastUrl}/items`);
    const patched = await call(one.PATCH, { method: "PATCH", key, params: { id: ok }, body: { headers: { Host: "internal.example" } } });
    expect(patched.status).toBe(400);
    const split = await call(one.PATCH, { method: "PATCH", key, params: { id: ok }, body: { headers: { "X-Token": "a\r\nX-Injected: 1" } } });
    expect(split.status).toBe(400);
  });

  it("never sends the stored headers to another origin: a foreign next_url fails the run", async () => {
    const { key } = await orgWithKey();
    const id = await createConnector(key, `${fastUrl}/leak`, { pagination: { type: "next_url", path: "next" } });
    const res = await call(runNow.POST, { method: "POST", key, params: { id } });
    const run = await waitFor(
      async () => {
        const r = await runOf(res.body.id as string);
        return r.status === "failed" || r.status === "succeeded" ? r : null;
      },
      { what: "the run to end" },
    );
    expect(run).toMatchObject({ status: "failed", pages: 1, created: 1 });
    expect(run.error).toMatch(/next page's URL is on http:\/\/127\.0\.0\.1:\d+, not on the connector's origin/);
    expect(foreignHits).toEqual([]);
  });
});
