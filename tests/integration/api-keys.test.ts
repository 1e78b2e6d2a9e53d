import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys, apiUsageDaily, auditLog } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { GET as me } from "@/app/api/v1/me/route";
import { listApiKeys, revokeApiKey, rotateApiKey } from "@/lib/api-keys/keys";
import { hashKey } from "@/lib/api-keys/verify";
import { flushUsage, usageThisMonth } from "@/lib/api-keys/usage";
import { createTestOrg, dropTestOrgs, useTestDb, type TestOrg } from "../helpers/db";
import { call, makeKey } from "../helpers/api";

let handle: DbHandle;
let db: Db;
let org: TestOrg;

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  org = await createTestOrg(db, { plan: "business" });
});

afterAll(async () => {
  await dropTestOrgs(db, [org]);
  await handle.close();
});

const ctx = () => ({ orgId: org.org.id, actor: { type: "user" as const, id: org.users.owner.id, label: org.users.owner.email }, source: "ui" as const });

function expectErrorEnvelope(res: { status: number; body: Record<string, unknown>; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  const error = res.body.error as Record<string, unknown>;
  expect(error).toMatchObject({ code });
  expect(typeof error.message).toBe("string");
  expect(Array.isArray(error.details)).toBe(true);
  expect(error.request_id).toMatch(/^req_/);
  expect(res.headers.get("x-request-id")).toBe(error.request_id);
  expect(JSON.stringify(res.body)).not.toMatch(/at .+\.ts:\d+/); // no stack trace
}

describe("API keys at rest", () => {
  it("stores only a SHA-256 hash; the plaintext is returned once", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read", "write"]);
    expect(key).toMatch(/^sk_live_[0-9A-Za-z]{43}$/);
    expect(apiKey.prefix).toBe(key.slice(0, 12));
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.hash).toBe(hashKey(key));
    expect(JSON.stringify(row)).not.toContain(key.slice(12));
    const listed = await listApiKeys(db, org.org.id);
    const mine = listed.find((k) => k.id === apiKey.id)!;
    expect(mine).toMatchObject({ status: "active", creator: org.users.owner.email, scopes: ["read", "write"] });
    expect(mine).not.toHaveProperty("hash");
    const audit = await db.select().from(auditLog).where(eq(auditLog.targetId, apiKey.id));
    expect(audit.map((a) => a.action)).toEqual(["api_key.created"]);
  });

  it("refuses bad names and unknown scopes", async () => {
    await expect(makeKey(db, org, [])).rejects.toMatchObject({ code: "validation_failed" });
    await expect(makeKey(db, org, ["read", "root"])).rejects.toMatchObject({ code: "validation_failed" });
    await expect(makeKey(db, org, ["read"], "")).rejects.toMatchObject({ code: "validation_failed" });
  });
});

describe("the API gate", () => {
  it("accepts the key as a Bearer token and as X-API-Key", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    for (const header of ["bearer", "x-api-key"] as const) {
      const res = await call(me, { key, header });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        object: "api_key",
        id: apiKey.id,
        scopes: ["read"],
        organization: { id: org.org.id, plan: "business" },
        rate_limit: { limit: 3000 },
      });
      expect(res.headers.get("x-ratelimit-limit")).toBe("3000");
    }
  });

  it("answers 401 in the error envelope for a missing, malformed or unknown key", async () => {
    expectErrorEnvelope(await call(me, {}), 401, "unauthorized");
    expectErrorEnvelope(await call(me, { key: "sk_live_short" }), 401, "unauthorized");
    expectErrorEnvelope(await call(me, { key: `sk_live_${"A".repeat(43)}` }), 401, "unauthorized");
    const res = await call(me, { key: "nonsense" });
    expect(res.headers.get("x-ratelimit-limit")).toBeTruthy();
  });

  it("refuses a revoked key immediately", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    expect((await call(me, { key })).status).toBe(200);
    await revokeApiKey(db, ctx(), apiKey.id);
    expectErrorEnvelope(await call(me, { key }), 401, "unauthorized");
    expect((await listApiKeys(db, org.org.id)).find((k) => k.id === apiKey.id)!.status).toBe("revoked");
  });

  it("refuses an expired key", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    await db
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, apiKey.id));
    expectErrorEnvelope(await call(me, { key }), 401, "unauthorized");
  });

  it("rotation without grace refuses the old key at once; the new one works", async () => {
    const old = await makeKey(db, org, ["read", "write"], "rotate me");
    const fresh = await rotateApiKey(db, ctx(), old.apiKey.id, "none");
    expect(fresh.apiKey).toMatchObject({ name: "rotate me", scopes: ["read", "write"] });
    expectErrorEnvelope(await call(me, { key: old.key }), 401, "unauthorized");
    expect((await call(me, { key: fresh.key })).status).toBe(200);
    await expect(rotateApiKey(db, ctx(), old.apiKey.id, "1h")).rejects.toMatchObject({ code: "conflict" });
  });

  it("rotation with a grace period keeps the old key valid until it ends", async () => {
    const old = await makeKey(db, org, ["read"]);
    const fresh = await rotateApiKey(db, ctx(), old.apiKey.id, "24h");
    expect((await call(me, { key: old.key })).status).toBe(200);
    expect((await call(me, { key: fresh.key })).status).toBe(200);
    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, old.apiKey.id));
    expect(row!.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 23.9 * 3600_000);
    expect(row!.rotatedToId).toBe(fresh.apiKey.id);
    // The grace period ends (moved into the past by SQL, which reaches the gate's key cache by
    // the database's notification, within milliseconds).
    await db
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(apiKeys.id, old.apiKey.id));
    await vi.waitFor(async () => expectErrorEnvelope(await call(me, { key: old.key }), 401, "unauthorized"), { timeout: 3000, interval: 10 });
    expect((await call(me, { key: fresh.key })).status).toBe(200);
  });

  it("names the missing scope with 403 insufficient_scope", async () => {
    const { key } = await makeKey(db, org, ["leads"]);
    const res = await call(me, { key });
    expectErrorEnvelope(res, 403, "insufficient_scope");
    expect(String((res.body.error as { message: string }).message)).toContain('"read"');
    const admin = await makeKey(db, org, ["admin"]);
    expect((await call(me, { key: admin.key })).status).toBe(200);
  });

  it("keys last use and usage in memory, written in one batch", async () => {
    const { key, apiKey } = await makeKey(db, org, ["read"]);
    await flushUsage(db);
    const before = await usageThisMonth(db, org.org.id);
    for (let i = 0; i < 3; i++) await call(me, { key });
    const [unflushed] = await db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(unflushed!.lastUsedAt).toBeNull();
    await flushUsage(db);
    const [flushed] = await db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(flushed!.lastUsedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const after = await usageThisMonth(db, org.org.id);
    expect(after.monthCalls - before.monthCalls).toBe(3);
    const rows = await db.select().from(apiUsageDaily).where(eq(apiUsageDaily.orgId, org.org.id));
    expect(rows).toHaveLength(1);
  });
});

describe("plan limits on keys", () => {
  it("refuses more active keys than the plan allows", async () => {
    const starter = await createTestOrg(db, { plan: "starter" });
    try {
      for (let i = 0; i < 5; i++) await makeKey(db, starter, ["read"]);
      await expect(makeKey(db, starter, ["read"])).rejects.toMatchObject({ code: "plan_limit_reached" });
    } finally {
      await dropTestOrgs(db, [starter]);
    }
  });
});
