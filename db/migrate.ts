import "server-only";
import fs from "node:fs/promises";
import path from "node:path";
import { sql } from "drizzle-orm";
import { rowsOf } from "./rows";
import type { DbHandle } from "./types";

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

export async function migrateDb(handle: DbHandle): Promise<void> {
  if (handle.driver === "pglite") {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await migrate(handle.db as any, { migrationsFolder: MIGRATIONS_FOLDER });
  } else {
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await migrate(handle.db as any, { migrationsFolder: MIGRATIONS_FOLDER });
  }
}

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

export interface MigrationStatus {
  /** Migrations in the code that the database has not applied yet, oldest first. */
  pending: string[];
}

/**
 * Compares the committed migrations with what the database recorded. drizzle's migrator keeps
 * one row per applied migration in drizzle.__drizzle_migrations, with the journal's `when` as
 * created_at, and applies whatever is newer than the latest row — so that is what "pending" is.
 */
export async function migrationStatus(handle: DbHandle): Promise<MigrationStatus> {
  const journal = JSON.parse(await fs.readFile(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as Journal;
  const [table] = rowsOf<{ present: boolean }>(await handle.db.execute(sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`));
  let latest = -1;
  if (table?.present) {
    const [row] = rowsOf<{ latest: string | null }>(await handle.db.execute(sql`select max(created_at)::text as latest from drizzle.__drizzle_migrations`));
    latest = row?.latest == null ? -1 : Number(row.latest);
  }
  return { pending: journal.entries.filter((e) => e.when > latest).map((e) => e.tag) };
}
