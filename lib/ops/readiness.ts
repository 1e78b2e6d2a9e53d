import "server-only";
import { sql } from "drizzle-orm";
import { getDbHandle } from "@/db/client";
import { migrationStatus } from "@/db/migrate";
import { getRateLimiter } from "@/lib/rate-limit";

export type CheckState = "ok" | "down" | "behind";

export interface Readiness {
  ready: boolean;
  /** One entry per dependency this server uses; the rate-limit store only when it is not in memory. */
  checks: { database: CheckState; migrations: CheckState; rate_limit_store?: CheckState };
}

/** How long one dependency may take to answer before it counts as down. */
const CHECK_TIMEOUT_MS = 2_000;

/** `promise`, or a rejection once `ms` have passed without an answer. */
export function within<T>(promise: Promise<T>, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Once a database's schema has been seen current, it stays so for this process: migrations only
// move forward, and a newer deploy's migrations are its own readiness question.
const current: WeakSet<object> = ((globalThis as unknown as { __smarfleSchemaCurrent?: WeakSet<object> }).__smarfleSchemaCurrent ??= new WeakSet());

async function checkDatabase(): Promise<Pick<Readiness["checks"], "database" | "migrations">> {
  try {
    const handle = await within(getDbHandle());
    await within(handle.db.execute(sql`select 1`));
    if (current.has(handle.db)) return { database: "ok", migrations: "ok" };
    const { pending } = await within(migrationStatus(handle));
    if (pending.length === 0) current.add(handle.db);
    return { database: "ok", migrations: pending.length === 0 ? "ok" : "behind" };
  } catch {
    return { database: "down", migrations: "down" };
  }
}

async function checkRateLimitStore(): Promise<CheckState | undefined> {
  try {
    const limiter = await getRateLimiter();
    if (limiter.backend === "memory") return undefined;
    await within(limiter.ping());
    return "ok";
  } catch {
    return "down";
  }
}

/**
 * What a load balancer asks before sending traffic: can this server reach what it needs? It says
 * which dependency is down, never how it is configured (no hosts, no versions).
 */
export async function checkReadiness(): Promise<Readiness> {
  const [db, store] = await Promise.all([checkDatabase(), checkRateLimitStore()]);
  const checks: Readiness["checks"] = { ...db, ...(store ? { rate_limit_store: store } : {}) };
  return { ready: Object.values(checks).every((c) => c === "ok"), checks };
}
