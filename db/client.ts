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

/**
 * LISTEN on a channel for as long as the returned function has not been called. `onState` says
 * whether notifications are being received: it turns false when the listening connection is
 * lost (notifications sent meanwhile are missed) and true again once it listens anew.
 */
export type Listen = (channel: string, onNotify: (payload: string) => void, onState: (listening: boolean) => void) => () => Promise<void>;

// On globalThis: Next.js may bundle this module more than once (instrumentation, routes), and
// the handle is shared through globalThis too.
const listeners: WeakMap<Db, Listen> = ((globalThis as unknown as { __smarfleListeners?: WeakMap<Db, Listen> }).__smarfleListeners ??= new WeakMap());

/** How to LISTEN on the database behind `db`, if its driver can. */
export function listenerFor(db: Db): Listen | undefined {
  return listeners.get(db);
}

/** Keeps track of a handle's listeners so that closing the handle stops them first. */
function listenerRegistry(start: Listen): { listen: Listen; stopAll(): Promise<void> } {
  const stops = new Set<() => Promise<void>>();
  return {
    listen(channel, onNotify, onState) {
      const stop = start(channel, onNotify, onState);
      const once = async () => {
        if (stops.delete(once)) await stop();
      };
      stops.add(once);
      return once;
    },
    async stopAll() {
      await Promise.all([...stops].map((s) => s()));
    },
  };
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
  /** How often a PostgreSQL listener checks that its notifications still arrive (default 5 s). */
  listenHeartbeatMs?: number;
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
    // One process owns the embedded database, so every change arrives through this client.
    const registry = listenerRegistry((channel, onNotify, onState) => {
      let stopped = false;
      const unsubscribe = client.listen(channel, onNotify).then(
        (unsub) => {
          if (!stopped) onState(true);
          return unsub;
        },
        () => null,
      );
      return async () => {
        stopped = true;
        onState(false);
        const unsub = await unsubscribe;
        if (unsub && !client.closed) await unsub().catch(() => {});
      };
    });
    listeners.set(db, registry.listen);
    return {
      db,
      driver: "pglite",
      async close() {
        await registry.stopAll();
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
  const registry = listenerRegistry((channel, onNotify, onState) => listenOverPostgres(postgres, url, channel, onNotify, onState, options.listenHeartbeatMs));
  listeners.set(db, registry.listen);
  return {
    db,
    driver: "postgres",
    async close() {
      await registry.stopAll();
      await raw.end({ timeout: 5 });
    },
  };
}

const LISTEN_RETRY_MAX_MS = 10_000;
const LISTEN_HEARTBEAT_MS = 5_000;
/** Payloads a listener sends itself to check the channel; never passed on. */
const PING_PREFIX = "smarfle:ping:";
let listenerCount = 0;

/**
 * LISTEN on a connection of its own, outside the pool. postgres.js's own `listen` re-subscribes
 * after a lost connection but says nothing about the gap, and gives up if the database is down
 * at that moment. Here:
 *
 * - a closed connection is reported at once (`onState(false)`) and LISTEN is retried with
 *   backoff, on a new connection, until it succeeds;
 * - a connection that dies without closing (a firewall or NAT dropping an idle connection) is
 *   caught by a heartbeat: every `heartbeatMs` the listener notifies itself, and if the previous
 *   ping has not come back it gives the connection up as lost.
 */
function listenOverPostgres(
  postgres: typeof import("postgres"),
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onState: (listening: boolean) => void,
  heartbeatMs = LISTEN_HEARTBEAT_MS,
): () => Promise<void> {
  type Conn = ReturnType<typeof postgres>;
  const id = ++listenerCount;
  let stopped = false;
  let listening = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | undefined;
  let conn: Conn | null = null;
  let pingSent = 0;
  let pingPending = false;
  const setListening = (v: boolean) => {
    if (listening === v) return;
    listening = v;
    onState(v);
  };
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
  };
  /** The connection is gone or unresponsive: stop trusting it and start over. */
  const drop = (c: Conn) => {
    if (c !== conn) return;
    conn = null;
    pingPending = false;
    setListening(false);
    void c.end({ timeout: 0 }).catch(() => {});
    retry();
  };
  const connect = async () => {
    if (stopped) return;
    const c: Conn = postgres(url, {
      // Shows in pg_stat_activity which process and listener a connection belongs to.
      connection: { application_name: `smarfle-listen-${process.pid}-${id}` },
      max: 1,
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: 5,
      onnotice: () => {},
      // Not in postgres.js's option types, but a connection option (its own listen uses it).
      onnotify: (ch: string, payload: string) => {
        if (c !== conn || ch !== channel) return;
        if (payload.startsWith(PING_PREFIX)) {
          if (payload === `${PING_PREFIX}${pingSent}`) pingPending = false;
          return;
        }
        onNotify(payload);
      },
      onclose: () => drop(c),
    } as Parameters<typeof postgres>[1]);
    conn = c;
    try {
      await c.unsafe(`listen "${channel.replace(/"/g, '""')}"`);
      if (stopped || c !== conn) return;
      retryMs = 250;
      setListening(true);
    } catch {
      drop(c);
    }
  };
  const heartbeat = setInterval(() => {
    const c = conn;
    if (!listening || !c) return;
    if (pingPending) return drop(c); // the last ping never came back
    pingPending = true;
    pingSent++;
    c.unsafe("select pg_notify($1, $2)", [channel, `${PING_PREFIX}${pingSent}`]).catch(() => drop(c));
  }, heartbeatMs);
  heartbeat.unref();
  void connect();
  return async () => {
    stopped = true;
    clearInterval(heartbeat);
    clearTimeout(timer);
    setListening(false);
    const c = conn;
    conn = null;
    if (c) await c.end({ timeout: 1 });
  };
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
