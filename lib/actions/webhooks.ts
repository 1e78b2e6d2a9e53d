import "server-only";
import { z } from "zod";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import { GRACE_PERIODS, type GracePeriod } from "@/lib/api-keys/keys";
import { createEndpoint, deleteEndpoint, getEndpoint, revealSecret, rotateEndpointSecret, updateEndpoint } from "@/lib/webhooks/endpoints";
import { redeliver, redeliverFailed, sendTestEvent } from "@/lib/webhooks/delivery-log";
import { previewFilter } from "@/lib/webhooks/filter";
import { defineOrgAction, uiChange } from "@/lib/auth/action";
import { AppError } from "@/lib/errors";
import { limitOutbound } from "@/lib/rate-limit/outbound";

const id = z.string().min(1).max(64);
/** Checkboxes: absent, one value, or several. "all" (or none ticked) subscribes to everything. */
const eventsField = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .transform((v) => (v.includes("all") ? [] : v));

export const createWebhookAction = defineOrgAction({
  name: "webhooks.create",
  role: "admin",
  input: z.object({ org: z.string(), url: z.string().max(2000), description: z.string().max(500).optional(), events: eventsField }),
  async run(ctx, input) {
    // The same subscription again opens the one that exists (the form warned about it).
    const { endpoint } = await createEndpoint(ctx.db, uiChange(ctx), { url: input.url, description: input.description || null, event_types: input.events });
    return { id: endpoint.id };
  },
});

export const updateWebhookAction = defineOrgAction({
  name: "webhooks.update",
  role: "admin",
  input: z.object({
    org: z.string(),
    id,
    enabled: z.enum(["true", "false"]).optional(),
    events: eventsField.optional(),
    setEvents: z.literal("1").optional(),
    description: z.string().max(500).optional(),
  }),
  async run(ctx, input) {
    const patch: Record<string, unknown> = {};
    if (input.enabled) patch.enabled = input.enabled === "true";
    if (input.setEvents) patch.event_types = input.events ?? [];
    if (input.description !== undefined) patch.description = input.description || null;
    const e = await updateEndpoint(ctx.db, uiChange(ctx), input.id, patch);
    return { id: e.id, status: e.status };
  },
});

/** "Name: value" per line, for the custom-headers textarea. */
function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw new AppError("validation_failed", "Invalid webhook endpoint.", [{ path: "headers", message: `line ${i + 1} must look like "Name: value"` }]);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * The endpoint page's delivery settings. Secrets left blank keep what is stored (they are never
 * shown, so the form cannot send them back); headers left blank are kept unless removed.
 */
export const updateWebhookDeliveryAction = defineOrgAction({
  name: "webhooks.update_delivery",
  role: "admin",
  input: z.object({
    org: z.string(),
    id,
    rateLimit: z.string().max(10).optional(),
    ordering: z.enum(["none", "per_record"]),
    headers: z.string().max(50_000).optional(),
    clearHeaders: z.literal("1").optional(),
    authType: z.enum(["keep", "none", "bearer", "basic", "oauth2"]),
    token: z.string().max(2000).optional(),
    username: z.string().max(200).optional(),
    password: z.string().max(2000).optional(),
    tokenUrl: z.string().max(2000).optional(),
    clientId: z.string().max(500).optional(),
    clientSecret: z.string().max(2000).optional(),
    scope: z.string().max(1000).optional(),
  }),
  async run(ctx, input) {
    const patch: Record<string, unknown> = { ordering: input.ordering };
    const rate = input.rateLimit?.trim();
    patch.rate_limit = rate ? Number(rate) : null;
    if (input.clearHeaders) patch.headers = null;
    else if (input.headers?.trim()) patch.headers = parseHeaderLines(input.headers);
    if (input.authType === "none") patch.auth = { type: "none" };
    if (input.authType === "bearer") patch.auth = { type: "bearer", token: input.token ?? "" };
    if (input.authType === "basic") patch.auth = { type: "basic", username: input.username ?? "", password: input.password ?? "" };
    if (input.authType === "oauth2") {
      patch.auth = {
        type: "oauth2",
        token_url: input.tokenUrl ?? "",
        client_id: input.clientId ?? "",
        client_secret: input.clientSecret ?? "",
        ...(input.scope?.trim() ? { scope: input.scope.trim() } : {}),
      };
    }
    const e = await updateEndpoint(ctx.db, uiChange(ctx), input.id, patch);
    return { id: e.id };
  },
});

export const rotateWebhookSecretAction = defineOrgAction({
  name: "webhooks.rotate_secret",
  role: "admin",
  input: z.object({ org: z.string(), id, grace: z.enum(Object.keys(GRACE_PERIODS) as [GracePeriod, ...GracePeriod[]]) }),
  async run(ctx, input) {
    const r = await rotateEndpointSecret(ctx.db, uiChange(ctx), input.id, input.grace);
    return { secret: r.secret, previousExpiresAt: r.previousExpiresAt?.toISOString() ?? null };
  },
});

export const revealWebhookSecretAction = defineOrgAction({
  name: "webhooks.reveal_secret",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: (ctx, input) => revealSecret(ctx.db, uiChange(ctx), input.id),
});

export const deleteWebhookAction = defineOrgAction({
  name: "webhooks.delete",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  async run(ctx, input) {
    if (!(await deleteEndpoint(ctx.db, uiChange(ctx), input.id))) throw new AppError("not_found", "No such webhook endpoint.");
    return { id: input.id };
  },
});

export const sendTestWebhookAction = defineOrgAction({
  name: "webhooks.send_test",
  role: "admin",
  input: z.object({ org: z.string(), id, eventType: z.enum(CATALOG_EVENT_TYPES) }),
  async run(ctx, input) {
    await limitOutbound(ctx.org.id, "test_event");
    const { deliveryId, outcome } = await sendTestEvent(ctx.db, uiChange(ctx), input.id, input.eventType);
    return {
      deliveryId,
      status: outcome.status,
      durationMs: outcome.durationMs,
      succeeded: outcome.decision.kind === "succeeded",
      error: outcome.decision.kind === "succeeded" ? null : outcome.decision.error,
    };
  },
});

export const redeliverAction = defineOrgAction({
  name: "webhooks.redeliver",
  role: "admin",
  input: z.object({ org: z.string(), deliveryId: id }),
  async run(ctx, input) {
    return { deliveryId: await redeliver(ctx.db, uiChange(ctx), input.deliveryId) };
  },
});

export const redeliverFailedAction = defineOrgAction({
  name: "webhooks.redeliver_failed",
  role: "admin",
  input: z.object({ org: z.string(), id, since: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "pick a date") }),
  async run(ctx, input) {
    return { count: await redeliverFailed(ctx.db, uiChange(ctx), input.id, new Date(`${input.since}T00:00:00Z`)) };
  },
});

/** The filter editor sends its conditions as one JSON field. */
function filterJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("validation_failed", "Invalid filter.", [{ path: "filter", message: "must be a JSON list of conditions" }]);
  }
}

export const updateWebhookFilterAction = defineOrgAction({
  name: "webhooks.update_filter",
  role: "admin",
  input: z.object({ org: z.string(), id, filter: z.string().max(50_000) }),
  async run(ctx, input) {
    const e = await updateEndpoint(ctx.db, uiChange(ctx), input.id, { filter: filterJson(input.filter) });
    return { id: e.id, filter: e.filter };
  },
});

/** Which of the last 100 events of the endpoint's types the filter would have let through. Nothing is saved. */
export const previewWebhookFilterAction = defineOrgAction({
  name: "webhooks.preview_filter",
  role: "admin",
  input: z.object({ org: z.string(), id, filter: z.string().max(50_000) }),
  async run(ctx, input) {
    const e = await getEndpoint(ctx.db, ctx.org.id, input.id);
    return previewFilter(ctx.db, ctx.org.id, { event_types: e.eventTypes, filter: filterJson(input.filter) });
  },
});
