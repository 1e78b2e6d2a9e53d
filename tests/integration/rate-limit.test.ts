import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import IORedis from "ioredis";
import { Ratelimit } from "@upstash/ratelimit";
import type { Db, DbHandle } from "@/db/client";
import { GET as me } from "@/app/api/v1/me/route";
import { createRateLimiter, setRateLimiter, type RateLimiter } from "@/lib/rate-limit";
import { RedisScriptAdapter } from "@/lib/rate-limit/redis-adapter";
import { setOrgRateLimit } from "@/lib/orgs/service";
import { revokeApiKey } from "@/lib/api-keys/keys";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey, randomIp } from "../helpers/api";

const REDIS_URL = process.env.REDIS_URL;
const backend = REDIS_URL ? "Redis (REDIS_URL)" : "in-memory";

let handle: DbHandle;
let db: Db;
let limiter: RateLimiter;
const orgs: TestOrg[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  // ephemeralCache off: every decision below is Redis's, not the library's local cache.
  limiter = await createRateLimiter({ redisUrl: REDIS_URL, ephemeralCache: false });
  setRateLimiter(limiter);
});

afterAll(async () => {
  setRateLimiter(undefined);
  await limiter.close();
  await dropTestOrgs(db, orgs);
  await handle.close();
});

/**
 * The sliding window weighs the previous fixed window by the share of it still in view, rounded
 * down; a burst that straddles a window boundary can therefore let one extra request through.
 * Tests that count exactly start well inside a window (windows are aligned to the epoch).
 */
async function clearOfWindowEdge(windowSeconds = 60, marginMs = 5000) {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
}

async function starterKey() {
  await clearOfWindowEdge();
  const org = await createTestOrg(db, { plan: "starter" });
  orgs.push(org);
  return { org, ...(await makeKey(db, org, ["read"])) };
}

describe(`rate limits on ${backend}`, () => {
  it("lets exactly 60 of 100 concurrent requests through and answers the rest 429 with Retry-After", async () => {
    const { key } = await starterKey();
    const results = await Promise.all(Array.from({ length: 100 }, () => call(me, { key })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(60);
    expect(limited).toHaveLength(40);
    for (const r of limited) {
      expect((r.body.error as { code: string }).code).toBe("rate_limited");
      const retryAfter = r.headers.get("retry-after")!;
      expect(retryAfter).toMatch(/^\d+$/); // whole seconds, never a date
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(r.headers.get("x-ratelimit-limit")).toBe("60");
      expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
      expect(r.headers.get("ratelimit-policy")).toBe('"default";q=60;w=60');
    }
    expect(new Set(ok.map((r) => r.headers.get("x-ratelimit-remaining"))).size).toBe(60);
  });

  it("counts the remaining requests down, header by header", async () => {
    const { key } = await starterKey();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call(me, { key });
      remaining.push(Number(r.headers.get("x-ratelimit-remaining")));
      expect(r.headers.get("ratelimit")).toMatch(/^"default";r=\d+;t=\d+$/);
    }
    expect(remaining).toEqual([59, 58, 57, 56, 55]);
  });

  it("applies an operator's override on the next request, without a restart", async () => {
    const { key, org } = await starterKey();
    expect((await call(me, { key })).headers.get("x-ratelimit-limit")).toBe("60");
    await setOrgRateLimit(db, org.org.id, 3);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(me, { key })).status);
    // One request was already counted in this window at the old limit.
    expect(statuses).toEqual([200, 200, 429, 429]);
    await setOrgRateLimit(db, org.org.id, 1000);
    expect((await call(me, { key })).status).toBe(200);
  });

  it("caps the org as a whole: more keys do not multiply the quota", async () => {
    const { org, key } = await starterKey();
    await setOrgRateLimit(db, org.org.id, 10);
    const second = await makeKey(db, org, ["read"]);
    const third = await makeKey(db, org, ["read"]);
    const results = [];
    for (const k of [key, second.key, third.key]) for (let i = 0; i < 10; i++) results.push((await call(me, { key: k })).status);
    // Per key 10/min, the org 2 × 10 = 20/min: the third key finds the org's ceiling reached.
    expect(results.filter((s) => s === 200)).toHaveLength(20);
  });

  it("gives a count back to a window when the other limit refused the request", async () => {
    await clearOfWindowEdge();
    const id = `refund:${randomBytes(6).toString("hex")}`;
    await limiter.limit(id, 5);
    expect((await limiter.limit(id, 5)).remaining).toBe(3);
    await limiter.refund(id, 5);
    expect((await limiter.limit(id, 5)).remaining).toBe(3);
  });

  it("refuses a key revoked since its last request without counting the refused request", async () => {
    const { key, org, apiKey } = await starterKey();
    await setOrgRateLimit(db, org.org.id, 2); // per key 2/min, the org 4/min
    expect((await call(me, { key })).status).toBe(200);
    await revokeApiKey(db, org.ctx, apiKey.id);
    expect((await call(me, { key })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    // Only the first request counts against the org: 4 - 1 - this one = 2 left.
    expect((await limiter.limit(`org:${org.org.id}`, 4)).remaining).toBe(2);
  });

  it("slides the window: capacity comes back as the window moves", async () => {
    const id = `slide:${randomBytes(6).toString("hex")}`;
    const take = () => limiter.limit(id, 3, 2);
    // Start at the beginning of a 2 s window so all four calls land in the same one.
    await new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 20));
    const first = [await take(), await take(), await take(), await take()];
    expect(first.map((r) => r.success)).toEqual([true, true, true, false]);
    // In the next window the previous one still weighs in: at 50 % elapsed, 1 of 3 counts.
    await new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 1000));
    const half = [await take(), await take(), await take()];
    expect(half.map((r) => r.success)).toEqual([true, true, false]);
    // Two windows later nothing of the burst is left.
    await new Promise((r) => setTimeout(r, 4000 - (Date.now() % 2000)));
    expect((await take()).remaining).toBe(2);
  }, 15_000);

  it("refuses unauthenticated floods per client address", async () => {
    const ip = randomIp();
    await clearOfWindowEdge();
    const statuses = [];
    for (let i = 0; i < 62; i++) statuses.push((await call(me, { key: "wrong", ip })).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(60);
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});

describe("when the rate-limit store is down", () => {
  it("keeps serving the API (fail open) and says so in the result", async () => {
    const down = await createRateLimiter({ redisUrl: "redis://127.0.0.1:1", ephemeralCache: false });
    setRateLimiter(down);
    try {
      const { key } = await starterKey();
      const started = Date.now();
      const res = await call(me, { key });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await down.limit("x", 1)).toMatchObject({ success: true, degraded: true });
    } finally {
      setRateLimiter(limiter);
      await down.close();
    }
  });
});

describe.skipIf(!REDIS_URL)("the plain-Redis adapter", () => {
  it("strips the Upstash-only script flag and keeps evalsha working after the first load", async () => {
    const client = new IORedis(REDIS_URL!);
    const adapter = new RedisScriptAdapter(client);
    let evals = 0;
    let evalshas = 0;
    const counted = {
      eval: (...a: Parameters<RedisScriptAdapter["eval"]>) => (evals++, adapter.eval(...a)),
      evalsha: (...a: Parameters<RedisScriptAdapter["evalsha"]>) => (evalshas++, adapter.evalsha(...a)),
      get: adapter.get.bind(adapter),
      set: adapter.set.bind(adapter),
    };
    try {
      const rl = new Ratelimit({
        redis: counted as never,
        limiter: Ratelimit.slidingWindow(5, "10 s"),
        ephemeralCache: false,
        prefix: `t${randomBytes(4).toString("hex")}`,
      });
      const results = [];
      for (let i = 0; i < 7; i++) results.push((await rl.limit("user")).success);
      expect(results).toEqual([true, true, true, true, true, false, false]);
      expect(evals).toBe(1); // loaded once...
      expect(evalshas).toBe(7); // ...then always by hash
      // Redis forgets its scripts (as after a restart): the limiter reloads and carries on.
      await client.script("FLUSH");
      expect((await rl.limit("other")).success).toBe(true);
      expect(evals).toBe(2);
    } finally {
      client.disconnect();
    }
  });

  it("sends the checks made in one turn of the event loop to Redis as one pipeline", async () => {
    const client = new IORedis(REDIS_URL!);
    const adapter = new RedisScriptAdapter(client);
    let pipelines = 0;
    const pipeline = client.pipeline.bind(client);
    client.pipeline = ((...a: Parameters<typeof pipeline>) => (pipelines++, pipeline(...a))) as typeof client.pipeline;
    try {
      const rl = new Ratelimit({
        redis: adapter as never,
        limiter: Ratelimit.slidingWindow(5, "10 s"),
        ephemeralCache: false,
        prefix: `t${randomBytes(4).toString("hex")}`,
      });
      expect((await rl.limit("warm")).success).toBe(true); // loads the script
      pipelines = 0;
      const results = await Promise.all(Array.from({ length: 20 }, () => rl.limit("burst")));
      expect(results.filter((r) => r.success)).toHaveLength(5);
      expect(
        results
          .map((r) => r.remaining)
          .sort((a, b) => b - a)
          .slice(0, 5),
      ).toEqual([4, 3, 2, 1, 0]);
      expect(pipelines).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
