import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { sql } from "drizzle-orm";
import { setDbHandle, type DbHandle } from "@/db/client";
import { openPostgres } from "@/db/drivers/postgres";
import { createRateLimiter, setRateLimiter } from "@/lib/rate-limit";
import { GET as health } from "@/app/api/health/route";
import { GET as ready } from "@/app/api/ready/route";
import { GET as me } from "@/app/api/v1/me/route";
import { POST as lead } from "@/app/api/webhook/leads/route";
import { call, makeKey } from "../helpers/api";
import { createTestOrg, dropTestOrgs, uniq, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";

/** A port on 127.0.0.1 where nothing listens: connections are refused at once. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

let handle: DbHandle;
let org: TestOrg;
let key: string;
let leadsKey: string;

beforeAll(async () => {
  handle = await useTestDb();
  org = await createTestOrg(handle.db);
  key = (await makeKey(handle.db, org, ["read"])).key;
  leadsKey = (await makeKey(handle.db, org, ["leads"], "form")).key;
});

afterAll(async () => {
  setDbHandle(handle);
  setRateLimiter(undefined);
  await dropTestOrgs(handle.db, [org]);
  await handle.close();
});

async function withDb<T>(other: DbHandle, fn: () => Promise<T>): Promise<T> {
  setDbHandle(other);
  try {
    return await fn();
  } finally {
    setDbHandle(handle);
    await other.close();
  }
}

describe(`health and readiness (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("/api/ready is 200 when the database answers and its schema is current", async () => {
    const res = await call(ready, { path: "/api/ready" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ready", checks: { database: "ok", migrations: "ok" } });
    if (process.env.REDIS_URL) expect(res.body.checks).toMatchObject({ rate_limit_store: "ok" });
    // Nothing about how it is configured.
    expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|postgres:|redis:|5432|6379/);
  });

  it("with the database unreachable: /api/health stays 200, /api/ready is 503 naming it, the API answers 503 with Retry-After", async () => {
    const dead = await openPostgres(`postgres://postgres@127.0.0.1:${await closedPort()}/nowhere`, { max: 2 });
    await withDb(dead, async () => {
      const h = await call(health, { path: "/api/health" });
      expect(h).toMatchObject({ status: 200, body: { status: "ok" } });

      const r = await call(ready, { path: "/api/ready" });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: "unavailable", checks: { database: "down" } });
      expect(r.headers.get("retry-after")).toBe("5");

      const started = Date.now();
      const api = await call(me, { key });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(api.status).toBe(503);
      expect(api.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(api.body).toMatchObject({ error: { code: "unavailable", details: [] } });
      expect((api.body.error as { request_id: string }).request_id).toMatch(/^req_/);
      expect(JSON.stringify(api.body)).not.toMatch(/ECONNREFUSED|at .*\.ts/);

      // Lead capture too: a 503 a form or an ad platform can retry on, never a 500.
      const captured = await call(lead, { method: "POST", path: "/api/webhook/leads", key: leadsKey, body: { name: "Ada", email: "ada@example.test" } });
      expect(captured.status).toBe(503);
      expect(captured.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(captured.body).toMatchObject({ error: { code: "unavailable" } });
    });
    // And once the database is back, the same server answers again.
    expect((await call(me, { key })).status).toBe(200);
  });

  it.runIf(usingPostgres)("/api/ready says 'behind' when the database has not been migrated to this version", async () => {
    const name = `smarfle_ready_${uniq("db").replace(/-/g, "_")}`;
    await handle.db.execute(sql.raw(`create database ${name}`));
    try {
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      const empty = await openPostgres(url.toString(), { max: 2 });
      await withDb(empty, async () => {
        const r = await call(ready, { path: "/api/ready" });
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ checks: { database: "ok", migrations: "behind" } });
      });
    } finally {
      await handle.db.execute(sql.raw(`drop database if exists ${name} with (force)`));
    }
  });

  it("/api/ready is 503 naming the rate-limit store when Redis does not answer", async () => {
    const limiter = await createRateLimiter({ redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    setRateLimiter(limiter);
    try {
      const r = await call(ready, { path: "/api/ready" });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ checks: { database: "ok", migrations: "ok", rate_limit_store: "down" } });
    } finally {
      setRateLimiter(undefined);
      await limiter.close();
    }
  });
});
