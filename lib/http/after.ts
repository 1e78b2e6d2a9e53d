import "server-only";
import { after } from "next/server";

const pending = new Set<Promise<unknown>>();

/**
 * Work that continues once the response is sent: Next's `after` inside a request (which keeps
 * a serverless function alive for it), a plain background promise elsewhere (tests, scripts).
 */
export function runAfterResponse(task: () => Promise<unknown>): void {
  try {
    after(task);
  } catch {
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
