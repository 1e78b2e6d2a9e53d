import "server-only";
import { and, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { DELIVERY_STATUSES, webhookAttempts, webhookDeliveries, webhookEvents, type WebhookDelivery } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { limitParam } from "@/lib/http/query";
import { newId } from "@/lib/ids";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { CATALOG_EVENT_TYPES, sampleForTest } from "./catalog";
import { loadJobs, performAttempt, type AttemptOutcome } from "./deliver";
import { getEndpoint } from "./endpoints";
import { signalDeliveriesCommitted } from "./outbox";

/**
 * What an endpoint was sent: a test event now, redeliveries, and the delivery log with its
 * attempts and the last day's figures. Endpoints themselves are lib/webhooks/endpoints.ts.
 */

/**
 * Sends a sample of `eventType`, signed with the endpoint's real secret, right now, and returns
 * the attempt. Test events are logged like any delivery but never count against the endpoint.
 */
export async function sendTestEvent(
  db: Db,
  ctx: ChangeContext,
  endpointId: string,
  eventType: string,
): Promise<{ deliveryId: string; outcome: AttemptOutcome }> {
  const parsed = z.enum(CATALOG_EVENT_TYPES).safeParse(eventType);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid webhook endpoint.", zodDetails(parsed.error.issues, "event_type"));
  const type = parsed.data;
  await getEndpoint(db, ctx.orgId, endpointId);
  const sample = sampleForTest(type);
  const eventId = newId("evt");
  const deliveryId = newId("dlv");
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.insert(webhookEvents).values({
      id: eventId,
      orgId: ctx.orgId,
      type,
      recordType: sample.recordType,
      recordId: String(sample.data.id),
      data: sample.data,
      previous: sample.previous,
      isTest: true,
      createdAt: now,
    });
    // Leased to us from the start, so no worker picks it up while we send it.
    await tx.insert(webhookDeliveries).values({
      id: deliveryId,
      orgId: ctx.orgId,
      eventId,
      endpointId,
      status: "pending",
      nextAttemptAt: now,
      dispatchedAt: now,
      lockedUntil: new Date(now.getTime() + 60_000),
      createdAt: now,
      updatedAt: now,
    });
  });
  const [job] = await loadJobs(db, [deliveryId]);
  // A test is one attempt: a failure is shown, not retried.
  const outcome = await performAttempt(db, job!);
  if (outcome.decision.kind === "retry") {
    await db.update(webhookDeliveries).set({ status: "failed", completedAt: new Date(), lockedUntil: null }).where(eq(webhookDeliveries.id, deliveryId));
  }
  return { deliveryId, outcome };
}

/** Queues a fresh delivery of the same event to the same endpoint (same webhook-id). */
export async function redeliver(db: Db, ctx: ChangeContext, deliveryId: string): Promise<string> {
  const [d] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.orgId, ctx.orgId), eq(webhookDeliveries.id, deliveryId)));
  if (!d) throw new AppError("not_found", `No delivery with id ${deliveryId}.`);
  const [id] = await queueRedeliveries(db, ctx, [{ eventId: d.eventId, endpointId: d.endpointId }]);
  return id!;
}

/** Re-delivers every failed delivery of an endpoint since a date. */
/** The most failed deliveries one "re-deliver failed since" queues again (the newest first). */
export const REDELIVER_MAX = 10_000;

export async function redeliverFailed(db: Db, ctx: ChangeContext, endpointId: string, since: Date): Promise<number> {
  await getEndpoint(db, ctx.orgId, endpointId);
  const failed = await db
    .select({ eventId: webhookDeliveries.eventId, endpointId: webhookDeliveries.endpointId })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.orgId, ctx.orgId),
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.status, "failed"),
        gte(webhookDeliveries.createdAt, since),
        eq(webhookEvents.isTest, false),
      ),
    )
    // One call queues at most this many: a wide `since` cannot flood the org's queue at once.
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(REDELIVER_MAX);
  const unique = [...new Map(failed.map((f) => [f.eventId, f])).values()];
  return (await queueRedeliveries(db, ctx, unique)).length;
}

async function queueRedeliveries(db: Db, ctx: ChangeContext, items: { eventId: string; endpointId: string }[]): Promise<string[]> {
  if (items.length === 0) return [];
  const now = new Date();
  const rows = items.map((i) => ({
    id: newId("dlv"),
    orgId: ctx.orgId,
    eventId: i.eventId,
    endpointId: i.endpointId,
    status: "pending" as const,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  await db.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += 1000) await tx.insert(webhookDeliveries).values(rows.slice(i, i + 1000));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "webhook_delivery.redelivered", targetType: "webhook_endpoint", targetId: items[0]!.endpointId, after: { count: rows.length } },
    ]);
  });
  signalDeliveriesCommitted(ctx.orgId, rows.length);
  return rows.map((r) => r.id);
}

export async function listDeliveries(
  db: Db,
  orgId: string,
  endpointId: string,
  filter: { status?: string; eventType?: string; cursor?: string; limit?: number } = {},
) {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 100);
  const conds = [eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.endpointId, endpointId)];
  if (filter.status) conds.push(eq(webhookDeliveries.status, filter.status as "pending"));
  if (filter.eventType) conds.push(eq(webhookEvents.type, filter.eventType));
  if (filter.cursor) conds.push(lt(webhookDeliveries.id, filter.cursor));
  const rows = await db
    .select({ delivery: webhookDeliveries, eventType: webhookEvents.type, isTest: webhookEvents.isTest, recordId: webhookEvents.recordId })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(...conds))
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit + 1);
  return { items: rows.slice(0, limit), nextCursor: rows.length > limit ? rows[limit - 1]!.delivery.id : null };
}

export async function listAttempts(db: Db, orgId: string, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .select()
    .from(webhookAttempts)
    .where(and(eq(webhookAttempts.orgId, orgId), inArray(webhookAttempts.deliveryId, deliveryIds)))
    .orderBy(webhookAttempts.deliveryId, webhookAttempts.attemptNumber);
}

/** Success rate and latency of the last 24 hours' attempts. */
export async function endpointStats(db: Db, orgId: string, endpointId: string) {
  const since = new Date(Date.now() - 24 * 3600 * 1000);
  const [row] = await db
    .select({
      attempts: sql<number>`count(*)::int`,
      ok: sql<number>`count(*) filter (where ${webhookAttempts.responseStatus} between 200 and 299)::int`,
      p50: sql<number | null>`percentile_cont(0.5) within group (order by ${webhookAttempts.durationMs})`,
      p95: sql<number | null>`percentile_cont(0.95) within group (order by ${webhookAttempts.durationMs})`,
    })
    .from(webhookAttempts)
    .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
    .where(and(eq(webhookAttempts.orgId, orgId), eq(webhookDeliveries.endpointId, endpointId), gte(webhookAttempts.createdAt, since)));
  const attempts = row?.attempts ?? 0;
  return { attempts, succeeded: row?.ok ?? 0, successRate: attempts ? row!.ok / attempts : null, p50Ms: row?.p50 ?? null, p95Ms: row?.p95 ?? null };
}

/** The delivery log as the API shows it: each delivery, and every attempt's exact request and response. */

export const deliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  event_type: z.enum(CATALOG_EVENT_TYPES).optional(),
  cursor: z
    .string()
    .max(64)
    .regex(/^dlv_[A-Za-z0-9]+$/, "must be a delivery id")
    .optional(),
  limit: limitParam.optional(),
});

type Row = { delivery: WebhookDelivery; eventType: string; isTest: boolean; recordId: string };

export function deliveryView({ delivery: d, eventType, isTest, recordId }: Row) {
  return {
    id: d.id,
    object: "webhook_delivery" as const,
    endpoint_id: d.endpointId,
    event_id: d.eventId,
    event_type: eventType,
    record_id: recordId,
    test: isTest,
    status: d.status,
    attempt_count: d.attemptCount,
    next_attempt_at: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
    completed_at: d.completedAt?.toISOString() ?? null,
    last_response_status: d.lastResponseStatus,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
  };
}

type Attempt = Awaited<ReturnType<typeof listAttempts>>[number];

export function attemptView(a: Attempt) {
  return {
    attempt_number: a.attemptNumber,
    at: a.createdAt.toISOString(),
    duration_ms: a.durationMs,
    request: { method: "POST" as const, url: a.url, headers: a.requestHeaders, body: a.requestBody, body_length: Buffer.byteLength(a.requestBody) },
    response: a.responseStatus === null ? null : { status: a.responseStatus, headers: a.responseHeaders ?? {}, body: a.responseBody ?? "" },
    error: a.error,
  };
}

/** A page of an endpoint's deliveries, newest first, filtered by status and event type. */
export async function pageDeliveries(db: Db, orgId: string, endpointId: string, search: URLSearchParams) {
  const parsed = deliveriesQuery.safeParse(Object.fromEntries(search));
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const { status, event_type, cursor, limit = 25 } = parsed.data;
  await getEndpoint(db, orgId, endpointId);
  const page = await listDeliveries(db, orgId, endpointId, { status, eventType: event_type, cursor, limit });
  return { object: "list" as const, data: page.items.map(deliveryView), has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
}

/** One delivery with every attempt. */
export async function getDelivery(db: Db, orgId: string, id: string) {
  const [row] = await db
    .select({ delivery: webhookDeliveries, eventType: webhookEvents.type, isTest: webhookEvents.isTest, recordId: webhookEvents.recordId })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id)));
  if (!row) throw new AppError("not_found", `No delivery with id ${id}.`);
  const attempts = await listAttempts(db, orgId, [id]);
  return { ...deliveryView(row), attempts: attempts.map(attemptView) };
}

export const recoverInput = z.strictObject({ since: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }) });
