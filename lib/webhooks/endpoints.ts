import "server-only";
import { and, count, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { organizations, webhookEndpoints, type WebhookEndpoint } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { encrypt, decrypt } from "@/lib/crypto/encryption";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { planLimits } from "@/lib/orgs/plans";
import { GRACE_PERIODS, type GracePeriod } from "@/lib/api-keys/keys";
import { assertSafeUrl } from "@/lib/net/guard";
import { generateSecret } from "./signing";
import { signalDeliveriesCommitted } from "./outbox";
import { emitOperationalEvent } from "./operational";
import { assertFilterFields, type EndpointFilter } from "./filter";
import { endpointInput, endpointPatch, settingsColumns } from "./endpoint-fields";

/** What the audit log keeps of the delivery settings: never a secret. */
const settingsAudit = (e: WebhookEndpoint) => ({ filter: e.filter, rate_limit: e.rateLimit, ordering: e.ordering, headers: e.headerNames, auth: e.authKind });

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid webhook endpoint.", zodDetails(r.error.issues));
  return r.data;
}

/** What makes two subscriptions the same: URL, event types (as a set) and filter. */
function subscriptionKey(url: string, eventTypes: readonly string[], filter: EndpointFilter): string {
  return JSON.stringify([url, [...eventTypes].sort(), (filter ?? []).map((c) => [c.field, c.op, c.value ?? null])]);
}

/**
 * Subscribes a URL. The same URL, event types and filter as an enabled endpoint of the org gives
 * that endpoint back (`existing: true`): Zapier, Make and n8n re-subscribe on their own, and a
 * second endpoint would deliver every event twice. Race-proof because every create holds the
 * org row's lock (taken anyway for the plan limit), so concurrent subscribes run one at a time
 * and the later ones find the first. A unique index was not used: endpoints that already share a
 * URL must keep working, and a PATCH may make two alike on purpose.
 */
export async function createEndpoint(db: Db, ctx: ChangeContext, input: unknown): Promise<{ endpoint: WebhookEndpoint; secret: string; existing: boolean }> {
  const data = parse(endpointInput, input);
  const url = (await assertSafeUrl(data.url)).toString();
  const settings = await settingsColumns(ctx.orgId, data);
  const eventTypes = data.event_types ?? [];
  assertFilterFields(settings.filter ?? null, eventTypes);
  const key = subscriptionKey(url, eventTypes, settings.filter ?? null);
  return db.transaction(async (tx) => {
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!org) throw new AppError("not_found", "Organization not found.");
    const same = (
      await tx
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.url, url), eq(webhookEndpoints.status, "enabled")))
    ).find((e) => subscriptionKey(e.url, e.eventTypes, e.filter) === key);
    if (same) {
      // The subscriber verifies signatures, so it gets the secret back: an admin may read it anyway.
      await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_endpoint.resubscribed", targetType: "webhook_endpoint", targetId: same.id }]);
      return { endpoint: same, secret: decrypt(same.secretCiphertext, { orgId: ctx.orgId, column: "webhook_endpoints.secret" }), existing: true };
    }
    const max = planLimits(org.plan).maxWebhookEndpoints;
    if (max !== null) {
      const [n] = await tx.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.orgId, ctx.orgId));
      if ((n?.n ?? 0) >= max) throw new AppError("plan_limit_reached", `Your ${org.plan} plan allows ${max} webhook endpoints.`);
    }
    const secret = generateSecret();
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("we"),
        orgId: ctx.orgId,
        url,
        description: data.description ?? null,
        eventTypes,
        secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "webhook_endpoints.secret" }),
        ...settings,
      })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "webhook_endpoint.created",
        targetType: "webhook_endpoint",
        targetId: endpoint!.id,
        after: { url: endpoint!.url, event_types: endpoint!.eventTypes, ...settingsAudit(endpoint!) },
      },
    ]);
    return { endpoint: endpoint!, secret, existing: false };
  });
}

/** The org's endpoints, newest first; `url` finds a subscription, `cursor` (an endpoint id) and `limit` page. */
export async function listEndpoints(db: Db, orgId: string, filter: { url?: string; cursor?: string; limit?: number } = {}): Promise<WebhookEndpoint[]> {
  const conds = [eq(webhookEndpoints.orgId, orgId)];
  if (filter.url) conds.push(eq(webhookEndpoints.url, filter.url));
  if (filter.cursor) conds.push(lt(webhookEndpoints.id, filter.cursor));
  const q = db
    .select()
    .from(webhookEndpoints)
    .where(and(...conds))
    .orderBy(desc(webhookEndpoints.id));
  return filter.limit ? q.limit(filter.limit) : q;
}

export async function getEndpoint(db: Db, orgId: string, id: string): Promise<WebhookEndpoint> {
  const [e] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.id, id)));
  if (!e) throw new AppError("not_found", `No webhook endpoint with id ${id}.`);
  return e;
}

export async function revealSecret(
  db: Db,
  ctx: ChangeContext,
  id: string,
): Promise<{ secret: string; previous: { secret: string; expires_at: string } | null }> {
  const e = await getEndpoint(db, ctx.orgId, id);
  await writeAudit(db, ctx.orgId, ctx.actor, ctx.source, [{ action: "webhook_endpoint.secret_revealed", targetType: "webhook_endpoint", targetId: id }]);
  const previous =
    e.previousSecretCiphertext && e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
      ? {
          secret: decrypt(e.previousSecretCiphertext, { orgId: e.orgId, column: "webhook_endpoints.secret" }),
          expires_at: e.previousSecretExpiresAt.toISOString(),
        }
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
  const settings = await settingsColumns(ctx.orgId, data);
  let queued = 0;
  const updated = await db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, ctx.orgId, id);
    if (settings.filter !== undefined || data.event_types !== undefined)
      assertFilterFields(settings.filter === undefined ? before.filter : settings.filter, data.event_types ?? before.eventTypes);
    if (
      data.headers === undefined &&
      data.auth !== undefined &&
      data.auth.type !== "none" &&
      before.headerNames.some((n) => n.toLowerCase() === "authorization")
    ) {
      throw new AppError("validation_failed", "Invalid webhook endpoint.", [
        { path: "auth", message: "the endpoint sends a custom Authorization header: remove it first" },
      ]);
    }
    const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date(), ...settings };
    if (url !== undefined) set.url = url;
    if (data.description !== undefined) set.description = data.description;
    if (data.event_types !== undefined) set.eventTypes = data.event_types;
    if (data.enabled === true && before.status !== "enabled") Object.assign(set, { status: "enabled", disabledReason: null, ...HEALTHY });
    if (data.enabled === false && before.status !== "disabled") Object.assign(set, { status: "disabled", disabledReason: "disabled by an admin" });
    const [after] = await tx.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
    if (data.enabled === false && before.status !== "disabled") {
      queued = await emitOperationalEvent(
        tx,
        ctx.orgId,
        "endpoint.disabled",
        { id, url: after!.url, reason: "disabled by an admin", failing_since: null, disabled_at: new Date().toISOString(), link: `settings/webhooks/${id}` },
        { aboutEndpointId: id, noBell: true },
      );
    }
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "webhook_endpoint.updated",
        targetType: "webhook_endpoint",
        targetId: id,
        before: { url: before.url, event_types: before.eventTypes, status: before.status, description: before.description, ...settingsAudit(before) },
        after: { url: after!.url, event_types: after!.eventTypes, status: after!.status, description: after!.description, ...settingsAudit(after!) },
      },
    ]);
    return after!;
  });
  signalDeliveriesCommitted(ctx.orgId, queued);
  return updated;
}

/** Re-enabling starts the endpoint afresh: circuit closed, no back-off, no pause, no failure streak. */
const HEALTHY = {
  failingSince: null,
  consecutiveFailures: 0,
  circuitState: "closed",
  circuitUntil: null,
  circuitCooldownSeconds: 0,
  effectiveRate: null,
  rateReason: null,
  rateChangedAt: null,
  pausedUntil: null,
  pauseReason: null,
} as const;

/** A new secret signs from now on; the old one also signs until the grace period ends. */
export async function rotateEndpointSecret(
  db: Db,
  ctx: ChangeContext,
  id: string,
  grace: GracePeriod,
): Promise<{ secret: string; previousExpiresAt: Date | null }> {
  if (!(grace in GRACE_PERIODS)) throw new AppError("validation_failed", "Invalid grace period.", [{ path: "grace", message: "must be none, 1h, 24h or 7d" }]);
  const secret = generateSecret();
  const seconds = GRACE_PERIODS[grace];
  const previousExpiresAt = seconds > 0 ? new Date(Date.now() + seconds * 1000) : null;
  await db.transaction(async (tx) => {
    const before = await lockEndpoint(tx, ctx.orgId, id);
    await tx
      .update(webhookEndpoints)
      .set({
        secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "webhook_endpoints.secret" }),
        previousSecretCiphertext: seconds > 0 ? before.secretCiphertext : null,
        previousSecretExpiresAt: previousExpiresAt,
        updatedAt: new Date(),
      })
      .where(eq(webhookEndpoints.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "webhook_endpoint.secret_rotated", targetType: "webhook_endpoint", targetId: id, after: { grace } },
    ]);
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
    if (gone)
      await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
        { action: "webhook_endpoint.deleted", targetType: "webhook_endpoint", targetId: id, before: { url: gone.url } },
      ]);
    return Boolean(gone);
  });
}
