import "server-only";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { outputSchema, registry } from "@/lib/records/registry";
import { CATALOG_EVENT_TYPES, EVENT_DESCRIPTIONS } from "@/lib/webhooks/catalog";
import { eventEnvelopeSchema } from "@/lib/webhooks/event-schemas";
import { OPERATIONAL_EVENT_INFO, isOperationalEvent } from "@/lib/webhooks/operational-events";
import type { RecordEventName } from "@/lib/events/names";
import { errorSchema } from "./schemas";

/**
 * What the document says beyond the keyed /api/v1 routes: lead capture and inbound webhooks
 * (their own authentication), and the `webhooks` section, one entry per event Smarfle sends.
 */

const leadFields = z
  .looseObject({
    name: z.string().optional(),
    email: z.string().optional(),
    phone: z.string().optional(),
    company: z.string().optional(),
    message: z.string().optional(),
    source: z.string().optional(),
    utm_source: z.string().optional(),
    redirect_to: z.string().optional().meta({ description: "Form posts: where the browser goes afterwards (one of the organization's allowed URLs)." }),
    _gotcha: z.string().optional().meta({ description: "Honeypot: leave empty. A filled one is answered as accepted and kept nowhere." }),
  })
  .meta({
    description: "Usual names (name, full_name, email, phone, tel, company…) map to the client's fields; UTM parameters and anything else go to custom fields.",
  });

const leadForm = leadFields.extend({ api_key: z.string().optional().meta({ description: "A leads-only key, for HTML forms that cannot send headers." }) });

const json = (schema: z.ZodType) => ({ "application/json": { schema } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: "The documented error body.", content: json(errorSchema) }]));

export const unkeyedPaths: ZodOpenApiPathsObject = {
  "/api/webhook/leads": {
    post: {
      operationId: "capture_lead",
      summary: "Capture a lead (web forms, ad platforms, scripts)",
      description:
        "Creates a client with status `lead`, notifies the team and fires `client_created`. The key: a leads key as `X-API-Key` or `Authorization: Bearer`, or — for plain HTML forms — the `api_key` form field or the `key` query parameter (only a key with just the `leads` scope may travel there). An `Idempotency-Key` header makes retries safe. A browser form post gets a thank-you page or a 303 to `redirect_to`.",
      tags: ["Leads"],
      security: [{ bearer: [] }, { apiKey: [] }, { leadsKeyQuery: [] }, {}],
      requestParams: {
        query: z.object({ key: z.string().optional().meta({ description: "A leads-only key (for forms)." }) }),
        header: z.object({ "Idempotency-Key": z.string().optional().meta({ description: "Same key and body: the first answer is replayed." }) }),
      },
      requestBody: { required: true, content: { ...json(leadFields), "application/x-www-form-urlencoded": { schema: leadForm } } },
      responses: {
        "201": { description: "The client created.", content: json(outputSchema(registry.client)) },
        "202": {
          description: "Accepted (a bot filled the honeypot: nothing kept).",
          content: json(z.object({ object: z.literal("lead"), accepted: z.literal(true) })),
        },
        "303": { description: "Form post: on to `redirect_to`." },
        ...errors(400, 401, 403, 409, 413, 415, 429),
      },
    },
  },
  "/api/inbound/{sourceId}": {
    post: {
      operationId: "receive_inbound",
      summary: "Receive an inbound webhook",
      description:
        "The URL of an inbound source. The signature is checked over the raw body by the source's kind (HMAC-SHA256 hex in `X-Signature`, Shopify's base64 `X-Shopify-Hmac-Sha256`, Standard Webhooks headers, …) with a timestamp tolerance against replays; the body is mapped onto a record and upserted by external id. Every request is logged.",
      tags: ["Inbound"],
      security: [{}],
      requestParams: { path: z.object({ sourceId: z.string().meta({ example: "src_00VblOwM200XQjR1cC9gEmj" }) }) },
      requestBody: { required: true, content: json(z.record(z.string(), z.unknown())) },
      responses: {
        "200": {
          description: "Processed (or a duplicate delivery id, answered again).",
          content: json(
            z.object({
              object: z.literal("inbound_result"),
              request_id: z.string(),
              record_id: z.string().nullable(),
              outcome: z.enum(["created", "updated", "unchanged"]),
            }),
          ),
        },
        ...errors(400, 401, 404, 413, 415, 429),
      },
    },
  },
};

/** One entry per event: the body Smarfle POSTs, signed the Standard Webhooks way. */
export function webhookEntries(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    CATALOG_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `event_${type.replace(/\./g, "_")}`,
          summary: type,
          description: `${isOperationalEvent(type) ? OPERATIONAL_EVENT_INFO[type].description : EVENT_DESCRIPTIONS[type as RecordEventName].description} Signed with headers webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks).`,
          tags: ["Events"],
          // Smarfle calls you: no key; verify the signature instead.
          security: [],
          requestBody: { required: true, content: json(eventEnvelopeSchema(type)) },
          responses: { "200": { description: "Any 2xx within 15 s acknowledges; anything else is retried." } },
        },
      },
    ]),
  );
}
