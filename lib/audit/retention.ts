import "server-only";
import { eq, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { organizations, scheduledRuns } from "@/db/schema";
import type { Db } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { AppError, zodDetails } from "@/lib/errors";
import { logError } from "@/lib/log";
import { runOncePerSlot } from "@/lib/ops/scheduled-runs";
import { writeAudit, type ChangeContext } from "./write";
import { DELIVERY_ID_RETENTION_DAYS } from "@/lib/inbound/receive";
import { importRetention } from "@/lib/imports/retention";
import { IDEMPOTENCY_KEY_TTL_HOURS } from "@/lib/http/idempotency";

/**
 * Retention, run by the scheduler (in-process timer, or QStash's schedule). Per organization:
 * audit entries older than its audit retention (default 90 days), API and inbound request logs
 * older than its request-log retention (default 30 days), webhook events older than its event
 * retention (default 30 days) whose deliveries are all finished (their deliveries and attempts go
 * with them: the events feed reaches this far back). For everyone: idempotency keys past their
 * 24 hours, inbound delivery ids older than 7 days, notifications older than 90 days,
 * finished connector runs older than 30 days, and imports (see importRetention). Deletes run in
 * small batches so no statement holds locks for long; the append-only trigger on the two logs
 * refuses anything younger.
 */

/** How long the record of each fleet-wide job run is kept. */
const SCHEDULED_RUN_RETENTION_DAYS = 7;
export const RETENTION_LIMITS = { audit: { min: 30, max: 3650 }, requests: { min: 7, max: 365 }, events: { min: 7, max: 90 } } as const;
const BATCH = 5_000;

export const NOTIFICATION_RETENTION_DAYS = 90;
export const CONNECTOR_RUN_RETENTION_DAYS = 30;

export interface RetentionResult {
  auditEntries: number;
  apiRequests: number;
  inboundRequests: number;
  webhookEvents: number;
  idempotencyKeys: number;
  inboundDeliveryIds: number;
  notifications: number;
  connectorRuns: number;
  imports: { drafts: number; finished: number; files: number };
}

/** Runs a `delete … limit BATCH` until it deletes fewer than a batch. */
async function deleteInBatches(db: Db, statement: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const n = rowsOf<{ n: number }>(await db.execute(sql`with gone as (${statement} returning 1) select count(*)::int as n from gone`))[0]?.n ?? 0;
    total += Number(n);
    if (n < BATCH) return total;
  }
}

/** One org's rows of a log table older than `days`, in batches. */
function deleteOlderThan(db: Db, table: "audit_log" | "api_requests" | "inbound_requests", orgId: string, days: number): Promise<number> {
  const t = sql.identifier(table);
  return deleteInBatches(
    db,
    sql`delete from ${t} where id in (
      select id from ${t} where org_id = ${orgId} and created_at < now() - make_interval(days => ${days}::int) limit ${BATCH})`,
  );
}

export async function enforceRetention(db: Db): Promise<RetentionResult> {
  const result: RetentionResult = {
    auditEntries: 0,
    apiRequests: 0,
    inboundRequests: 0,
    webhookEvents: 0,
    idempotencyKeys: 0,
    inboundDeliveryIds: 0,
    notifications: 0,
    connectorRuns: 0,
    imports: { drafts: 0, finished: 0, files: 0 },
  };
  const orgs = await db
    .select({
      id: organizations.id,
      audit: organizations.auditRetentionDays,
      requests: organizations.requestLogRetentionDays,
      events: organizations.eventRetentionDays,
    })
    .from(organizations);
  for (const org of orgs) {
    const removed = {
      audit_entries: await deleteOlderThan(db, "audit_log", org.id, org.audit),
      api_requests: await deleteOlderThan(db, "api_requests", org.id, org.requests),
      inbound_requests: await deleteOlderThan(db, "inbound_requests", org.id, org.requests),
      webhook_events: await deleteInBatches(
        db,
        sql`delete from webhook_events where id in (
          select e.id from webhook_events e
          where e.org_id = ${org.id} and e.created_at < now() - make_interval(days => ${org.events}::int)
            and not exists (select 1 from webhook_deliveries d where d.event_id = e.id and d.status = 'pending')
          limit ${BATCH})`,
      ),
    };
    result.auditEntries += removed.audit_entries;
    result.apiRequests += removed.api_requests;
    result.inboundRequests += removed.inbound_requests;
    result.webhookEvents += removed.webhook_events;
    // What was removed is itself on the record, in the org's own audit log.
    if (Object.values(removed).some((n) => n > 0)) {
      await writeAudit(db, org.id, { type: "system", id: null, label: "retention" }, "system", [
        {
          action: "retention.enforced",
          targetType: "organization",
          targetId: org.id,
          after: { ...removed, audit_days: org.audit, request_log_days: org.requests, event_days: org.events },
        },
      ]);
    }
  }
  result.idempotencyKeys = await deleteInBatches(
    db,
    sql`delete from idempotency_keys where ctid in (
      select ctid from idempotency_keys where created_at < now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS}::int) limit ${BATCH})`,
  );
  await db.delete(scheduledRuns).where(lt(scheduledRuns.slot, sql`now() - make_interval(days => ${SCHEDULED_RUN_RETENTION_DAYS}::int)`));
  result.inboundDeliveryIds = await deleteInBatches(
    db,
    sql`delete from inbound_deliveries where ctid in (
      select ctid from inbound_deliveries where created_at < now() - make_interval(days => ${DELIVERY_ID_RETENTION_DAYS}::int) limit ${BATCH})`,
  );
  result.notifications = await deleteInBatches(
    db,
    sql`delete from notifications where id in (
      select id from notifications where created_at < now() - make_interval(days => ${NOTIFICATION_RETENTION_DAYS}::int) limit ${BATCH})`,
  );
  result.connectorRuns = await deleteInBatches(
    db,
    sql`delete from connector_runs where id in (
      select id from connector_runs where started_at < now() - make_interval(days => ${CONNECTOR_RUN_RETENTION_DAYS}::int) and finished_at is not null limit ${BATCH})`,
  );
  result.imports = await importRetention(db);
  return result;
}

const HOUR_MS = 60 * 60_000;

/**
 * The hourly retention run, once per hour across every server (and QStash's every-minute sweep):
 * whoever claims the hour first runs it.
 */
export function runHourlyRetention(db: Db, now = new Date()) {
  return runOncePerSlot(db, "retention", HOUR_MS, async () => ({ ...(await enforceRetention(db)) }), now);
}

export const retentionInput = z.object({
  auditDays: z.coerce
    .number()
    .int("must be a whole number of days")
    .min(RETENTION_LIMITS.audit.min, `must be at least ${RETENTION_LIMITS.audit.min} days`)
    .max(RETENTION_LIMITS.audit.max, `must be at most ${RETENTION_LIMITS.audit.max} days`),
  requestDays: z.coerce
    .number()
    .int("must be a whole number of days")
    .min(RETENTION_LIMITS.requests.min, `must be at least ${RETENTION_LIMITS.requests.min} days`)
    .max(RETENTION_LIMITS.requests.max, `must be at most ${RETENTION_LIMITS.requests.max} days`),
  /** Left out: unchanged. */
  eventDays: z.coerce
    .number()
    .int("must be a whole number of days")
    .min(RETENTION_LIMITS.events.min, `must be at least ${RETENTION_LIMITS.events.min} days`)
    .max(RETENTION_LIMITS.events.max, `must be at most ${RETENTION_LIMITS.events.max} days`)
    .optional(),
});

/** An owner's choice of how long the org's logs are kept; the change is itself audited. */
export async function setRetention(db: Db, ctx: ChangeContext, input: unknown) {
  const parsed = retentionInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid retention.", zodDetails(parsed.error.issues));
  const { auditDays, requestDays } = parsed.data;
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!before) throw new AppError("not_found", "Organization not found.");
    const eventDays = parsed.data.eventDays ?? before.eventRetentionDays;
    await tx
      .update(organizations)
      .set({ auditRetentionDays: auditDays, requestLogRetentionDays: requestDays, eventRetentionDays: eventDays, updatedAt: new Date() })
      .where(eq(organizations.id, ctx.orgId));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "organization.retention_changed",
        targetType: "organization",
        targetId: ctx.orgId,
        before: { audit_days: before.auditRetentionDays, request_log_days: before.requestLogRetentionDays, event_days: before.eventRetentionDays },
        after: { audit_days: auditDays, request_log_days: requestDays, event_days: eventDays },
      },
    ]);
    return { auditDays, requestDays, eventDays };
  });
}

/**
 * The in-process schedule: every server looks every few minutes, shortly after start first; the
 * hour's run happens once, on whichever server claims it (see runHourlyRetention).
 */
export function startRetentionSchedule(db: Db, everyMs = 5 * 60_000, firstAfterMs = 60_000): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = runHourlyRetention(db)
      .catch((err) => logError("retention", err))
      .finally(() => (running = null));
  };
  const first = setTimeout(tick, firstAfterMs);
  const timer = setInterval(tick, everyMs);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
