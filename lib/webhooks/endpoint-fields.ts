import "server-only";
import { z } from "zod";
import { webhookEndpoints, type WebhookEndpoint } from "@/db/schema";
import { AppError } from "@/lib/errors";
import { EVENT_TYPES } from "@/lib/records/registry";
import { assertSafeUrl } from "@/lib/net/guard";
import { RATE_LIMIT_MAX, RATE_LIMIT_MIN, currentRate } from "./controls";
import { sealAuth, sealHeaders } from "./endpoint-credentials";
import { filterSchema, normalizeFilter } from "./filter";
import { OPERATIONAL_EVENTS } from "./operational-events";

/**
 * What an endpoint is made of: its input (URL, event types, filter, rate, ordering, custom headers,
 * receiver auth) as the API and the settings page take it, the columns that input becomes (secrets
 * sealed, URLs checked against private addresses), and its public view, which never holds a secret.
 */

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
export async function settingsColumns(orgId: string, data: z.infer<typeof endpointPatch>): Promise<Partial<typeof webhookEndpoints.$inferInsert>> {
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
