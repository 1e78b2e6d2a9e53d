import "server-only";
import { createHash } from "node:crypto";
import type IORedis from "ioredis";

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

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

  constructor(private readonly client: IORedis) {}

  static strip(script: string): string {
    return script.replace(/^#!lua[^\n]*\n/, "");
  }

  async evalsha<TData = unknown>(hash: string, keys: string[], args: unknown[]): Promise<TData> {
    const stripped = this.shas.get(hash);
    if (!stripped) throw new Error("NOSCRIPT script not loaded through this adapter yet");
    return (await this.client.evalsha(stripped, keys.length, ...keys, ...args.map(String))) as TData;
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
