import "server-only";
import { AppError } from "@/lib/errors";
import { getRateLimiter } from "./index";

/**
 * Requests Smarfle sends to a third-party host on an admin's say-so — a test event, a connector's
 * "run now" — are limited per organization, whichever door asks (settings UI or API), so nobody
 * can turn Smarfle into a cannon aimed at someone else's server (or inbox).
 */
export const OUTBOUND_LIMITS = {
  test_event: { perMinute: 10, what: "test events" },
  connector_run: { perMinute: 10, what: "connector runs started by hand" },
  // Every invitation is an email from our mail server: its reputation carries everyone's mail.
  invitation: { perMinute: 10, what: "invitation emails" },
} as const;

export type OutboundKind = keyof typeof OUTBOUND_LIMITS;

/** Counts one `kind` request for the organization, or refuses it with 429 and Retry-After. */
export async function limitOutbound(orgId: string, kind: OutboundKind): Promise<void> {
  const { perMinute, what } = OUTBOUND_LIMITS[kind];
  const limited = await (await getRateLimiter()).limit(`outbound:${kind}:${orgId}`, perMinute, 60);
  if (limited.success) return;
  const retryAfter = Math.max(1, Math.ceil((limited.reset - Date.now()) / 1000));
  const err = new AppError("rate_limited", `This organization may send ${perMinute} ${what} per minute. Retry after ${retryAfter} s.`);
  err.retryAfterSeconds = retryAfter;
  throw err;
}
