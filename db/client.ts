import "server-only";
import fs from "node:fs";
import path from "node:path";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { env } from "@/lib/env";
import * as schema from "./schema";

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

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");
export const DEFAULT_PGLITE_DIR = path.join(process.cwd(), ".data", "pglite");

export class DatabaseLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The embedded database at ${path.relative(process.cwd(), dir) || dir} is open in another process (pid ${pid}), ` +
        `probably \`npm run dev\` or \`npm start\`. PGlite allows one process at a time: stop that process and retry, ` +
        `or set DATABASE_URL to use PostgreSQL.`,
    );
    this.name = "DatabaseLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite does not lock its data directory and a second process would corrupt it, so we keep a
 * pid file beside it. A lock left by a dead process is taken over.
 */
function acquirePgliteLock(dir: string): () => void {
  const lockFile = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockFile, "utf8") === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
      process.once("exit", release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(lockFile, "utf8"));
      if (pid === process.pid) return () => {};
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DatabaseLockedError(dir, pid);
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock ${dir}`);
}

export interface OpenOptions {
  /** drizzle's query logger; tests use it to count statements. */
  logger?: { logQuery(query: string, params: unknown[]): void };
  max?: number;
}

export async function openPglite(dataDir?: string, options: OpenOptions = {}): Promise<DbHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let release = () => {};
  if (dataDir) {
    release = acquirePgliteLock(dataDir);
    fs.mkdirSync(dataDir, { recursive: true });
  }
  try {
    const client = await PGlite.create(dataDir ? { dataDir } : {});
    const db = drizzle({ client, schema, logger: options.logger }) as unknown as Db;
    return {
      db,
      driver: "pglite",
      async close() {
        await client.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/** Statements with at most this many parameters are prepared (see `preparingClient`). */
const PREPARE_MAX_PARAMS = 100;

/**
 * drizzle hands every query it was not given a name for to postgres.js as
 * `unsafe(text, params, { prepare: false })`. postgres.js then sends an unnamed statement with a
 * Parse + Describe first and waits for the parameter types before it can Bind: two round trips
 * per statement, no pipelining behind it (queries issued together run one after the other), and
 * the server parses and plans the text every time. Preparing them lets postgres.js keep one named
 * statement per query text and connection: one round trip, pipelined, parsed once.
 *
 * Large multi-row statements (imports, bulk) stay unnamed: their texts vary with the row count
 * and the describe round trip is spread over many rows.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function preparingClient<T extends (...args: any[]) => any>(sql: T): T {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "unsafe") {
        return (text: string, params?: unknown[], opts?: Record<string, unknown>) =>
          value.call(target, text, params, Array.isArray(params) && params.length > 0 && params.length <= PREPARE_MAX_PARAMS ? { ...opts, prepare: true } : opts);
      }
      if (prop === "begin" || prop === "savepoint") {
        // The transaction's own `sql` must prepare too.
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return (...args: any[]) => {
          const fn = args.pop();
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          return value.call(target, ...args, (tx: any) => fn(preparingClient(tx)));
        };
      }
      return value;
    },
  });
}

export async function openPostgres(url: string, options: OpenOptions = {}): Promise<DbHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const raw = postgres(url, { max: options.max ?? 10, onnotice: () => {} });
  const client = preparingClient(raw);
  const db = drizzle({ client, schema, logger: options.logger }) as unknown as Db;
  return { db, driver: "postgres", close: () => raw.end({ timeout: 5 }) };
}

/** Opens the database the environment names: PostgreSQL with DATABASE_URL, else embedded PGlite. */
export function openConfigured(): Promise<DbHandle> {
  const { DATABASE_URL, PGLITE_DATA_DIR } = env();
  if (DATABASE_URL) return openPostgres(DATABASE_URL);
  return openPglite(PGLITE_DATA_DIR ? path.resolve(PGLITE_DATA_DIR) : DEFAULT_PGLITE_DIR);
}

// One handle per process, kept on globalThis so dev-server hot reloads do not open a second
// PGlite instance on the same directory. Opened lazily: module code also runs during `next build`.
const holder = globalThis as unknown as { __smarfleDb?: Promise<DbHandle> };

export function getDbHandle(): Promise<DbHandle> {
  holder.__smarfleDb ??= openConfigured().catch((err) => {
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

export { schema };
