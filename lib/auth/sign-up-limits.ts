import "server-only";
import { AppError } from "@/lib/errors";
import { getRateLimiter } from "@/lib/rate-limit";
import { logEvent } from "@/lib/log";

/**
 * Each sign-up costs a memory-hard hash and a row: limited per client address and, so that many
 * addresses cannot flood it either, globally.
 */
export const SIGN_UP_LIMITS = {
  perAddress: { limit: 20, windowSeconds: 10 * 60 },
  global: { limit: 300, windowSeconds: 60 * 60 },
} as const;

export async function checkSignUpAllowed(ip: string): Promise<void> {
  const limiter = await getRateLimiter();
  const { perAddress, global } = SIGN_UP_LIMITS;
  const [address, all] = await Promise.all([
    limiter.limit(`signup:address:${ip}`, perAddress.limit, perAddress.windowSeconds),
    limiter.limit("signup:global", global.limit, global.windowSeconds),
  ]);
  if (address.success && all.success) return;
  const minutes = Math.max(1, Math.ceil((Math.max(address.success ? 0 : address.reset, all.success ? 0 : all.reset) - Date.now()) / 60_000));
  logEvent("auth", { event: "sign_up_throttled", scope: address.success ? "global" : "address", ip });
  throw new AppError("rate_limited", `Too many sign-ups from here. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
}
