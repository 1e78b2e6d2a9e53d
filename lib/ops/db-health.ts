import "server-only";
import { AppError } from "@/lib/errors";
import { env } from "@/lib/env";
import { logInfo, logWarn } from "@/lib/log";
import { within } from "./readiness";

/**
 * Whether PostgreSQL answers, watched from a connection of its own. postgres.js keeps a query
 * waiting while its pool reconnects (with backoff), so with the database gone a request would hang
 * until it returns. Instead: a probe every second; after a failed probe, new requests answer
 * `503 unavailable` at once, and requests already waiting are answered the same (their statement
 * may still run when the database is back: clients retry with an Idempotency-Key). The first
 * probe that succeeds lifts it, with no restart.
 */
const PROBE_EVERY_MS = 1_000;
const PROBE_TIMEOUT_MS = 1_500;

interface Health {
  down: boolean;
  since: number;
  waiters: Set<(err: AppError) => void>;
  stop?: () => Promise<void>;
}

const health: Health = ((globalThis as unknown as { __smarfleDbHealth?: Health }).__smarfleDbHealth ??= { down: false, since: 0, waiters: new Set() });

const unavailable = () => new AppError("unavailable", "The database is unreachable right now. Retry after the time in Retry-After.");

/** Throws `503 unavailable` while the database is known to be down. */
export function assertDatabaseUp(): void {
  if (health.down) throw unavailable();
}

/**
 * `work`, or `503 unavailable` as soon as the database is found down while it runs (a request
 * whose queries would otherwise wait for the database to come back).
 */
export async function unlessDatabaseDown<T>(work: Promise<T>): Promise<T> {
  assertDatabaseUp();
  let reject!: (err: AppError) => void;
  const down = new Promise<never>((_, r) => (reject = r));
  health.waiters.add(reject);
  try {
    return await Promise.race([work, down]);
  } finally {
    health.waiters.delete(reject);
  }
}

function setDown(down: boolean, reason?: string): void {
  if (health.down === down) return;
  health.down = down;
  health.since = Date.now();
  if (down) {
    logWarn("database", `unreachable: answering 503 until it is back (${reason ?? "no answer"})`);
    const err = unavailable();
    for (const reject of health.waiters) reject(err);
    health.waiters.clear();
  } else logInfo("database", "reachable again");
}

/** Starts the probe (PostgreSQL only); idempotent. */
export async function startDatabaseHealthMonitor(): Promise<void> {
  const url = env().DATABASE_URL;
  if (!url || health.stop) return;
  const { default: postgres } = await import("postgres");
  // One connection while the database answers; after a failure a fresh client for each probe, so
  // the probe is not held back by postgres.js's reconnect backoff and sees the return at once.
  const open = () =>
    postgres(url, {
      max: 1,
      connect_timeout: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: `smarfle-health-${process.pid}` },
    });
  let sql = open();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    try {
      await within(
        sql`select 1`.then(() => undefined),
        PROBE_TIMEOUT_MS,
      );
      setDown(false);
    } catch (err) {
      setDown(true, (err as Error).message);
      const old = sql;
      sql = open();
      void old.end({ timeout: 0 }).catch(() => {});
    } finally {
      if (!stopped) {
        timer = setTimeout(() => void probe(), PROBE_EVERY_MS);
        timer.unref();
      }
    }
  };
  health.stop = async () => {
    stopped = true;
    clearTimeout(timer);
    await sql.end({ timeout: 0 });
  };
  void probe();
}

export async function stopDatabaseHealthMonitor(): Promise<void> {
  const stop = health.stop;
  health.stop = undefined;
  await stop?.();
}
