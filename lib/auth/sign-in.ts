import "server-only";
import { addressBucket } from "@/lib/http/client-address";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { users } from "@/db/schema";
import { getRateLimiter } from "@/lib/rate-limit";
import { findUserByEmail } from "@/lib/orgs/service";
import { appUrl, sendEmailInBackground } from "@/lib/email/send";
import { logEvent } from "@/lib/log";
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from "./password";

/**
 * Sign-in throttling that an attacker cannot reset by changing address:
 * - per client address (the real one: lib/http/client-address.ts), attempts, in the rate-limit
 *   store so every app instance counts together;
 * - per account, whatever the address: failures, counted on the user's row. The failure that
 *   reaches the limit locks the account until the window has passed since then, the right
 *   password included, and its owner gets an email;
 * - a global ceiling on attempts, so a guess spread over many accounts is slowed as a whole.
 */
export const SIGN_IN_LIMITS = {
  perAddress: { limit: 50, windowSeconds: 15 * 60 },
  perAccount: { limit: 10, windowSeconds: 15 * 60 },
  global: { limit: 600, windowSeconds: 60 },
} as const;

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(200),
});

export type SignInUser = { id: string; email: string; name: string; sessionVersion: number };

export type SignInOutcome = { ok: true; user: SignInUser } | { ok: false; reason: "invalid" | "rate_limited"; retryAfterSeconds?: number };

const secondsUntil = (atMs: number, now: number) => Math.max(1, Math.ceil((atMs - now) / 1000));

export async function checkCredentials(db: Executor, raw: unknown, ip: string): Promise<SignInOutcome> {
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { email, password } = parsed.data;
  const limiter = await getRateLimiter();
  const { perAddress, global } = SIGN_IN_LIMITS;
  const [globalResult, addressResult] = await Promise.all([
    limiter.limit("signin:global", global.limit, global.windowSeconds),
    limiter.limit(`signin:address:${addressBucket(ip)}`, perAddress.limit, perAddress.windowSeconds),
  ]);
  if (!globalResult.success || !addressResult.success) {
    const blocking = !addressResult.success ? addressResult : globalResult;
    const retryAfterSeconds = secondsUntil(blocking.reset, Date.now());
    logEvent("auth", { event: "sign_in_throttled", scope: !addressResult.success ? "address" : "global", email, ip, retry_after: retryAfterSeconds });
    return { ok: false, reason: "rate_limited", retryAfterSeconds };
  }

  const user = await findUserByEmail(db, email);
  const now = Date.now();
  if (user?.signInLockedUntil && user.signInLockedUntil.getTime() > now) {
    const retryAfterSeconds = secondsUntil(user.signInLockedUntil.getTime(), now);
    logEvent("auth", { event: "sign_in_throttled", scope: "account", email, ip, retry_after: retryAfterSeconds });
    return { ok: false, reason: "rate_limited", retryAfterSeconds };
  }
  // Hash even when the user is unknown so timing does not reveal which emails exist.
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid) {
    logEvent("auth", { event: "sign_in_failed", email, ip, known: Boolean(user) });
    if (user) await countFailure(db, user.id, user.email, ip, new Date(now));
    return { ok: false, reason: "invalid" };
  }
  if (user.failedSignIns > 0) {
    await db.update(users).set({ failedSignIns: 0, failedSignInsSince: null }).where(eq(users.id, user.id));
  }
  if (needsRehash(user.passwordHash)) {
    const rehashed = await hashPassword(password);
    await db
      .update(users)
      .set({ passwordHash: rehashed, updatedAt: new Date() })
      .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)));
  }
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, sessionVersion: user.sessionVersion } };
}

/** One failure on the user's row, atomically; the one that reaches the limit locks and notifies. */
async function countFailure(db: Executor, userId: string, email: string, ip: string, now: Date): Promise<void> {
  const { limit, windowSeconds } = SIGN_IN_LIMITS.perAccount;
  // ISO strings: postgres.js does not serialise a Date inside a raw sql fragment.
  const at = now.toISOString();
  const windowStart = new Date(now.getTime() - windowSeconds * 1000).toISOString();
  const lockedUntil = new Date(now.getTime() + windowSeconds * 1000).toISOString();
  const fresh = sql`(${users.failedSignInsSince} is null or ${users.failedSignInsSince} <= ${windowStart}::timestamptz)`;
  const count = sql`(case when ${fresh} then 1 else ${users.failedSignIns} + 1 end)`;
  const [row] = await db
    .update(users)
    .set({
      failedSignIns: sql`${count}`,
      failedSignInsSince: sql`case when ${fresh} then ${at}::timestamptz else ${users.failedSignInsSince} end`,
      signInLockedUntil: sql`case when ${count} >= ${limit} then ${lockedUntil}::timestamptz else ${users.signInLockedUntil} end`,
    })
    .where(eq(users.id, userId))
    .returning({ failedSignIns: users.failedSignIns });
  if (row?.failedSignIns === limit) {
    logEvent("auth", { event: "account_locked", email, ip, minutes: windowSeconds / 60 });
    sendEmailInBackground(lockoutEmail(email, windowSeconds / 60, ip), "lockout");
  }
}

function lockoutEmail(to: string, minutes: number, ip: string) {
  return {
    to,
    subject: "Sign-in to your Smarfle account is paused",
    text: [
      `Someone entered a wrong password for ${to} too many times (last from ${ip}).`,
      `Sign-in to this account is paused for ${minutes} minutes, even with the right password.`,
      "",
      "If this was you, wait and try again. If it was not, your password held; consider changing it",
      `once you are back in: ${appUrl()}/sign-in`,
    ].join("\n"),
  };
}
