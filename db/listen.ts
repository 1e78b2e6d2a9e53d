import "server-only";
import type { Db } from "./types";

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
export function listenerRegistry(start: Listen): { listen: Listen; stopAll(): Promise<void> } {
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

/** Records how to LISTEN on the database behind `db` (each driver registers its own). */
export function registerListener(db: Db, listen: Listen): void {
  listeners.set(db, listen);
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
export function listenOverPostgres(
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
