import "server-only";
import { Ratelimit } from "@upstash/ratelimit";
import { env } from "@/lib/env";
import { logError } from "@/lib/log";
import { MemorySlidingWindow, type LimitResult } from "./memory";
import { RedisScriptAdapter } from "./redis-adapter";

export type { LimitResult } from "./memory";

export interface RateLimitOutcome extends LimitResult {
  /** True when the store could not be reached and the request was let through (fail open). */
  degraded?: boolean;
}

export interface RateLimiter {
  readonly backend: "memory" | "redis" | "upstash";
  /** One request against `identifier`'s sliding window of `limit` requests per `windowSeconds`. */
  limit(identifier: string, limit: number, windowSeconds?: number): Promise<RateLimitOutcome>;
  /** Gives back one request counted against `identifier` (a request refused by another limit). */
  refund(identifier: string, limit: number, windowSeconds?: number): Promise<void>;
  /** Resolves when the store answers (readiness checks); the in-memory store always does. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

class MemoryLimiter implements RateLimiter {
  readonly backend = "memory" as const;
  private readonly windows = new Map<number, MemorySlidingWindow>();

  async limit(identifier: string, limit: number, windowSeconds = 60): Promise<RateLimitOutcome> {
    let w = this.windows.get(windowSeconds);
    if (!w) this.windows.set(windowSeconds, (w = new MemorySlidingWindow(limit, windowSeconds * 1000)));
    return w.check(identifier, Date.now(), limit);
  }

  async refund(identifier: string, _limit: number, windowSeconds = 60): Promise<void> {
    this.windows.get(windowSeconds)?.refund(identifier, Date.now());
  }

  async ping() {}

  async close() {}
}

type RedisLike = ConstructorParameters<typeof Ratelimit>[0]["redis"];

/**
 * @upstash/ratelimit over Upstash REST or, through RedisScriptAdapter, a plain Redis. One
 * Ratelimit instance per (limit, window); all share the same keys, so changing an org's limit
 * keeps the requests already counted in the window.
 */
class UpstashLimiter implements RateLimiter {
  private readonly limiters = new Map<string, Ratelimit>();
  private lastFailureLog = 0;

  constructor(
    readonly backend: "redis" | "upstash",
    private readonly redis: RedisLike,
    private readonly onClose: () => Promise<void>,
    private readonly ephemeralCache: boolean,
    private readonly pingStore: () => Promise<unknown>,
  ) {}

  async ping(): Promise<void> {
    await this.pingStore();
  }

  private limiterFor(limit: number, windowSeconds: number): Ratelimit {
    const k = `${limit}/${windowSeconds}`;
    let rl = this.limiters.get(k);
    if (!rl) {
      rl = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(limit, `${windowSeconds} s`),
        prefix: "smarfle:rl",
        analytics: false,
        ephemeralCache: this.ephemeralCache ? new Map() : false,
        // The library lets the request through itself if the store takes longer than this.
        timeout: 1000,
      });
      this.limiters.set(k, rl);
    }
    return rl;
  }

  async refund(identifier: string, limit: number, windowSeconds = 60): Promise<void> {
    try {
      await this.limiterFor(limit, windowSeconds).limit(identifier, { rate: -1 });
    } catch {
      // A lost refund only makes the window stricter for a moment.
    }
  }

  async limit(identifier: string, limit: number, windowSeconds = 60): Promise<RateLimitOutcome> {
    const rl = this.limiterFor(limit, windowSeconds);
    try {
      const r = await rl.limit(identifier);
      return { success: r.success, limit: r.limit, remaining: Math.max(0, r.remaining), reset: r.reset, degraded: r.reason === "timeout" };
    } catch (err) {
      // Fail open: an unreachable store must not take the API down with it.
      if (Date.now() - this.lastFailureLog > 30_000) {
        this.lastFailureLog = Date.now();
        logError("rate-limit", err, { backend: this.backend, note: "store unreachable; allowing requests" });
      }
      return { success: true, limit, remaining: limit, reset: Date.now() + windowSeconds * 1000, degraded: true };
    }
  }

  close() {
    return this.onClose();
  }
}

export interface LimiterOptions {
  redisUrl?: string;
  upstash?: { url: string; token: string };
  /** The library's in-memory cache of blocked identifiers; off where a test must see Redis decide. */
  ephemeralCache?: boolean;
}

export async function createRateLimiter(options: LimiterOptions): Promise<RateLimiter> {
  if (options.upstash) {
    const { Redis } = await import("@upstash/redis");
    const redis = new Redis({ url: options.upstash.url, token: options.upstash.token, enableTelemetry: false });
    return new UpstashLimiter(
      "upstash",
      redis,
      async () => {},
      options.ephemeralCache ?? true,
      () => redis.ping(),
    );
  }
  if (options.redisUrl) {
    const { default: IORedis } = await import("ioredis");
    const client = new IORedis(options.redisUrl, {
      // Fail fast while disconnected instead of queueing: the limiter then fails open at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      commandTimeout: 500,
      lazyConnect: false,
    });
    client.on("error", () => {}); // reported through failed commands, rate-limited in UpstashLimiter
    // Commands are not queued while disconnected, so wait (briefly) for the first connection;
    // if Redis is down at start-up the limiter fails open until it comes back.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off("ready", done);
        client.off("error", done);
        resolve();
      };
      const timer = setTimeout(done, 1500);
      client.once("ready", done);
      client.once("error", done);
    });
    const adapter = new RedisScriptAdapter(client) as unknown as RedisLike;
    return new UpstashLimiter(
      "redis",
      adapter,
      async () => void client.disconnect(),
      options.ephemeralCache ?? true,
      () => client.ping(),
    );
  }
  return new MemoryLimiter();
}

const holder = globalThis as unknown as { __smarfleLimiter?: Promise<RateLimiter> };

/** The process-wide limiter for the configured backend (DESIGN.md "Runtime modes"). */
export function getRateLimiter(): Promise<RateLimiter> {
  if (!holder.__smarfleLimiter) {
    const e = env();
    holder.__smarfleLimiter = createRateLimiter({
      redisUrl: e.REDIS_URL,
      upstash: e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN } : undefined,
    });
  }
  return holder.__smarfleLimiter;
}

export function setRateLimiter(limiter: RateLimiter | undefined): void {
  holder.__smarfleLimiter = limiter ? Promise.resolve(limiter) : undefined;
}
