import "server-only";
import { and, count, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { organizations, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents, type WebhookEndpoint } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { encrypt, decrypt } from "@/lib/crypto/encryption";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { planLimits } from "@/lib/orgs/plans";
import { ALL_EVENT_TYPES, EVENT_TYPES } from "@/lib/records/registry";
import { GRACE_PERIODS, type GracePeriod } from "@/lib/api-keys/keys";
import { assertSafeUrl } from "./ssrf";
import { generateSecret } from "./signing";
import { sampleEvent } from "./catalog";
import { loadJobs, performAttempt, type AttemptOutcome } from "./deliver";
import { signalDeliveriesCommitted } from "./outbox";

const eventTypesSchema = z
  .array(z.enum(EVENT_TYPES, { message: `must be one of: ${EVENT_TYPES.join(", ")}` }))
  .max(EVENT_TYPES.length)
  .transform((v) => [...new Set(v)]);

export const endpointInput = z.object({
  url: z.string().trim().max(2000, "must be at most 2000 characters"),
  description: z.string().trim().max(500).nullable().optional(),
  /** Empty or omitted: every event. */
  event_types: eventTypesSchema.optional(),
});
export const endpointPatch = endpointInput.partial().extend({ enabled: z.boolean().optional() });

/** The public view of an endpoint: never its secret. */
export function endpointView(e: WebhookEndpoint) {
  return {
    id: e.id,
    object: "webhook_endpoint" as const,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.status === "enabled",
    status: e.status,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince?.toISOString() ?? null,
    last_success_at: e.lastSuccessAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}
export type EndpointView = ReturnType<typeof endpointView>;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid webhook endpoint.", zodDetails(r.error.issues));
  return r.data;
}

export async function createEndpoint(db: Db, ctx: ChangeContext, input: unknown): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const data = parse(endpointInput, input);
  const url = await assertSafeUrl(data.url);
  const secret = generateSecret();
  return db.transaction(async (tx) => {
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!org) throw new AppError("not_found", "Organization not found.");
    const max = planLimits(org.plan).maxWebhookEndpoints;
    if (max !== null) {
      const [n] = await tx.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.orgId, ctx.orgId));
      if ((n?.n ?? 0) >= max) throw new AppError("plan_limit_reached", `Your ${org.plan} plan allows ${max} webhook endpoints.`);
    }
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({ id: newId("we"), orgId: ctx.orgId, url: url.toString(), description: data.description ?? null, eventTypes: data.event_types ?? [], secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "webhook_endpoints.secret" }) })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "webhook_endpoint.created", targetType: "webhook_endpoint", targetId: endpoint!.id, after: { url: endpoint!.url, event_types: endpoint!.eventTypes } },
    ]);
    return { endpoint: endpoint!, secret };
  });
}

export async function listEndpoints(db: Db, orgId: string, filter: { url?: string } = {}): Promise<WebhookEndpoint[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(filter.url ? and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.url, filter.url)) : eq(webhookEndpoints.orgId, orgId))
    .orderBy(desc(webhookEndpoints.createdAt));
}

export async function getEndpoint(db: Db, orgId: string, id: string): Promise<WebhookEndpoint> {
  const [e] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.id, id)));
  if (!e) throw new AppError("not_found", `No webhook endpoint with id ${id}.`);
  return e;
}

export async function revealSecret(db: Db, ctx: ChangeContext, id: string): Promise<{ secret: string; previous: { secret: string; expires_at: string } | null }> {
  const e = await getEndpoint(db, ctx.orgId, id);
  await writeAudit(db, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_endpoint.secret_revealed", targetType: "webhook_endpoint", targetId: id }]);
  const previous =
    e.previousSecretCiphertext && e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
      ? { secret: decrypt(e.previousSecretCiphertext, { orgId: e.orgId, column: "webhook_endpoints.secret" }), expires_at: e.previousSecretExpiresAt.toISOString() }
      : null;
  return { secret: decrypt(e.secretCiphertext, { orgId: e.orgId, column: "webhook_endpoints.secret" }), previous };
}

async function lockEndpoint(tx: Executor, orgId: string, id: string): Promise<WebhookEndpoint> {
  const [e] = await tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.id, id)))
    .for("update");
  if (!e) throw new AppError("not_found", `No webhook endpoint with id ${id}.`);
  return e;
}

export async function updateEndpoint(db: Db, ctx: ChangeContext, id: string, input: unknown): Promise<WebhookEndpoint> {
  const data = parse(endpointPatch, input);
  const url = data.url !== undefined ? (await assertSafeUrl(data.url)).toString() : undefined;
  return db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, ctx.orgId, id);
    const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
    if (url !== undefined) set.url = url;
    if (data.description !== undefined) set.description = data.description;
    if (data.event_types !== undefined) set.eventTypes = data.event_types;
    if (data.enabled === true && before.status !== "enabled") Object.assign(set, { status: "enabled", disabledReason: null, failingSince: null });
    if (data.enabled === false && before.status !== "disabled") Object.assign(set, { status: "disabled", disabledReason: "disabled by an admin" });
    const [after] = await tx.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "webhook_endpoint.updated",
        targetType: "webhook_endpoint",
        targetId: id,
        before: { url: before.url, event_types: before.eventTypes, status: before.status, description: before.description },
        after: { url: after!.url, event_types: after!.eventTypes, status: after!.status, description: after!.description },
      },
    ]);
    return after!;
  });
}

/** A new secret signs from now on; the old one also signs until the grace period ends. */
export async function rotateEndpointSecret(db: Db, ctx: ChangeContext, id: string, grace: GracePeriod): Promise<{ secret: string; previousExpiresAt: Date | null }> {
  if (!(grace in GRACE_PERIODS)) throw new AppError("validation_failed", "Invalid grace period.", [{ path: "grace", message: "must be none, 1h, 24h or 7d" }]);
  const secret = generateSecret();
  const seconds = GRACE_PERIODS[grace];
  const previousExpiresAt = seconds > 0 ? new Date(Date.now() + seconds * 1000) : null;
  await db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, ctx.orgId, id);
    await tx
      .update(webhookEndpoints)
      .set({ secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "webhook_endpoints.secret" }), previousSecretCiphertext: seconds > 0 ? before.secretCiphertext : null, previousSecretExpiresAt: previousExpiresAt, updatedAt: new Date() })
      .where(eq(webhookEndpoints.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_endpoint.secret_rotated", targetType: "webhook_endpoint", targetId: id, after: { grace } }]);
  });
  return { secret, previousExpiresAt };
}

/** Idempotent, as REST-hook subscribers expect: deleting twice is not an error. */
export async function deleteEndpoint(db: Db, ctx: ChangeContext, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.id, id)))
      .returning();
    if (gone) await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_endpoint.deleted", targetType: "webhook_endpoint", targetId: id, before: { url: gone.url } }]);
    return Boolean(gone);
  });
}

/**
 * Sends a sample of `eventType`, signed with the endpoint's real secret, right now, and returns
 * the attempt. Test events are logged like any delivery but never count against the endpoint.
 */
export async function sendTestEvent(db: Db, ctx: ChangeContext, endpointId: string, eventType: string): Promise<{ deliveryId: string; outcome: AttemptOutcome }> {
  const type = parse(z.object({ event_type: z.enum(ALL_EVENT_TYPES) }), { event_type: eventType }).event_type;
  await getEndpoint(db, ctx.orgId, endpointId);
  const sample = sampleEvent(type);
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

// ---------------------------------------------------------------------------------------------
// The delivery log.

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
