import "server-only";
import { and, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { webhookAttempts, webhookDeliveries, webhookEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
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
export async function sendTestEvent(db: Db, ctx: ChangeContext, endpointId: string, eventType: string): Promise<{ deliveryId: string; outcome: AttemptOutcome }> {
  const parsed = z.enum(CATALOG_EVENT_TYPES).safeParse(eventType);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid webhook endpoint.", zodDetails(parsed.error.issues, "event_type"));
  const type = parsed.data;
  await getEndpoint(db, ctx.orgId, endpointId);
  const sample = sampleForTest(type);
  const eventId = newId("evt");
  const deliveryId = newId("dlv");
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.insert(webhookEvents).values({ id: eventId, orgId: ctx.orgId, type, recordType: sample.recordType, recordId: String(sample.data.id), data: sample.data, previous: sample.previous, isTest: true, createdAt: now });
    // Leased to us from the start, so no worker picks it up while we send it.
    await tx.insert(webhookDeliveries).values({ id: deliveryId, orgId: ctx.orgId, eventId, endpointId, status: "pending", nextAttemptAt: now, dispatchedAt: now, lockedUntil: new Date(now.getTime() + 60_000), createdAt: now, updatedAt: now });
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
export async function redeliverFailed(db: Db, ctx: ChangeContext, endpointId: string, since: Date): Promise<number> {
  await getEndpoint(db, ctx.orgId, endpointId);
  const failed = await db
    .select({ eventId: webhookDeliveries.eventId, endpointId: webhookDeliveries.endpointId })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.orgId, ctx.orgId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, "failed"), gte(webhookDeliveries.createdAt, since), eq(webhookEvents.isTest, false)));
  const unique = [...new Map(failed.map((f) => [f.eventId, f])).values()];
  return (await queueRedeliveries(db, ctx, unique)).length;
}

async function queueRedeliveries(db: Db, ctx: ChangeContext, items: { eventId: string; endpointId: string }[]): Promise<string[]> {
  if (items.length === 0) return [];
  const now = new Date();
  const rows = items.map((i) => ({ id: newId("dlv"), orgId: ctx.orgId, eventId: i.eventId, endpointId: i.endpointId, status: "pending" as const, nextAttemptAt: now, createdAt: now, updatedAt: now }));
  await db.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += 1000) await tx.insert(webhookDeliveries).values(rows.slice(i, i + 1000));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_delivery.redelivered", targetType: "webhook_endpoint", targetId: items[0]!.endpointId, after: { count: rows.length } }]);
  });
  signalDeliveriesCommitted(ctx.orgId, rows.length);
  return rows.map((r) => r.id);
}

export async function listDeliveries(db: Db, orgId: string, endpointId: string, filter: { status?: string; eventType?: string; cursor?: string; limit?: number } = {}) {
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
  return { attempts, succeeded: row?.ok ?? 0, successRate: attempts ? (row!.ok / attempts) : null, p50Ms: row?.p50 ?? null, p95Ms: row?.p95 ?? null };
}
