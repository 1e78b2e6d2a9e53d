import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eq, sql } from "drizzle-orm";
import { apiKeys, organizations } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { GET as me } from "@/app/api/v1/me/route";
import { keyCacheState, verifyApiKey } from "@/lib/api-keys/verify";
import { resetEnvCache } from "@/lib/env";
import { createTestOrg, dropTestOrgs, openTestDb, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";

// Verified keys are kept in memory and dropped when the database notifies a change. These tests
// count the key lookups the gate sends, and make changes the way another server, the CLI or an
// operator's SQL would: not through this process's code.

let handle: DbHandle;
let db: Db;
let org: TestOrg;
let lookups = 0;
/** A second connection: changes made here reach the gate only through the notification. */
let other: DbHandle;

beforeAll(async () => {
  handle = await useTestDb({ logger: { logQuery: (q) => void (/from "api_keys"/.test(q) && lookups++) } });
  db = handle.db;
  other = usingPostgres ? await openTestDb() : handle;
  org = await createTestOrg(db, { plan: "business" });
  keyCacheState(db); // starts listening
  await vi.waitFor(() => expect(keyCacheState(db).listening).toBe(true), { timeout: 5000 });
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  if (other !== handle) await other.close();
  await handle.close();
});

const refusedSoon = (key: string) => vi.waitFor(async () => expect((await call(me, { key })).status).toBe(401), { timeout: 3000, interval: 10 });

describe("API key cache", () => {
  it("looks a key up once, then serves it from memory", async () => {
    const { key } = await makeKey(db, org, ["read"]);
    lookups = 0;
    for (let i = 0; i < 5; i++) expect((await call(me, { key })).status).toBe(200);
    expect(lookups).toBe(1);
  });

  it("does not keep unknown keys: each costs a lookup", async () => {
    lookups = 0;
    const unknown = `sk_live_${"x".repeat(43)}`;
    expect(await verifyApiKey(db, unknown)).toBeNull();
    expect(await verifyApiKey(db, unknown)).toBeNull();
    expect(lookups).toBe(2);
  });

  it("drops a key revoked by plain SQL from another connection", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    expect((await call(me, { key })).status).toBe(200);
    await other.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
    await refusedSoon(key);
  });

  it("applies a scope change and an org's new rate limit made elsewhere", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    expect((await call(me, { key })).status).toBe(200);
    await other.db
      .update(apiKeys)
      .set({ scopes: ["leads"] })
      .where(eq(apiKeys.id, apiKey.id));
    await vi.waitFor(async () => expect((await call(me, { key })).status).toBe(403), { timeout: 3000, interval: 10 });

    const reader = await makeKey(db, org, ["read"]);
    expect((await call(me, { key: reader.key })).body.rate_limit).toMatchObject({ limit: expect.any(Number) });
    await other.db.update(organizations).set({ rateLimitRpm: 4321 }).where(eq(organizations.id, org.org.id));
    await vi.waitFor(async () => expect((await call(me, { key: reader.key })).headers.get("x-ratelimit-limit")).toBe("4321"), { timeout: 3000, interval: 10 });
    await other.db.update(organizations).set({ rateLimitRpm: null }).where(eq(organizations.id, org.org.id));
  });

  it("refuses a cached key the moment it expires, without a notification", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    // Expiry a moment away, set before first use: the cached row carries it. (The update's own
    // notification comes within milliseconds; let it pass before the key is cached.)
    const expiresAt = Date.now() + 600;
    await db
      .update(apiKeys)
      .set({ expiresAt: new Date(expiresAt) })
      .where(eq(apiKeys.id, apiKey.id));
    await new Promise((r) => setTimeout(r, 100));
    expect((await call(me, { key })).status).toBe(200);
    lookups = 0;
    await new Promise((r) => setTimeout(r, expiresAt + 50 - Date.now()));
    expect((await call(me, { key })).status).toBe(401);
    expect(lookups).toBe(0);
  });

  it("writes to last_used_at and record counts do not empty the cache", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    expect((await call(me, { key })).status).toBe(200);
    await other.db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
    await other.db
      .update(organizations)
      .set({ recordCount: sql`${organizations.recordCount}` })
      .where(eq(organizations.id, org.org.id));
    // A notification would arrive within milliseconds; give it time to (not) come.
    await new Promise((r) => setTimeout(r, 100));
    lookups = 0;
    expect((await call(me, { key })).status).toBe(200);
    expect(lookups).toBe(0);
  });

  it.runIf(usingPostgres)("stops trusting a listener whose connection hangs without closing, and reconnects", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    let counted = 0;
    const watched = await openTestDb({ listenHeartbeatMs: 100, logger: { logQuery: (q) => void (/from "api_keys"/.test(q) && counted++) } });
    let pid: number | undefined;
    try {
      expect(await verifyApiKey(watched.db, key)).not.toBeNull(); // starts its listener
      await vi.waitFor(() => expect(keyCacheState(watched.db).listening).toBe(true), { timeout: 5000, interval: 20 });
      const rows = (await other.db.execute(
        sql`select pid, application_name from pg_stat_activity where application_name like ${`smarfle-listen-${process.pid}-%`}`,
      )) as unknown as { pid: number; application_name: string }[];
      const seq = (r: { application_name: string }) => Number(r.application_name.split("-").pop());
      pid = rows.sort((a, b) => seq(b) - seq(a))[0]!.pid; // the newest listener of this process: watched's
      expect(await verifyApiKey(watched.db, key)).not.toBeNull();
      // Freeze its backend: the connection stays open but nothing comes back, as behind a NAT
      // that dropped it. The heartbeat notices and the cache stops being used.
      process.kill(pid, "SIGSTOP");
      await vi.waitFor(() => expect(keyCacheState(watched.db).listening).toBe(false), { timeout: 5000, interval: 20 });
      await other.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
      counted = 0;
      expect(await verifyApiKey(watched.db, key)).toBeNull();
      expect(counted).toBe(1);
      // It listens again on a new connection.
      await vi.waitFor(() => expect(keyCacheState(watched.db).listening).toBe(true), { timeout: 5000, interval: 20 });
    } finally {
      if (pid) {
        process.kill(pid, "SIGCONT");
        await other.db.execute(sql`select pg_terminate_backend(${pid})`);
      }
      await watched.close();
    }
  });

  // A second handle on the same database: PostgreSQL only (each in-memory PGlite is its own).
  it.runIf(usingPostgres)("is off with SMARFLE_KEY_CACHE=0 and in serverless mode: every request looks its key up", async () => {
    const { key } = await makeKey(db, org, ["read"]);
    for (const setting of [{ SMARFLE_KEY_CACHE: "0" }, { QSTASH_TOKEN: "t", QSTASH_CURRENT_SIGNING_KEY: "a", QSTASH_NEXT_SIGNING_KEY: "b" }]) {
      let counted = 0;
      const saved = { ...process.env };
      Object.assign(process.env, setting);
      resetEnvCache();
      const plain = await openTestDb({ logger: { logQuery: (q) => void (/from "api_keys"/.test(q) && counted++) } });
      try {
        for (let i = 0; i < 3; i++) expect(await verifyApiKey(plain.db, key)).toMatchObject({ orgId: org.org.id });
        expect(counted).toBe(3);
        expect(keyCacheState(plain.db)).toEqual({ listening: false, size: 0 });
      } finally {
        for (const k of Object.keys(setting)) delete process.env[k];
        Object.assign(process.env, saved);
        resetEnvCache();
        await plain.close();
      }
    }
  });

  it.runIf(usingPostgres)("is bypassed while its listening connection is down, and resumes after", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    expect((await call(me, { key })).status).toBe(200);
    expect(keyCacheState(db).size).toBeGreaterThan(0);
    // Cut every listener on this database (other test files' servers reconnect the same way).
    await other.db.execute(
      sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen "smarfle_credentials"%' and pid <> pg_backend_pid()`,
    );
    await vi.waitFor(() => expect(keyCacheState(db).listening).toBe(false), { timeout: 3000, interval: 5 });
    expect(keyCacheState(db).size).toBe(0);
    // A change no notification reaches while down: refused at once all the same.
    await other.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKey.id));
    lookups = 0;
    expect((await call(me, { key })).status).toBe(401);
    expect(lookups).toBe(1);
    // Back to listening (the retry starts at 250 ms): keys are cached again.
    await vi.waitFor(() => expect(keyCacheState(db).listening).toBe(true), { timeout: 5000, interval: 20 });
    const fresh = await makeKey(db, org, ["read"]);
    lookups = 0;
    for (let i = 0; i < 3; i++) expect((await call(me, { key: fresh.key })).status).toBe(200);
    expect(lookups).toBe(1);
  });
});
