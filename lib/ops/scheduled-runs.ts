import "server-only";
import os from "node:os";
import { and, eq } from "drizzle-orm";
import { scheduledRuns } from "@/db/schema";
import type { Db } from "@/db/client";

const RUNNER = `${os.hostname()}:${process.pid}`;

/** The start of the slot `at` falls in, for slots of `slotMs` counted from the Unix epoch. */
export function slotStart(at: Date, slotMs: number): Date {
  return new Date(Math.floor(at.getTime() / slotMs) * slotMs);
}

/**
 * Runs `fn` if no server has run `job` in the current slot yet: the first server to insert the
 * (job, slot) row wins, every other one skips. Call it as often as you like (every few minutes
 * on every server); the job runs once per slot across the fleet.
 */
export async function runOncePerSlot<T extends Record<string, unknown>>(
  db: Db,
  job: string,
  slotMs: number,
  fn: () => Promise<T>,
  now = new Date(),
): Promise<{ ran: true; result: T } | { ran: false }> {
  const slot = slotStart(now, slotMs);
  const [claimed] = await db.insert(scheduledRuns).values({ job, slot, runner: RUNNER }).onConflictDoNothing().returning({ job: scheduledRuns.job });
  if (!claimed) return { ran: false };
  const result = await fn();
  await db
    .update(scheduledRuns)
    .set({ finishedAt: new Date(), result })
    .where(and(eq(scheduledRuns.job, job), eq(scheduledRuns.slot, slot)));
  return { ran: true, result };
}
