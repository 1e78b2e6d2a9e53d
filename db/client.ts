import "server-only";
import path from "node:path";
import { env } from "@/lib/env";
import { openPglite } from "./drivers/pglite";
import { openPostgres } from "./drivers/postgres";
import type { Db, DbHandle, OpenOptions } from "./types";

export type { Db, DbDriver, DbHandle, Executor, OpenOptions, Schema, Tx } from "./types";

export const DEFAULT_PGLITE_DIR = path.join(process.cwd(), ".data", "pglite");

/** Opens the database the environment names: PostgreSQL with DATABASE_URL, else embedded PGlite. */
export function openConfigured(options: OpenOptions = {}): Promise<DbHandle> {
  const { DATABASE_URL, PGLITE_DATA_DIR } = env();
  if (DATABASE_URL) return openPostgres(DATABASE_URL, options);
  return openPglite(PGLITE_DATA_DIR ? path.resolve(PGLITE_DATA_DIR) : DEFAULT_PGLITE_DIR);
}

// One handle per process, kept on globalThis so dev-server hot reloads do not open a second
// PGlite instance on the same directory. Opened lazily: module code also runs during `next build`.
const holder = globalThis as unknown as { __smarfleDb?: Promise<DbHandle> };

/** How an app server's connections are named in pg_stat_activity (the CLI's and tests' are not). */
export const SERVER_APPLICATION_PREFIX = "smarfle-server-";

export function getDbHandle(): Promise<DbHandle> {
  holder.__smarfleDb ??= openConfigured({ applicationName: `${SERVER_APPLICATION_PREFIX}${process.pid}` }).catch((err) => {
    holder.__smarfleDb = undefined;
    throw err;
  });
  return holder.__smarfleDb;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

/** Tests and the CLI install their own handle (e.g. an in-memory PGlite). */
export function setDbHandle(handle: DbHandle | undefined): void {
  holder.__smarfleDb = handle ? Promise.resolve(handle) : undefined;
}

export async function closeDb(): Promise<void> {
  const current = holder.__smarfleDb;
  holder.__smarfleDb = undefined;
  if (current) await (await current).close();
}
