import { jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per run of a fleet-wide periodic job and time slot (e.g. retention, hour 14:00): the
 * server whose insert wins runs it; the others see the row and skip. With N servers the job still
 * runs once per slot, and a slot missed by a server that died is taken by the next one to look.
 */
export const scheduledRuns = pgTable(
  "scheduled_runs",
  {
    job: text("job").notNull(),
    slot: timestamp("slot", { withTimezone: true, mode: "date" }).notNull(),
    /** Which server ran it: `<hostname>:<pid>`. */
    runner: text("runner").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    result: jsonb("result").$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.job, t.slot] })],
);

export type ScheduledRun = typeof scheduledRuns.$inferSelect;
