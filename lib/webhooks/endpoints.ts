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
import { EVENT_TYPES } from "@/lib/records/registry";
import { GRACE_PERIODS, type GracePeriod } from "@/lib/api-keys/keys";
import { assertSafeUrl } from "@/lib/net/guard";
import { generateSecret } from "./signing";
import { signalDeliveriesCommitted } from "./outbox";
import { RATE_LIMIT_MAX, RATE_LIMIT_MIN, currentRate } from "./controls";
import { sealAuth, sealHeaders } from "./endpoint-credentials";
import { emitOperationalEvent } from "./operational";
import { assertFilterFields, filterSchema, normalizeFilter, type EndpointFilter } from "./filter";
import { OPERATIONAL_EVENTS } from "./operational-events";

/** Record events, plus the operational group (delivered only to endpoints that name them). */
export const SUBSCRIBABLE_EVENTS = [...EVENT_TYPES, ...OPERATIONAL_EVENTS] as const;

const eventTypesSchema = z
  .array(z.enum(SUBSCRIBABLE_EVENTS, { message: `must be one of: ${SUBSCRIBABLE_EVENTS.join(", ")}` }))
  .max(SUBSCRIBABLE_EVENTS.length)
  .transform((v) => [...new Set(v)].sort());

/** Headers Smarfle sets itself: a custom header may not replace them. */
export const RESERVED_HEADERS = [
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "x-smarfle-signature",
  "x-smarfle-event",
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
] as const;
export const MAX_CUSTOM_HEADERS = 20;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

const headersSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(2000, "must be at most 2000 characters")
      .regex(/^[^\r\n\0]*$/, "must not contain line breaks"),
  )
  .superRefine((h, ctx) => {
    const names = Object.keys(h);
    if (names.length > MAX_CUSTOM_HEADERS) ctx.addIssue({ code: "custom", message: `at most ${MAX_CUSTOM_HEADERS} headers` });
    const seen = new Set<string>();
    for (const name of names) {
      const lower = name.toLowerCase();
      if (!HEADER_NAME.test(name))
        ctx.addIssue({ code: "custom", path: [name], message: "is not a valid header name (letters, digits, - and a few symbols, at most 100)" });
      else if ((RESERVED_HEADERS as readonly string[]).includes(lower))
        ctx.addIssue({ code: "custom", path: [name], message: `${name} is reserved: Smarfle sets ${RESERVED_HEADERS.join(", ")} itself` });
      if (seen.has(lower)) ctx.addIssue({ code: "custom", path: [name], message: "appears twice" });
      seen.add(lower);
    }
  });

const secretString = z
  .string()
  .min(1)
  .max(2000)
  .regex(/^[^\r\n\0]*$/, "must not contain line breaks");
const authSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("bearer"), token: secretString }),
  z.strictObject({
    type: z.literal("basic"),
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^:\r\n\0]*$/, "must not contain a colon or line breaks"),
    password: secretString,
  }),
  z.strictObject({
    type: z.literal("oauth2"),
    token_url: z.string().trim().max(2000),
    client_id: z.string().min(1).max(500),
    client_secret: secretString,
    scope: z.string().max(1000).optional(),
  }),
]);
export type EndpointAuthInput = z.infer<typeof authSchema>;

export const endpointInput = z.strictObject({
  url: z.string().trim().max(2000, "must be at most 2000 characters"),
  description: z.string().trim().max(500).nullable().optional(),
  /** Empty or omitted: every record event (operational events must be named). */
  event_types: eventTypesSchema.optional(),
  filter: filterSchema.optional().meta({
    description:
      "Conditions over the event's data.* and previous.*, all of which must hold (the workflow rules' language); an event that does not match is not delivered. Null or []: every event of its types.",
  }),
  rate_limit: z
    .number()
    .int()
    .min(RATE_LIMIT_MIN)
    .max(RATE_LIMIT_MAX)
    .nullable()
    .optional()
    .meta({ description: "Deliveries per second at most (1–1,000); null: no limit. A 429/503 lowers the effective rate below it for a while." }),
  ordering: z
    .enum(["none", "per_record"])
    .optional()
    .meta({ description: "per_record: deliveries about one record go in version order, one at a time (a failed delivery is given up and the next goes)." }),
  headers: headersSchema
    .nullable()
    .optional()
    .meta({
      description: `Static headers sent with every delivery (at most ${MAX_CUSTOM_HEADERS}); stored encrypted, returned by name only. Null removes them. Refused: ${RESERVED_HEADERS.join(", ")}.`,
    }),
  auth: authSchema.optional().meta({
    description:
      "How Smarfle authenticates to the receiver: none, bearer, basic, or oauth2 (client credentials; the token is cached and fetched anew on a 401). Secrets are never returned.",
  }),
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
    filter: e.filter ?? null,
    enabled: e.status === "enabled",
    status: e.status,
    disabled_reason: e.disabledReason,
    failing_since: e.failingSince?.toISOString() ?? null,
    last_success_at: e.lastSuccessAt?.toISOString() ?? null,
    rate_limit: e.rateLimit,
    effective_rate: currentRate(e),
    rate_reason: e.rateReason,
    paused_until: e.pausedUntil && e.pausedUntil > new Date() ? e.pausedUntil.toISOString() : null,
    pause_reason: e.pausedUntil && e.pausedUntil > new Date() ? e.pauseReason : null,
    circuit: {
      state: e.circuitState,
      consecutive_failures: e.consecutiveFailures,
      probe_at: e.circuitState === "closed" ? null : (e.circuitUntil?.toISOString() ?? null),
      cooldown_seconds: e.circuitCooldownSeconds,
    },
    ordering: e.ordering,
    /** Names only: the values are stored encrypted and never shown. */
    headers: e.headerNames,
    auth: authView(e),
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}
export type EndpointView = ReturnType<typeof endpointView>;

/** The auth settings without their secrets. */
function authView(e: WebhookEndpoint) {
  const pub = e.authPublic ?? {};
  switch (e.authKind) {
    case "bearer":
      return { type: "bearer" as const };
    case "basic":
      return { type: "basic" as const, username: pub.username ?? "" };
    case "oauth2":
      return { type: "oauth2" as const, token_url: pub.token_url ?? "", client_id: pub.client_id ?? "", scope: pub.scope ?? null };
    default:
      return { type: "none" as const };
  }
}

/** The columns for a new auth setting (its token URL SSRF-checked like any endpoint URL). */
async function authColumns(
  orgId: string,
  auth: EndpointAuthInput,
): Promise<Pick<typeof webhookEndpoints.$inferInsert, "authKind" | "authPublic" | "authCiphertext">> {
  switch (auth.type) {
    case "none":
      return { authKind: "none", authPublic: null, authCiphertext: null };
    case "bearer":
      return { authKind: "bearer", authPublic: null, authCiphertext: sealAuth(orgId, { token: auth.token }) };
    case "basic":
      return { authKind: "basic", authPublic: { username: auth.username }, authCiphertext: sealAuth(orgId, { password: auth.password }) };
    case "oauth2": {
      const tokenUrl = (await assertSafeUrl(auth.token_url, "auth.token_url")).toString();
      const pub: Record<string, string> = { token_url: tokenUrl, client_id: auth.client_id };
      if (auth.scope) pub.scope = auth.scope;
      return { authKind: "oauth2", authPublic: pub, authCiphertext: sealAuth(orgId, { client_secret: auth.client_secret }) };
    }
  }
}

/** The columns for the delivery settings present in `data` (create or patch). */
async function settingsColumns(orgId: string, data: z.infer<typeof endpointPatch>): Promise<Partial<typeof webhookEndpoints.$inferInsert>> {
  const set: Partial<typeof webhookEndpoints.$inferInsert> = {};
  if (data.rate_limit !== undefined) Object.assign(set, { rateLimit: data.rate_limit, rateNextAt: null });
  if (data.ordering !== undefined) set.ordering = data.ordering;
  if (data.filter !== undefined) set.filter = normalizeFilter(data.filter);
  if (data.headers !== undefined) {
    const h = data.headers ?? {};
    Object.assign(set, { headerNames: Object.keys(h), headersCiphertext: Object.keys(h).length ? sealHeaders(orgId, h) : null });
  }
  if (data.auth !== undefined) Object.assign(set, await authColumns(orgId, data.auth));
  const names = (data.headers ? Object.keys(data.headers) : []).map((n) => n.toLowerCase());
  if (data.auth && data.auth.type !== "none" && names.includes("authorization")) {
    throw new AppError("validation_failed", "Invalid webhook endpoint.", [
      { path: "headers.Authorization", message: "is set by `auth`: use one or the other" },
    ]);
  }
  return set;
}

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
