import "server-only";
import { after } from "next/server";

const pending = new Set<Promise<unknown>>();

/** server/direct.mjs: queues a task for after the answer of the direct route being served (false outside one). */
const directAfter = () => (globalThis as Record<symbol, unknown>)[Symbol.for("smarfle.after-response")] as ((task: () => unknown) => boolean) | undefined;

/**
 * Work that continues once the response is sent: Next's `after` inside a request (which keeps
 * a serverless function alive for it), the production server's own hook inside a route it serves
 * directly (server/direct.mjs), a plain background promise elsewhere (tests, scripts).
 */
export function runAfterResponse(task: () => Promise<unknown>): void {
  try {
    after(task);
  } catch {
    if (directAfter()?.(task)) return;
    const p: Promise<unknown> = task()
      .catch(() => {})
      .finally(() => pending.delete(p));
    pending.add(p);
  }
}

/** Outside a request (tests, scripts): resolves once the work handed to runAfterResponse is done. */
export async function afterWorkSettled(): Promise<void> {
  while (pending.size > 0) await Promise.all(pending);
}
