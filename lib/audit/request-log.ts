import "server-only";
import { sql } from "drizzle-orm";
import { getDb, type Executor } from "@/db/client";
import { env, serverless } from "@/lib/env";
import { logError, logWarn } from "@/lib/log";
import { retryOnOrgDeletionRace } from "@/lib/db-utils";

/**
 * The API request log. A request adds one entry to an in-memory buffer and goes on; the buffer
 * is written every second (or at once when it fills) with a single INSERT … SELECT FROM unnest,
 * whatever the batch size. A crash loses at most the last second of log entries — never a
 * record, a webhook or a usage count, which have their own paths. If the database stays
 * unreachable the buffer is capped and the oldest entries are dropped (and the drop is logged).
 */

export interface RequestLogEntry {
  id: string;
  orgId: string;
  keyId: string | null;
  keyPrefix: string | null;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  ip: string | null;
  at: Date;
}

const FLUSH_INTERVAL_MS = 1_000;
const FLUSH_AT = 2_000;
const MAX_BUFFERED = 50_000;

interface State {
  buffer: RequestLogEntry[];
  timer?: NodeJS.Timeout;
  flushing?: Promise<void>;
  dropped: number;
}
const holder = globalThis as unknown as { __smarfleRequestLog?: State };
holder.__smarfleRequestLog ??= { buffer: [], dropped: 0 };
const state = holder.__smarfleRequestLog;

/** Queues one entry; returns at once. */
export function logApiRequest(entry: RequestLogEntry): void {
  if (!env().SMARFLE_REQUEST_LOG) return;
  state.buffer.push(entry);
  if (state.buffer.length > MAX_BUFFERED) {
    const over = state.buffer.length - MAX_BUFFERED;
    state.buffer.splice(0, over);
    state.dropped += over;
  }
  if (state.buffer.length >= FLUSH_AT) void flushRequestLog().catch(() => {});
  // Serverless: the request flushes after its response instead (see logKeyedRequest).
  else if (!state.timer && !serverless()) {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void flushRequestLog().catch(() => {});
    }, FLUSH_INTERVAL_MS);
    state.timer.unref();
  }
}

/** Writes everything buffered. On failure the entries go back to the front of the buffer. */
export async function flushRequestLog(db?: Executor): Promise<void> {
  if (state.timer) {
    clearTimeout(state.timer);
    state.timer = undefined;
  }
  while (state.flushing) await state.flushing;
  if (state.buffer.length === 0) return;
  const batch = state.buffer;
  state.buffer = [];
  if (state.dropped > 0) {
    logWarn("request log", `dropped ${state.dropped} entries while the database was unreachable`);
    state.dropped = 0;
  }
  state.flushing = (async () => {
    try {
      const conn = db ?? (await getDb());
      const rows = JSON.stringify(
        batch.map((e) => ({
          id: e.id,
          org_id: e.orgId,
          key_id: e.keyId,
          key_prefix: e.keyPrefix,
          method: e.method,
          path: e.path,
          status: e.status,
          duration_ms: e.durationMs,
          ip: e.ip,
          created_at: e.at.toISOString(),
        })),
      );
      // One statement and one parameter for any batch size; entries of an org deleted meanwhile
      // are dropped by the join.
      await retryOnOrgDeletionRace(() =>
        conn.execute(sql`
        insert into api_requests (id, org_id, key_id, key_prefix, method, path, status, duration_ms, ip, created_at)
        select v.id, v.org_id, v.key_id, v.key_prefix, v.method, v.path, v.status, v.duration_ms, v.ip, v.created_at
        from jsonb_to_recordset(${rows}::jsonb)
          as v(id text, org_id text, key_id text, key_prefix text, method text, path text, status int, duration_ms int, ip text, created_at timestamptz)
        join organizations o on o.id = v.org_id
        on conflict (id) do nothing`),
      );
    } catch (err) {
      state.buffer = batch.concat(state.buffer).slice(-MAX_BUFFERED);
      logError("request log flush", err, { entries: batch.length });
      throw err;
    }
  })();
  try {
    await state.flushing;
  } finally {
    state.flushing = undefined;
  }
}

/** For tests: how many entries wait in memory. */
export function bufferedRequestLogEntries(): number {
  return state.buffer.length;
}
