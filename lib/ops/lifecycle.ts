import "server-only";

/**
 * The server's lifecycle, shared by every bundle of the app in this process (on globalThis):
 * whether it is shutting down, a signal background work listens to so it can stop between two
 * steps, and the hook the process's own HTTP server (server.mjs) calls on SIGTERM.
 */
interface Lifecycle {
  controller: AbortController;
  stoppers: (() => Promise<void>)[];
}

const SHUTDOWN_HOOK = Symbol.for("smarfle.shutdown");
const state: Lifecycle = ((globalThis as unknown as { __smarfleLifecycle?: Lifecycle }).__smarfleLifecycle ??= {
  controller: new AbortController(),
  stoppers: [],
});

/** Aborted when the server begins to shut down: long-running work stops at its next step. */
export function shutdownSignal(): AbortSignal {
  return state.controller.signal;
}

export function shuttingDown(): boolean {
  return state.controller.signal.aborted;
}

/** The error long-running work throws when it stops for a shutdown (it is not a failure). */
export class ShutdownError extends Error {
  constructor() {
    super("The server is shutting down.");
    this.name = "ShutdownError";
  }
}

/** Registers background work to stop (and wait for) when the server shuts down. */
export function onShutdown(stop: () => Promise<void>): void {
  state.stoppers.push(stop);
  (globalThis as Record<symbol, unknown>)[SHUTDOWN_HOOK] = shutdown;
}

/**
 * Stops the background work: signals it, then waits for every registered stopper (in-flight
 * webhook attempts end, logs and counters are flushed, leases are released).
 */
export async function shutdown(): Promise<void> {
  if (!state.controller.signal.aborted) state.controller.abort(new ShutdownError());
  await Promise.allSettled(state.stoppers.map((s) => s()));
}
