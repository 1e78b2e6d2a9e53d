import "server-only";
import { addressBucket } from "@/lib/http/client-address";
import { AppError } from "@/lib/errors";
import { getRateLimiter } from "@/lib/rate-limit";
import { logEvent } from "@/lib/log";

/**
 * Requests that cost a memory-hard hash, a row or an email — sign-ups, password-reset requests —
 * are limited per client address and, so that many addresses cannot flood them either, globally.
 * Each kind counts on its own.
 */
export const ACCOUNT_REQUEST_LIMITS = {
  perAddress: { limit: 20, windowSeconds: 10 * 60 },
  global: { limit: 300, windowSeconds: 60 * 60 },
} as const;

export type AccountRequest = "sign_up" | "password_reset";

const WORDS: Record<AccountRequest, string> = { sign_up: "sign-ups", password_reset: "password reset requests" };

export async function checkAccountRequestAllowed(kind: AccountRequest, ip: string): Promise<void> {
  const limiter = await getRateLimiter();
  const { perAddress, global } = ACCOUNT_REQUEST_LIMITS;
  const [address, all] = await Promise.all([
    limiter.limit(`${kind}:address:${addressBucket(ip)}`, perAddress.limit, perAddress.windowSeconds),
    limiter.limit(`${kind}:global`, global.limit, global.windowSeconds),
  ]);
  if (address.success && all.success) return;
  const minutes = Math.max(1, Math.ceil((Math.max(address.success ? 0 : address.reset, all.success ? 0 : all.reset) - Date.now()) / 60_000));
  logEvent("auth", { event: `${kind}_throttled`, scope: address.success ? "global" : "address", ip });
  throw new AppError("rate_limited", `Too many ${WORDS[kind]} from here. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
}
