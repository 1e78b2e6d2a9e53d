import { env } from "@/lib/env";

/**
 * The one retry schedule, whichever queue runs it: seconds after the FIRST attempt at which
 * each attempt is due. Six attempts: at once, then 1 min, 5 min, 30 min and 2 h after the
 * previous one, and a last one 24 h after the first. WEBHOOK_RETRY_SCHEDULE overrides it
 * (tests compress it), in the same form: offsets from the first attempt.
 */
export const DEFAULT_SCHEDULE = [0, 60, 360, 2160, 9360, 86_400];
export const ATTEMPT_TIMEOUT_MS = 15_000;

export function retrySchedule(): number[] {
  const raw = env().WEBHOOK_RETRY_SCHEDULE;
  return raw ? raw.split(",").map((s) => Number(s.trim())) : DEFAULT_SCHEDULE;
}

/**
 * When the next attempt is due after `attemptsMade` attempts, or null when there are none left.
 * ±10 % jitter spreads retries of many deliveries; a receiver's Retry-After is honoured when it
 * asks for longer than the schedule.
 */
export function nextAttemptAt(opts: {
  firstAttemptAt: Date;
  attemptsMade: number;
  now: Date;
  retryAfterSeconds?: number | null;
  schedule?: number[];
  random?: () => number;
}): Date | null {
  const schedule = opts.schedule ?? retrySchedule();
  if (opts.attemptsMade >= schedule.length) return null;
  const offset = schedule[opts.attemptsMade]!;
  const previousOffset = schedule[opts.attemptsMade - 1] ?? 0;
  const gap = Math.max(0, offset - previousOffset);
  const jitter = gap * 0.1 * ((opts.random ?? Math.random)() * 2 - 1);
  let due = opts.firstAttemptAt.getTime() + (offset + jitter) * 1000;
  if (opts.retryAfterSeconds && opts.retryAfterSeconds > 0) due = Math.max(due, opts.now.getTime() + opts.retryAfterSeconds * 1000);
  return new Date(Math.max(due, opts.now.getTime()));
}

/** Retry-After as seconds (delta or HTTP date), capped at a day; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = new Date()): number | null {
  if (!value) return null;
  const v = value.trim();
  let seconds: number;
  if (/^\d+$/.test(v)) seconds = Number(v);
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return null;
    seconds = Math.ceil((at - now.getTime()) / 1000);
  }
  return seconds > 0 ? Math.min(seconds, 86_400) : null;
}
