import "server-only";
import { after } from "next/server";

/**
 * Work that continues once the response is sent: Next's `after` inside a request (which keeps
 * a serverless function alive for it), a plain background promise elsewhere (tests, scripts).
 */
export function runAfterResponse(task: () => Promise<unknown>): void {
  try {
    after(task);
  } catch {
    void task();
  }
}
