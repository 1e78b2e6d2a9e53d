/**
 * In-memory sliding window, for the embedded default (one process). Same algorithm as
 * @upstash/ratelimit's slidingWindow: the previous fixed window's count is weighted by how much of
 * it still overlaps the sliding window.
 */
export interface LimitResult {
  success: boolean;
  limit: number;
  remaining: number;
  /** Unix milliseconds when the window resets. */
  reset: number;
}

interface Windows {
  window: number;
  current: number;
  previous: number;
}

export class MemorySlidingWindow {
  private readonly buckets = new Map<string, Windows>();
  private sweeps = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** `limit` may differ per call (an org's limit changed): the counts already in the window stay. */
  check(key: string, now = Date.now(), limit = this.limit): LimitResult {
    const window = Math.floor(now / this.windowMs);
    let b = this.buckets.get(key);
    if (!b || b.window < window - 1) b = { window, current: 0, previous: 0 };
    else if (b.window === window - 1) b = { window, current: 0, previous: b.current };
    const elapsed = (now % this.windowMs) / this.windowMs;
    const used = Math.floor(b.previous * (1 - elapsed)) + b.current;
    const reset = (window + 1) * this.windowMs;
    if (used >= limit) {
      this.buckets.set(key, b);
      return { success: false, limit, remaining: 0, reset };
    }
    b.current++;
    this.buckets.set(key, b);
    if (++this.sweeps % 1000 === 0) this.sweep(window);
    return { success: true, limit, remaining: Math.max(0, limit - used - 1), reset };
  }

  /** Takes back one request counted in the current window (never below zero). */
  refund(key: string, now = Date.now()): void {
    const b = this.buckets.get(key);
    if (b && b.window === Math.floor(now / this.windowMs) && b.current > 0) b.current--;
  }

  private sweep(window: number) {
    for (const [k, b] of this.buckets) if (b.window < window - 1) this.buckets.delete(k);
  }
}
