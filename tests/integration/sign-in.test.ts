import { randomBytes, scryptSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { users } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { checkCredentials, SIGN_IN_LIMITS } from "@/lib/auth/sign-in";
import { ACCOUNT_REQUEST_LIMITS, checkAccountRequestAllowed } from "@/lib/auth/account-limits";
import { hashPassword, MAX_CONCURRENT_HASHES, MAX_WAITING_HASHES, needsRehash, verifyPassword } from "@/lib/auth/password";
import { createUser } from "@/lib/orgs/service";
import { randomIp } from "../helpers/api";
import { uniq, useTestDb } from "../helpers/db";
import { startSmtp } from "../helpers/smtp";

let handle: DbHandle;
let db: Db;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const userIds: string[] = [];
const password = "the right long password";

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  smtp = await startSmtp();
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  if (userIds.length) await db.delete(users).where(inArray(users.id, userIds));
  await smtp.close();
  await handle.close();
});

async function newUser() {
  const user = await createUser(db, { email: `${uniq("u")}@example.test`, password });
  userIds.push(user.id);
  return user;
}

// Each attempt costs a real scrypt hash (128 MiB, N=2^17): slow on a busy machine.
describe("sign-in throttling", { timeout: 120_000 }, () => {
  it("locks an account after 10 failures from any addresses, the right password included, tells its owner, and reopens after the window", async () => {
    const user = await newUser();
    const { limit, windowSeconds } = SIGN_IN_LIMITS.perAccount;
    vi.useFakeTimers({ toFake: ["Date"] });
    for (let i = 0; i < limit; i++) {
      expect(await checkCredentials(db, { email: user.email, password: `wrong ${i}` }, randomIp())).toEqual({ ok: false, reason: "invalid" });
    }
    const refused = await checkCredentials(db, { email: user.email.toUpperCase(), password }, randomIp());
    expect(refused).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(refused.ok === false && refused.retryAfterSeconds).toBeGreaterThan(windowSeconds - 60);
    expect(refused.ok === false && refused.retryAfterSeconds).toBeLessThanOrEqual(windowSeconds);

    const mail = await smtp.waitFor(user.email, /paused/);
    expect(mail.text).toMatch(/too many times/);

    vi.setSystemTime(Date.now() + (windowSeconds + 1) * 1000);
    expect(await checkCredentials(db, { email: user.email, password }, randomIp())).toMatchObject({ ok: true, user: { id: user.id } });
  });

  it("counts only failures against the account, and a success starts the count again", async () => {
    const user = await newUser();
    const { limit } = SIGN_IN_LIMITS.perAccount;
    for (let i = 0; i < limit - 1; i++) await checkCredentials(db, { email: user.email, password: "wrong" }, randomIp());
    for (let i = 0; i < 2; i++) expect((await checkCredentials(db, { email: user.email, password }, randomIp())).ok).toBe(true);
    for (let i = 0; i < limit - 1; i++)
      expect(await checkCredentials(db, { email: user.email, password: "wrong" }, randomIp())).toEqual({ ok: false, reason: "invalid" });
    expect((await checkCredentials(db, { email: user.email, password }, randomIp())).ok).toBe(true);
  });

  it("limits attempts per address, across accounts", async () => {
    // The limiter's sliding window weighs the previous window by the time elapsed, so a run that
    // straddles a window boundary may be allowed one attempt more. The clock is held still so all
    // the attempts fall in one window and the count is exact.
    vi.useFakeTimers({ toFake: ["Date"] });
    const ip = randomIp();
    for (let i = 0; i < SIGN_IN_LIMITS.perAddress.limit; i++) {
      expect(await checkCredentials(db, { email: `${uniq("nobody")}@example.test`, password: "x" }, ip)).toEqual({ ok: false, reason: "invalid" });
    }
    const last = await checkCredentials(db, { email: `${uniq("nobody")}@example.test`, password: "x" }, ip);
    expect(last).toMatchObject({ ok: false, reason: "rate_limited" });
    // Another address is not affected.
    expect(await checkCredentials(db, { email: `${uniq("nobody")}@example.test`, password: "x" }, randomIp())).toEqual({ ok: false, reason: "invalid" });
  });

  it("rehashes a password stored with older parameters on the next successful sign-in", async () => {
    const user = await newUser();
    const salt = randomBytes(16);
    const old = `scrypt$32768$8$1$${salt.toString("base64")}$${scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString("base64")}`;
    await db.update(users).set({ passwordHash: old }).where(eq(users.id, user.id));
    expect(needsRehash(old)).toBe(true);
    expect((await checkCredentials(db, { email: user.email, password }, randomIp())).ok).toBe(true);
    const [after] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, user.id));
    expect(after!.hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(needsRehash(after!.hash)).toBe(false);
    expect(await verifyPassword(password, after!.hash)).toBe(true);
  });
});

describe("password hashing", () => {
  it("runs at most a few hashes at once and refuses a burst beyond the queue", async () => {
    // The cheapest parameters verifyPassword accepts, so the burst is quick.
    const salt = randomBytes(16);
    const cheap = `scrypt$16384$8$1$${salt.toString("base64")}$${scryptSync("pw", salt, 32, { N: 2 ** 14, r: 8, p: 1 }).toString("base64")}`;
    const burst = MAX_CONCURRENT_HASHES + MAX_WAITING_HASHES + 10;
    const results = await Promise.allSettled(Array.from({ length: burst }, () => verifyPassword("pw", cheap)));
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(10);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: "unavailable" });
    expect(results.filter((r) => r.status === "fulfilled" && r.value === true)).toHaveLength(burst - 10);
    // And the slots are all given back.
    expect(await verifyPassword("pw", cheap)).toBe(true);
  });

  it("hashes new passwords at N=2^17", async () => {
    expect(await hashPassword("another password")).toMatch(/^scrypt\$131072\$8\$1\$/);
  });
});

describe("sign-up limits", () => {
  it("refuses sign-ups past the per-address limit, naming when to come back", async () => {
    const ip = randomIp();
    for (let i = 0; i < ACCOUNT_REQUEST_LIMITS.perAddress.limit; i++) await checkAccountRequestAllowed("sign_up", ip);
    await expect(checkAccountRequestAllowed("sign_up", ip)).rejects.toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/sign-ups from here\. Try again in \d+ minute/),
    });
    // Another address, and another kind of request from the same address, are not affected.
    await checkAccountRequestAllowed("sign_up", randomIp());
    await checkAccountRequestAllowed("password_reset", ip);
  });
});
