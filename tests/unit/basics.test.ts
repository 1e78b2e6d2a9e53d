import { describe, expect, it } from "vitest";
import { newId, randomBase62 } from "@/lib/ids";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { MemorySlidingWindow } from "@/lib/rate-limit/memory";
import { changedFields } from "@/lib/records/serialize";
import { env, resetEnvCache } from "@/lib/env";
import { slugify } from "@/lib/orgs/service";
import { describeError } from "@/lib/log";

describe("ids", () => {
  it("carry their type prefix and sort by creation time", () => {
    const ids = Array.from({ length: 200 }, () => newId("cli"));
    expect(ids.every((id) => /^cli_[0-9A-Za-z]{23}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("random base62 has the requested length and alphabet", () => {
    expect(randomBase62(43)).toMatch(/^[0-9A-Za-z]{43}$/);
  });
});

describe("passwords", () => {
  it("hash with scrypt, salted, and verify only the right password", async () => {
    const a = await hashPassword("s3cret passphrase");
    const b = await hashPassword("s3cret passphrase");
    expect(a).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("s3cret passphrase", a)).toBe(true);
    expect(await verifyPassword("s3cret passphrasE", a)).toBe(false);
    expect(await verifyPassword("anything", "garbage")).toBe(false);
  });
});

describe("in-memory sliding window", () => {
  it("allows the limit per window and weights the previous window as it slides", () => {
    const limiter = new MemorySlidingWindow(3, 60_000);
    const t0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
    expect([1, 2, 3, 4].map(() => limiter.check("k", t0 + 1000).success)).toEqual([true, true, true, false]);
    expect(limiter.check("other", t0 + 1000).success).toBe(true);
    // Half-way into the next window, half of the previous 3 (rounded down: 1) still count.
    expect(limiter.check("k", t0 + 90_000)).toMatchObject({ success: true, remaining: 1 });
    expect(limiter.check("k", t0 + 90_000)).toMatchObject({ success: true, remaining: 0 });
    expect(limiter.check("k", t0 + 90_000).success).toBe(false);
    expect(limiter.check("k", t0 + 240_000)).toMatchObject({ success: true, remaining: 2 });
  });
});

describe("changedFields", () => {
  it("lists changed fields with their previous values, ignoring version and updated_at", () => {
    const before = { id: "a", object: "client" as const, version: 1, name: "A", tags: { x: 1 }, updated_at: "1" };
    const after = { id: "a", object: "client" as const, version: 2, name: "B", tags: { x: 1 }, updated_at: "2" };
    expect(changedFields(before, after)).toEqual({ name: "A" });
  });
});

describe("environment", () => {
  it("names the variable that is malformed", () => {
    const saved = { ...process.env };
    try {
      process.env.DATABASE_URL = "mysql://nope";
      process.env.WEBHOOK_RETRY_SCHEDULE = "0,60,soon";
      resetEnvCache();
      expect(() => env()).toThrow(/DATABASE_URL[\s\S]*WEBHOOK_RETRY_SCHEDULE|WEBHOOK_RETRY_SCHEDULE[\s\S]*DATABASE_URL/);
      process.env.DATABASE_URL = "postgres://u@127.0.0.1/db";
      process.env.WEBHOOK_RETRY_SCHEDULE = "0, 60,300";
      resetEnvCache();
      expect(env().DATABASE_URL).toBe("postgres://u@127.0.0.1/db");
    } finally {
      process.env = saved;
      resetEnvCache();
    }
  });
});

describe("slugify", () => {
  it("makes URL-safe slugs", () => {
    expect(slugify("Sparkle & Shine Cléaning!")).toBe("sparkle-shine-cleaning");
    expect(slugify("!!!")).toBe("org");
  });
});

describe("error logging", () => {
  it("never prints a failed query's bound parameters", () => {
    const cause = Object.assign(new Error("duplicate key value"), { code: "23505" });
    const err = new Error('Failed query: insert into "users" ("password_hash") values ($1)\nparams: scrypt$32768$secret-hash', { cause });
    const text = describeError(err);
    expect(text).toContain("duplicate key value");
    expect(text).toContain("23505");
    expect(text).not.toContain("secret-hash");
  });
});
