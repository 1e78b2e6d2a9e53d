import "server-only";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Executor } from "@/db/client";

// PostgreSQL allows 65,535 bind parameters per statement; stay well under it.
const MAX_PARAMS = 30_000;

/** Multi-row INSERT, split only when a batch would exceed the bind-parameter limit. */
export async function insertChunked<T extends Record<string, unknown>>(tx: Executor, table: PgTable, rows: T[]): Promise<void> {
  if (rows.length === 0) return;
  const perRow = Math.max(1, Object.keys(rows[0]!).length);
  const size = Math.max(1, Math.floor(MAX_PARAMS / perRow));
  for (let i = 0; i < rows.length; i += size) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await tx.insert(table).values(rows.slice(i, i + size) as any);
  }
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `db.execute` answers an array (postgres.js) or `{ rows }` (PGlite): the rows either way. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** PostgreSQL's SQLSTATE of a failed query, whether the driver's error or drizzle's wrapper of it. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | null | undefined;
  return e?.code ?? e?.cause?.code;
}

/**
 * Runs `write` once more if it lost a race with an organization being deleted: a batch joined
 * with organizations can still hit a foreign-key violation, or a deadlock with the cascade. The
 * second run's join leaves that organization's rows out.
 */
export async function retryOnOrgDeletionRace<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const code = pgErrorCode(err);
    if (code !== "23503" && code !== "40P01") throw err;
    return write();
  }
}
