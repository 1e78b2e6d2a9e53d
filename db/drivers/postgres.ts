import "server-only";
import * as schema from "../schema";
import { listenerRegistry, listenOverPostgres, registerListener } from "../listen";
import type { Db, DbHandle, OpenOptions } from "../types";

const CONNECT_TIMEOUT_SECONDS = 3;

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
          value.call(
            target,
            text,
            params,
            Array.isArray(params) && params.length > 0 && params.length <= PREPARE_MAX_PARAMS ? { ...opts, prepare: true } : opts,
          );
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
  // connect_timeout: with the database unreachable, a request fails (503) within seconds
  // instead of waiting out postgres.js's default 30 s.
  const raw = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    onnotice: () => {},
    ...(options.applicationName ? { connection: { application_name: options.applicationName } } : {}),
  });
  const client = preparingClient(raw);
  const db = drizzle({ client, schema, logger: options.logger }) as unknown as Db;
  const registry = listenerRegistry((channel, onNotify, onState) => listenOverPostgres(postgres, url, channel, onNotify, onState, options.listenHeartbeatMs));
  registerListener(db, registry.listen);
  return {
    db,
    driver: "postgres",
    async close() {
      await registry.stopAll();
      await raw.end({ timeout: 5 });
    },
  };
}
