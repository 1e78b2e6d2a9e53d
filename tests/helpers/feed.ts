import * as events from "@/app/api/v1/events/route";
import { call } from "./api";
import { waitFor } from "./receiver";

type Page = { status: number; body: Record<string, unknown> & { data: Record<string, unknown>[] } };

/**
 * Reads GET /api/v1/events until `done` holds. The feed shows an event once every transaction
 * older than it has ended — anywhere on the database server, other tests' included — so a test
 * waits for what it wrote to settle rather than expecting it at once.
 */
export function feedWhen(key: string, query: string, done: (data: Record<string, unknown>[]) => boolean, timeoutMs = 30_000): Promise<Page> {
  return waitFor(
    async () => {
      const page = (await call(events.GET, { key, path: `/api/v1/events?${query}` })) as unknown as Page;
      return done(page.body.data) ? page : null;
    },
    { timeoutMs, what: `the events feed (${query})` },
  );
}
