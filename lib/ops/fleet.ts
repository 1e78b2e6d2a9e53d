import "server-only";
import { sql } from "drizzle-orm";
import { SERVER_APPLICATION_PREFIX, type Db } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { logWarn } from "@/lib/log";
import { getRateLimiter } from "@/lib/rate-limit";

/** How many other app servers have connections open to this database (by their application_name). */
export async function otherServers(db: Db, ownPid = process.pid): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`
      select count(distinct application_name)::int as n from pg_stat_activity
      where datname = current_database()
        and application_name like ${`${SERVER_APPLICATION_PREFIX}%`}
        and application_name <> ${`${SERVER_APPLICATION_PREFIX}${ownPid}`}`),
  );
  return rows[0]?.n ?? 0;
}

export function perServerLimitsWarning(others: number): string {
  return (
    `Rate limits are counted in this server's memory, but ${others} other server${others === 1 ? "" : "s"} share${others === 1 ? "s" : ""} this database: ` +
    `each one lets a key through its own full limit. Set REDIS_URL (or UPSTASH_REDIS_REST_URL and _TOKEN) on every server so they count together.`
  );
}

/**
 * With the in-memory limiter on a shared PostgreSQL, checks now and then whether other servers
 * use the same database and, once, says that limits are per server. Returns the stop function.
 */
export function watchForPerServerLimits(db: Db, everyMs = 60_000): () => void {
  let warned = false;
  const check = async () => {
    if (warned) return;
    try {
      if ((await getRateLimiter()).backend !== "memory") return stop();
      const others = await otherServers(db);
      if (others > 0) {
        warned = true;
        logWarn("rate-limit", perServerLimitsWarning(others), { other_servers: others });
        stop();
      }
    } catch {
      // The database being briefly unreachable is reported elsewhere; check again later.
    }
  };
  const first = setTimeout(check, 5_000);
  const timer = setInterval(check, everyMs);
  first.unref();
  timer.unref();
  function stop() {
    clearTimeout(first);
    clearInterval(timer);
  }
  return stop;
}
