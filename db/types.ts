import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema";

export type Schema = typeof schema;
/** Both drivers produce a PgDatabase over the same schema: the rest of the code sees one type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** A query runner: the database itself or an open transaction. */
export type Executor = Db | Tx;

export type DbDriver = "pglite" | "postgres";

export interface DbHandle {
  db: Db;
  driver: DbDriver;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** drizzle's query logger; tests use it to count statements. */
  logger?: { logQuery(query: string, params: unknown[]): void };
  max?: number;
  /** PostgreSQL's application_name for the pool's connections (how a server shows in pg_stat_activity). */
  applicationName?: string;
  /** How often a PostgreSQL listener checks that its notifications still arrive (default 5 s). */
  listenHeartbeatMs?: number;
}
