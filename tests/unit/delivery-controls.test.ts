import { describe, expect, it } from "vitest";
import { applyAttempts, classify, CIRCUIT_MAX_COOLDOWN_S, MIN_EFFECTIVE_RATE, type HealthState, type ObservedAttempt } from "@/lib/webhooks/controls";

const fresh: HealthState = {
  consecutiveFailures: 0,
  circuitState: "closed",
  circuitUntil: null,
  circuitCooldownSeconds: 0,
  rateLimit: null,
  effectiveRate: null,
  rateReason: null,
  rateChangedAt: null,
  pausedUntil: null,
  pauseReason: null,
  failingSince: null,
  lastSuccessAt: null,
};
const t0 = Date.parse("2026-11-29T12:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000);
const attempt = (status: number | null, s: number, retryAfterSeconds: number | null = null): ObservedAttempt => ({
  cls: classify(status, status === null ? "timed out" : null),
  status,
  retryAfterSeconds,
  at: at(s),
});

describe("the circuit breaker's arithmetic", () => {
  it("classifies answers: 2xx success, 429 throttled, 503 unavailable, timeouts and 5xx failures, the rest rejected", () => {
    expect([200, 429, 503, null, 500, 404, 301].map((s) => classify(s, s === null ? "timed out" : null))).toEqual([
      "success",
      "throttled",
      "unavailable",
      "failure",
      "failure",
      "rejected",
      "rejected",
    ]);
  });

  it("opens on the 10th consecutive failure, not before, and 4xx neither counts nor resets", () => {
    const nine = applyAttempts(
      fresh,
      Array.from({ length: 9 }, (_, i) => attempt(500, i)),
    );
    expect(nine.state.circuitState).toBe("closed");
    const with404 = applyAttempts(nine.state, [attempt(404, 9)]);
    expect(with404.state.consecutiveFailures).toBe(9);
    const tenth = applyAttempts(with404.state, [attempt(null, 10)]);
    expect(tenth).toMatchObject({ opened: true, state: { circuitState: "open", circuitCooldownSeconds: 30 } });
    expect(tenth.state.circuitUntil).toEqual(at(40));
  });

  it("doubles the cool-down on each failed probe, up to an hour, and one success closes it", () => {
    let s = applyAttempts(
      fresh,
      Array.from({ length: 10 }, (_, i) => attempt(500, i)),
    ).state;
    const cooldowns: number[] = [];
    for (let i = 0; i < 9; i++) {
      s = applyAttempts({ ...s, circuitState: "half_open" }, [attempt(502, 100 + i)]).state;
      cooldowns.push(s.circuitCooldownSeconds);
    }
    expect(cooldowns).toEqual([60, 120, 240, 480, 960, 1920, CIRCUIT_MAX_COOLDOWN_S, CIRCUIT_MAX_COOLDOWN_S, CIRCUIT_MAX_COOLDOWN_S]);
    const back = applyAttempts({ ...s, circuitState: "half_open" }, [attempt(200, 200)]);
    expect(back).toMatchObject({ recovered: true, state: { circuitState: "closed", consecutiveFailures: 0, circuitCooldownSeconds: 0, failingSince: null } });
  });
});

describe("adaptive rate", () => {
  it("halves once per burst of 429s, never below 1 per 10 s, pauses on Retry-After, and grows back additively", () => {
    const limited = { ...fresh, rateLimit: 8 };
    const burst = applyAttempts(limited, [attempt(429, 0, 2), attempt(429, 0.1, 2), attempt(429, 0.2, 2)]).state;
    expect(burst.effectiveRate).toBe(4);
    expect(burst.pausedUntil).toEqual(new Date(t0 + 2200));
    expect(burst.pauseReason).toMatch(/Retry-After: 2/);
    let s = burst;
    for (let i = 0; i < 12; i++) s = applyAttempts(s, [attempt(503, 10 + i * 3)]).state;
    expect(s.effectiveRate).toBe(MIN_EFFECTIVE_RATE);
    // Good answers: +0.5/s per 2 s, back to the configured limit, then no back-off at all.
    const rates: (number | null)[] = [];
    for (let i = 0; i < 17; i++) {
      s = applyAttempts(s, [attempt(200, 100 + i * 2)]).state;
      rates.push(s.effectiveRate);
    }
    expect(rates.slice(0, 3)).toEqual([0.6, 1.1, 1.6]);
    expect(rates.at(-1)).toBeNull();
    expect(s.rateReason).toBeNull();
  });
});
