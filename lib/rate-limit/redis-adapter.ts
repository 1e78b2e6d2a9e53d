import "server-only";
import { createHash } from "node:crypto";
import type IORedis from "ioredis";

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

interface Queued {
  sha: string;
  keys: string[];
  args: unknown[];
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Lets @upstash/ratelimit run on a plain Redis over REDIS_URL.
 *
 * The limiter's Lua scripts start with `#!lua flags=allow-key-locking`, a flag only Upstash's
 * server accepts; Redis 7 refuses the script. We strip that line. The limiter calls
 * `evalsha(<hash of the original script>)` first and falls back to `eval` on NOSCRIPT, so we keep
 * a map from the library's hash to the stripped script's hash: the first call per script loads
 * it through `eval`, every later one is an `evalsha` of the stripped script. If Redis loses its
 * script cache (restart), its own NOSCRIPT sends the limiter through `eval` again.
 */
export class RedisScriptAdapter {
  private readonly shas = new Map<string, string>();
  private queue: Queued[] = [];
  private flushScheduled = false;

  constructor(private readonly client: IORedis) {}

  static strip(script: string): string {
    return script.replace(/^#!lua[^\n]*\n/, "");
  }

  /**
   * Script calls are queued and sent together once the event loop has run what it was doing
   * (setImmediate): under load, the rate-limit checks of every request that arrived in one turn
   * go to Redis as one pipeline — one write and one read instead of one each per request. Alone,
   * a call waits for nothing but the end of the current turn.
   */
  evalsha<TData = unknown>(hash: string, keys: string[], args: unknown[]): Promise<TData> {
    const stripped = this.shas.get(hash);
    if (!stripped) return Promise.reject(new Error("NOSCRIPT script not loaded through this adapter yet"));
    return new Promise<TData>((resolve, reject) => {
      this.queue.push({ sha: stripped, keys, args, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    const pipeline = this.client.pipeline();
    for (const c of batch) pipeline.evalsha(c.sha, c.keys.length, ...c.keys, ...c.args.map(String));
    pipeline.exec().then(
      (results) =>
        batch.forEach((c, i) => {
          const [err, value] = results?.[i] ?? [new Error("no reply from Redis"), null];
          if (err) c.reject(err);
          else c.resolve(value);
        }),
      (err) => batch.forEach((c) => c.reject(err)),
    );
  }

  async eval<TData = unknown>(script: string, keys: string[], args: unknown[]): Promise<TData> {
    const stripped = RedisScriptAdapter.strip(script);
    const result = (await this.client.eval(stripped, keys.length, ...keys, ...args.map(String))) as TData;
    this.shas.set(sha1(script), sha1(stripped));
    return result;
  }

  async get<TData = string>(key: string): Promise<TData | null> {
    return (await this.client.get(key)) as TData | null;
  }

  async set<TData = string>(key: string, value: TData, opts?: { ex?: number; px?: number }): Promise<"OK" | TData | null> {
    const v = typeof value === "string" ? value : JSON.stringify(value);
    if (opts?.px) return this.client.set(key, v, "PX", opts.px);
    if (opts?.ex) return this.client.set(key, v, "EX", opts.ex);
    return this.client.set(key, v);
  }
}
