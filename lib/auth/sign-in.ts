import "server-only";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { getRateLimiter } from "@/lib/rate-limit";
import { findUserByEmail } from "@/lib/orgs/service";
import { DUMMY_HASH, verifyPassword } from "./password";

// Sign-in attempts: 10 per 15 minutes per (IP, email) and 50 per 15 minutes per IP, in the
// configured store, so every app instance counts together.
const WINDOW_SECONDS = 15 * 60;

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(200),
});

export type SignInOutcome =
  | { ok: true; user: { id: string; email: string; name: string } }
  | { ok: false; reason: "invalid" | "rate_limited"; retryAfterSeconds?: number };

export async function checkCredentials(db: Executor, raw: unknown, ip: string): Promise<SignInOutcome> {
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { email, password } = parsed.data;
  const limiter = await getRateLimiter();
  const ipResult = await limiter.limit(`signin:ip:${ip}`, 50, WINDOW_SECONDS);
  const accountResult = await limiter.limit(`signin:acct:${ip}:${email}`, 10, WINDOW_SECONDS);
  if (!ipResult.success || !accountResult.success) {
    const reset = Math.max(ipResult.success ? 0 : ipResult.reset, accountResult.success ? 0 : accountResult.reset);
    return { ok: false, reason: "rate_limited", retryAfterSeconds: Math.ceil((reset - Date.now()) / 1000) };
  }
  const user = await findUserByEmail(db, email);
  // Hash even when the user is unknown so timing does not reveal which emails exist.
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid) return { ok: false, reason: "invalid" };
  return { ok: true, user: { id: user.id, email: user.email, name: user.name } };
}
