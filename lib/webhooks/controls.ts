import type { WebhookEndpoint } from "@/db/schema";

/**
 * How delivery treats each receiver: the circuit breaker, the adaptive rate (AIMD) and the
 * endpoint-wide pause. Pure: the worker, the QStash route and the claim query all follow these
 * numbers, so the rules are the same whichever queue runs the attempts.
 */

/** Consecutive failed attempts (timeouts, connection errors, 5xx) that open the circuit. */
export const CIRCUIT_FAILURE_THRESHOLD = 10;
/** The first cool-down; each failed probe doubles it, up to CIRCUIT_MAX_COOLDOWN_S. */
export const CIRCUIT_FIRST_COOLDOWN_S = 30;
export const CIRCUIT_MAX_COOLDOWN_S = 3600;
/** How long one worker holds the probe before another may send one (a crashed prober). */
export const PROBE_LEASE_S = 60;

export const RATE_LIMIT_MIN = 1;
export const RATE_LIMIT_MAX = 1000;
/** Back-off never goes below one delivery per 10 s. */
export const MIN_EFFECTIVE_RATE = 0.1;
/** An endpoint without a rate_limit that answers 429 is halved from this (deliveries/s)… */
export const ADAPTIVE_START_RATE = 20;
/** …and is unthrottled again once it has grown back to twice that. */
export const ADAPTIVE_CEILING_RATE = 2 * ADAPTIVE_START_RATE;
/** Additive increase: this much more per second, after each interval of good answers. */
export const RATE_STEP = 0.5;
export const RATE_STEP_INTERVAL_MS = 2000;
/** Slots reserved at once for a rate-limited endpoint: about this many seconds' worth. */
export const RESERVE_AHEAD_S = 2;

/** An attempt still unanswered after this is slow: it moves to the slow lane. */
export const SLOW_ATTEMPT_MS = 1000;

export type AttemptClass =
  /** 2xx. */
  | "success"
  /** 429: the receiver asks us to slow down. */
  | "throttled"
  /** 503: unavailable — slows us down AND counts toward the circuit. */
  | "unavailable"
  /** Timeout, connection error, other 5xx: counts toward the circuit. */
  | "failure"
  /** 3xx, 4xx: the receiver is up but refused this one. */
  | "rejected";

export function classify(status: number | null, error: string | null): AttemptClass {
  if (status !== null && status >= 200 && status < 300 && !error) return "success";
  if (status === 429) return "throttled";
  if (status === 503) return "unavailable";
  if (status === null || status >= 500) return "failure";
  return "rejected";
}

export const backsOff = (c: AttemptClass) => c === "throttled" || c === "unavailable";
export const countsTowardCircuit = (c: AttemptClass) => c === "failure" || c === "unavailable";

/** The rate in force: the lower of the configured limit and the back-off, or null for none. */
export function currentRate(e: Pick<WebhookEndpoint, "rateLimit" | "effectiveRate">): number | null {
  if (e.rateLimit != null && e.effectiveRate != null) return Math.min(e.rateLimit, e.effectiveRate);
  return e.effectiveRate ?? e.rateLimit ?? null;
}

export type HealthState = Pick<
  WebhookEndpoint,
  | "consecutiveFailures"
  | "circuitState"
  | "circuitUntil"
  | "circuitCooldownSeconds"
  | "rateLimit"
  | "effectiveRate"
  | "rateReason"
  | "rateChangedAt"
  | "pausedUntil"
  | "pauseReason"
  | "failingSince"
  | "lastSuccessAt"
>;

export interface ObservedAttempt {
  cls: AttemptClass;
  status: number | null;
  retryAfterSeconds: number | null;
  at: Date;
}

export interface HealthChange {
  state: HealthState;
  /** The circuit opened (closed → open). */
  opened: boolean;
  /** The circuit closed again after being open or half open. */
  recovered: boolean;
}

const HALVED = "halved to";
const fmtRate = (r: number) => (r >= 1 ? `${Math.round(r * 10) / 10}/s` : `1 per ${Math.round(1 / r)} s`);

/** Folds a run of attempts (in the order they finished) into the endpoint's health. Pure. */
export function applyAttempts(before: HealthState, attempts: ObservedAttempt[]): HealthChange {
  const s: HealthState = { ...before };
  let opened = false;
  let recovered = false;
  for (const a of attempts) {
    const now = a.at;
    if (a.cls === "success") {
      if (s.circuitState !== "closed") recovered = true;
      s.consecutiveFailures = 0;
      s.circuitState = "closed";
      s.circuitUntil = null;
      s.circuitCooldownSeconds = 0;
      s.failingSince = null;
      s.lastSuccessAt = now;
      // Additive increase while answers are good.
      if (s.effectiveRate != null && (!s.rateChangedAt || now.getTime() - s.rateChangedAt.getTime() >= RATE_STEP_INTERVAL_MS)) {
        const next = s.effectiveRate + RATE_STEP;
        const ceiling = s.rateLimit ?? ADAPTIVE_CEILING_RATE;
        if (next >= ceiling) {
          s.effectiveRate = null;
          s.rateReason = null;
        } else {
          s.effectiveRate = next;
          s.rateReason = `growing back to ${fmtRate(next)} after the receiver answered 429/503`;
        }
        s.rateChangedAt = now;
      }
      continue;
    }
    s.failingSince ??= now;
    if (backsOff(a.cls)) {
      // One halving per burst: the answers to requests already in flight do not halve it again.
      const justHalved = s.rateReason?.startsWith(HALVED) && s.rateChangedAt && now.getTime() - s.rateChangedAt.getTime() < RATE_STEP_INTERVAL_MS;
      if (!justHalved) {
        const from = currentRate(s) ?? ADAPTIVE_START_RATE;
        const halved = Math.max(MIN_EFFECTIVE_RATE, from / 2);
        s.effectiveRate = halved;
        s.rateChangedAt = now;
        s.rateReason = `${HALVED} ${fmtRate(halved)}: the receiver answered ${a.status} at ${now.toISOString()}`;
      }
      if (a.retryAfterSeconds) {
        const until = new Date(now.getTime() + a.retryAfterSeconds * 1000);
        if (!s.pausedUntil || s.pausedUntil < until) {
          s.pausedUntil = until;
          s.pauseReason = `the receiver answered ${a.status} with Retry-After: ${a.retryAfterSeconds}`;
        }
      }
    }
    if (countsTowardCircuit(a.cls)) {
      s.consecutiveFailures += 1;
      if (s.circuitState === "half_open") {
        // The probe failed: wait twice as long.
        s.circuitState = "open";
        s.circuitCooldownSeconds = Math.min(CIRCUIT_MAX_COOLDOWN_S, Math.max(CIRCUIT_FIRST_COOLDOWN_S, s.circuitCooldownSeconds * 2));
        s.circuitUntil = new Date(now.getTime() + s.circuitCooldownSeconds * 1000);
      } else if (s.circuitState === "closed" && s.consecutiveFailures >= CIRCUIT_FAILURE_THRESHOLD) {
        opened = true;
        s.circuitState = "open";
        s.circuitCooldownSeconds = CIRCUIT_FIRST_COOLDOWN_S;
        s.circuitUntil = new Date(now.getTime() + s.circuitCooldownSeconds * 1000);
      }
    }
  }
  return { state: s, opened, recovered: recovered && s.circuitState === "closed" };
}

/** Why an endpoint's deliveries are waiting, for the endpoint page; null when they are not. */
export function holdReason(e: Pick<WebhookEndpoint, "circuitState" | "circuitUntil" | "pausedUntil" | "pauseReason">, now = new Date()): string | null {
  if (e.circuitState === "open") return `circuit open after repeated failures: one probe at ${e.circuitUntil?.toISOString() ?? "soon"}`;
  if (e.circuitState === "half_open") return "circuit half open: one probe delivery is deciding";
  if (e.pausedUntil && e.pausedUntil > now) return `paused until ${e.pausedUntil.toISOString()} (${e.pauseReason ?? "receiver asked"})`;
  return null;
}
