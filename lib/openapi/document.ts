import "server-only";
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import { API_SCOPES } from "@/db/schema";
import { ERROR_STATUS } from "@/lib/errors";
import { listQuerySchema, BULK_MAX } from "@/lib/records/api";
import { RECORD_TYPES, registry, outputSchema, schemasFor, type RecordType } from "@/lib/records/registry";
import { SUBSCRIBABLE_EVENTS, endpointInput, endpointPatch } from "@/lib/webhooks/endpoints";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import { eventsQuerySchema } from "@/lib/webhooks/events-feed";
import { sourceInput, sourcePatch } from "@/lib/inbound/sources";
import { INBOUND_KINDS } from "@/db/schema";
import { connectorInput, connectorPatch, paginationSchema } from "@/lib/connectors/connectors";
import { clientSummarySchema, workOrderSummarySchema } from "@/lib/events/summaries";

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the handlers validate with. Each
 * record type gets its own paths so every request and response schema is exact.
 */

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
      request_id: z.string().meta({ example: "req_00VblOwM700fri7S14Fi6ew" }),
    }),
  })
  .meta({ id: "Error", description: "Every API error has this shape." });

export const meSchema = z
  .object({
    object: z.literal("api_key"),
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(API_SCOPES)),
    expires_at: z.iso.datetime().nullable(),
    organization: z.object({ id: z.string(), slug: z.string(), name: z.string(), plan: z.enum(["starter", "pro", "business"]) }),
    rate_limit: z.object({ limit: z.number().int(), window_seconds: z.number().int(), org_limit: z.number().int() }),
  })
  .meta({ id: "Me" });

export const listSchema = (type: RecordType) =>
  z
    .object({ object: z.literal("list"), data: z.array(outputSchema(registry[type])), has_more: z.boolean(), next_cursor: z.string().nullable() })
    .meta({ id: `${type}_list` });

export const deletedSchema = (type: RecordType) =>
  z.object({ id: z.string(), object: z.literal(type), deleted: z.literal(true) }).meta({ id: `${type}_deleted` });

export const bulkResultSchema = z
  .object({
    object: z.literal("bulk_result"),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int(),
    results: z.array(
      z.object({
        index: z.number().int(),
        status: z.enum(["created", "updated", "unchanged", "failed"]),
        id: z.string().nullable(),
        external_id: z.string().nullable(),
        error: errorSchema.shape.error.omit({ request_id: true }).nullable(),
      }),
    ),
  })
  .meta({ id: "BulkResult" });

export const endpointSchema = z
  .object({
    id: z.string(),
    object: z.literal("webhook_endpoint"),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.enum(SUBSCRIBABLE_EVENTS)).meta({ description: "Empty: every record event. Operational events (endpoint.failing, …) are sent only to endpoints that name them." }),
    enabled: z.boolean(),
    status: z.enum(["enabled", "disabled"]),
    disabled_reason: z.string().nullable(),
    failing_since: z.iso.datetime().nullable(),
    last_success_at: z.iso.datetime().nullable(),
    rate_limit: z.number().int().nullable().meta({ description: "Deliveries per second at most (1–1,000); null: no limit." }),
    effective_rate: z.number().nullable().meta({ description: "The rate in force now: rate_limit, or lower after the receiver answered 429/503 (halved per such answer, never below 0.1/s, growing back while answers are good)." }),
    rate_reason: z.string().nullable().meta({ description: "Why the effective rate is below rate_limit." }),
    paused_until: z.iso.datetime().nullable().meta({ description: "A Retry-After on a 429/503 pauses every delivery to the endpoint until then." }),
    pause_reason: z.string().nullable(),
    circuit: z
      .object({
        state: z.enum(["closed", "open", "half_open"]),
        consecutive_failures: z.number().int(),
        probe_at: z.iso.datetime().nullable(),
        cooldown_seconds: z.number().int(),
      })
      .meta({ description: "The circuit breaker: open after 10 consecutive failed attempts; deliveries wait, and one probe after the cool-down (doubling up to 1 h) decides." }),
    ordering: z.enum(["none", "per_record"]),
    headers: z.array(z.string()).meta({ description: "The names of the custom headers; their values are never shown." }),
    auth: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("none") }),
        z.object({ type: z.literal("bearer") }),
        z.object({ type: z.literal("basic"), username: z.string() }),
        z.object({ type: z.literal("oauth2"), token_url: z.string(), client_id: z.string(), scope: z.string().nullable() }),
      ])
      .meta({ description: "How Smarfle authenticates to the receiver; secrets are never shown." }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: "WebhookEndpoint" });

const eventSchema = z
  .object({
    object: z.literal("event"),
    id: z.string(),
    type: z.enum(CATALOG_EVENT_TYPES),
    created_at: z.iso.datetime(),
    org_id: z.string(),
    data: z.union([
      z.looseObject({
        id: z.string(),
        object: z.enum(RECORD_TYPES),
        version: z.number().int(),
        client: clientSummarySchema.nullable().optional(),
        work_order: workOrderSummarySchema.nullable().optional(),
      }),
      z.looseObject({ id: z.string(), object: z.enum(["webhook_endpoint", "webhook_delivery", "api_key", "connector", "import"]) }).meta({ description: "An operational event's subject." }),
      z.looseObject({
        object: z.literal("workflow_trigger"),
        rule: z.looseObject({ id: z.string(), name: z.string() }),
        record: z.looseObject({ id: z.string(), object: z.enum(RECORD_TYPES), version: z.number().int() }),
      }),
    ]),
    previous: z.record(z.string(), z.unknown()).optional(),
    generic_type: z
      .enum(["record.created", "record.updated"])
      .optional()
      .meta({ description: "On a lifecycle event: the generic event it stands for. An endpoint gets one delivery per change, of the most specific event it subscribes to." }),
  })
  .meta({ id: "Event", description: "The body of a webhook, as the events feed shows it." });

const rateLimitHeaders = z.object({
  "X-RateLimit-Limit": z.string().meta({ description: "Requests allowed per window." }),
  "X-RateLimit-Remaining": z.string().meta({ description: "Requests left in the current window." }),
  "X-RateLimit-Reset": z.string().meta({ description: "Unix time (seconds) when the window resets." }),
  RateLimit: z.string().meta({ description: 'IETF draft field, e.g. "default";r=59;t=42' }),
  "RateLimit-Policy": z.string().meta({ description: 'IETF draft field, e.g. "default";q=60;w=60' }),
  "X-Request-Id": z.string(),
});

const json = (schema: z.ZodType) => ({ "application/json": { schema } });

/** `limit` (1–100) and, for lists that page, `cursor`: what lib/http/query's listQuery accepts. */
const listParams = (paged: boolean) =>
  z.object({
    limit: z.string().optional().meta({ description: "A whole number from 1 to 100." }),
    ...(paged ? { cursor: z.string().optional().meta({ description: "The `next_cursor` of the previous page." }) } : {}),
  });

function errors(...statuses: number[]): ZodOpenApiOperationObject["responses"] {
  const out: Record<string, unknown> = {};
  const describe: Record<number, string> = {
    400: "Malformed JSON (`invalid_json`) or invalid fields (`validation_failed`, every bad field in `details`).",
    401: "Missing, unknown, revoked, expired or rotated-out API key.",
    403: "The key lacks the scope (`insufficient_scope`), or the plan's limit is reached (`plan_limit_reached`).",
    404: "No such record in this organization, or unknown type.",
    409: "An `external_id` already in use.",
    413: "Body larger than 1 MB.",
    415: "Body not sent as `application/json`.",
    422: "The import file breaks a limit (`import_file_rejected`); the message names it.",
    429: "Rate limit exceeded: wait `Retry-After` seconds.",
  };
  for (const s of [401, 429, ...statuses]) {
    out[String(s)] = {
      description: describe[s] ?? "Error",
      content: json(errorSchema),
      ...(s === 429 ? { headers: rateLimitHeaders.extend({ "Retry-After": z.string().meta({ description: "Seconds to wait." }) }) } : {}),
    };
  }
  return out as ZodOpenApiOperationObject["responses"];
}

const ok = (description: string, schema: z.ZodType) => ({ description, content: json(schema), headers: rateLimitHeaders });

function recordPaths(type: RecordType): ZodOpenApiPathsObject {
  const def = registry[type];
  const { create, update } = schemasFor(def);
  const tag = def.pluralLabel;
  const idParam = z.object({ id: z.string().meta({ description: `The ${def.label.toLowerCase()}'s id.`, example: `${def.idPrefix}_00VblOwM200XQjR1cC9gEmj` }) });
  return {
    [`/api/v1/records/${type}`]: {
      get: {
        operationId: `list_${type}`,
        summary: `List ${def.pluralLabel.toLowerCase()}`,
        description: `Newest first. Pass \`next_cursor\` as \`cursor\` for the next page. \`status\` filters on \`${def.statusField}\`; \`q\` searches ${def.searchFields.join(", ")}.`,
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestParams: { query: listQuerySchema },
        responses: { "200": ok("A page of records.", listSchema(type)), ...errors(400, 403, 404) },
        "x-scope": "read",
      },
      post: {
        operationId: `create_${type}`,
        summary: `Create a ${def.label.toLowerCase()}`,
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestBody: { required: true, content: json(create.meta({ id: `${type}_create` })) },
        responses: { "201": ok("The created record.", outputSchema(def)), ...errors(400, 403, 404, 409, 413, 415) },
        "x-scope": "write",
      },
    },
    [`/api/v1/records/${type}/{id}`]: {
      get: {
        operationId: `get_${type}`,
        summary: `Get a ${def.label.toLowerCase()}`,
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestParams: { path: idParam },
        responses: { "200": ok("The record.", outputSchema(def)), ...errors(403, 404) },
        "x-scope": "read",
      },
      patch: {
        operationId: `update_${type}`,
        summary: `Update a ${def.label.toLowerCase()}`,
        description: "Only the fields sent change; `null` clears an optional field. Custom fields merge; a `null` value removes a key.",
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestParams: { path: idParam },
        requestBody: { required: true, content: json(update.meta({ id: `${type}_update` })) },
        responses: { "200": ok("The updated record.", outputSchema(def)), ...errors(400, 403, 404, 409, 413, 415) },
        "x-scope": "write",
      },
      delete: {
        operationId: `delete_${type}`,
        summary: `Delete a ${def.label.toLowerCase()}`,
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestParams: { path: idParam },
        responses: { "200": ok("The record was deleted.", deletedSchema(type)), ...errors(403, 404) },
        "x-scope": "delete",
      },
    },
    [`/api/v1/records/${type}/bulk`]: {
      post: {
        operationId: `bulk_${type}`,
        summary: `Create or upsert up to ${BULK_MAX} ${def.pluralLabel.toLowerCase()}`,
        description: "Records with an `external_id` are upserted (created, or updated if one with that id exists); others are created. Each item succeeds or fails on its own.",
        tags: [tag],
        security: [{ bearer: [] }, { apiKey: [] }],
        requestBody: { required: true, content: json(z.object({ records: z.array(create).min(1).max(BULK_MAX) })) },
        responses: { "200": ok("One result per item, in order.", bulkResultSchema), ...errors(400, 403, 404, 413, 415) },
        "x-scope": "bulk",
      },
    },
  };
}

function webhookPaths(): ZodOpenApiPathsObject {
  const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
  const idParam = z.object({ id: z.string().meta({ example: "we_00VblOwM200XQjR1cC9gEmj" }) });
  const list = (schema: z.ZodType, id: string) => z.object({ object: z.literal("list"), data: z.array(schema), has_more: z.boolean(), next_cursor: z.string().nullable() }).meta({ id });
  return {
    "/api/v1/webhooks": {
      get: {
        operationId: "list_webhooks",
        summary: "List webhook endpoints",
        description: "`?url=` finds the subscription for a URL (the REST-hooks lookup).",
        tags: ["Webhooks"],
        security,
        requestParams: { query: z.object({ url: z.string().optional() }) },
        responses: { "200": ok("Endpoints, newest first.", list(endpointSchema, "WebhookEndpointList")), ...errors(403) },
        "x-scope": "admin",
      },
      post: {
        operationId: "create_webhook",
        summary: "Subscribe a URL to events",
        description: "Answers with the endpoint and its signing `secret` (`whsec_…`), shown here once; verify deliveries with any Standard Webhooks library.",
        tags: ["Webhooks"],
        security,
        requestBody: { required: true, content: json(endpointInput.meta({ id: "WebhookEndpointCreate" })) },
        responses: { "201": ok("The endpoint, with its secret.", endpointSchema.extend({ secret: z.string() }).meta({ id: "WebhookEndpointWithSecret" })), ...errors(400, 403, 413, 415) },
        "x-scope": "admin",
      },
    },
    "/api/v1/webhooks/{id}": {
      get: { operationId: "get_webhook", summary: "Get a webhook endpoint", tags: ["Webhooks"], security, requestParams: { path: idParam }, responses: { "200": ok("The endpoint.", endpointSchema), ...errors(403, 404) }, "x-scope": "admin" },
      patch: {
        operationId: "update_webhook",
        summary: "Change a webhook endpoint",
        description: "`enabled: true` re-enables a disabled endpoint and resets its failure state.",
        tags: ["Webhooks"],
        security,
        requestParams: { path: idParam },
        requestBody: { required: true, content: json(endpointPatch.meta({ id: "WebhookEndpointUpdate" })) },
        responses: { "200": ok("The endpoint.", endpointSchema), ...errors(400, 403, 404, 413, 415) },
        "x-scope": "admin",
      },
      delete: {
        operationId: "delete_webhook",
        summary: "Unsubscribe (idempotent)",
        tags: ["Webhooks"],
        security,
        requestParams: { path: idParam },
        responses: { "200": ok("Deleted (or already gone).", z.object({ id: z.string(), object: z.literal("webhook_endpoint"), deleted: z.literal(true) })), ...errors(403) },
        "x-scope": "admin",
      },
    },
    "/api/v1/webhooks/{id}/test": {
      post: {
        operationId: "test_webhook",
        summary: "Send a signed sample event now",
        tags: ["Webhooks"],
        security,
        requestParams: { path: idParam },
        requestBody: { required: false, content: json(z.object({ event_type: z.enum(CATALOG_EVENT_TYPES).optional() })) },
        responses: {
          "200": ok(
            "What the receiver answered.",
            z.object({ object: z.literal("webhook_test"), delivery_id: z.string(), event_type: z.enum(CATALOG_EVENT_TYPES), succeeded: z.boolean(), response_status: z.number().int().nullable(), duration_ms: z.number().int(), error: z.string().nullable() }),
          ),
          ...errors(400, 403, 404),
        },
        "x-scope": "admin",
      },
    },
    "/api/v1/events": {
      get: {
        operationId: "list_events",
        summary: "Recent events, newest first",
        description: "The polling fallback for integrations that cannot receive webhooks: the same bodies webhooks carry, with stable ids.",
        tags: ["Webhooks"],
        security,
        requestParams: { query: eventsQuerySchema },
        responses: { "200": ok("A page of events.", list(eventSchema, "EventList")), ...errors(400, 403) },
        "x-scope": "read",
      },
    },
    "/api/v1/event-types": {
      get: {
        operationId: "list_event_types",
        summary: "Every event type, with a sample payload",
        tags: ["Webhooks"],
        security,
        responses: {
          "200": ok(
            "The catalog: record events, then the operational group (sent only to endpoints that name them).",
            list(z.object({ type: z.enum(CATALOG_EVENT_TYPES), group: z.enum(["records", "operational"]), description: z.string(), sample: z.record(z.string(), z.unknown()) }), "EventTypeList"),
          ),
          ...errors(403),
        },
        "x-scope": "read",
      },
    },
  };
}

const mappingDoc = z
  .object({ target: z.enum(RECORD_TYPES), external_id: z.unknown().optional(), fields: z.record(z.string(), z.unknown()) })
  .meta({
    id: "Mapping",
    description:
      'Maps a payload onto a record: `fields` takes, per target field, a source path (dots and [n]) or `{from, transform (trim|lower|upper|number|date|boolean), map, default, value}`; `external_id` names the path used for upserts. Example: `{"target":"client","external_id":"customer.id","fields":{"name":"customer.first_name","email":{"from":"customer.email","transform":"lower"}}}`',
  });

function inboundPaths(): ZodOpenApiPathsObject {
  const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
  const idParam = z.object({ id: z.string().meta({ example: "src_00VblOwM200XQjR1cC9gEmj" }) });
  const source = z
    .object({ id: z.string(), object: z.literal("inbound_source"), name: z.string(), kind: z.enum(INBOUND_KINDS), url: z.string(), mapping: z.record(z.string(), z.unknown()), enabled: z.boolean(), created_at: z.iso.datetime(), updated_at: z.iso.datetime() })
    .meta({ id: "InboundSource" });
  const request = z
    .object({
      id: z.string(),
      object: z.literal("inbound_request"),
      received_at: z.iso.datetime(),
      verified: z.boolean(),
      status: z.enum(["processed", "failed", "rejected", "duplicate"]),
      http_status: z.number().int(),
      record_id: z.string().nullable(),
      created: z.number().int(),
      updated: z.number().int(),
      error: z.string().nullable(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
      reprocessed_at: z.iso.datetime().nullable(),
    })
    .meta({ id: "InboundRequest" });
  const list = (schema: z.ZodType, id: string) => z.object({ object: z.literal("list"), data: z.array(schema), has_more: z.boolean(), next_cursor: z.string().nullable() }).meta({ id });
  return {
    "/api/v1/inbound-sources": {
      get: { operationId: "list_inbound_sources", summary: "List inbound webhook sources", tags: ["Inbound"], security, requestParams: { query: listParams(true) }, responses: { "200": ok("Sources.", list(source, "InboundSourceList")), ...errors(403) }, "x-scope": "admin" },
      post: {
        operationId: "create_inbound_source",
        summary: "Create an inbound webhook source",
        description:
          "`kind`: `hmac_sha256_hex` (header `X-Signature`, hex digest, optional `sha256=` prefix), `shopify` (header `X-Shopify-Hmac-Sha256`, base64) — both keyed with the secret string's UTF-8 bytes — or `standard_webhooks` (a `whsec_` secret, 5-minute timestamp tolerance). Answers with the URL to post to and the secret.",
        tags: ["Inbound"],
        security,
        requestBody: { required: true, content: json(sourceInput.extend({ mapping: mappingDoc }).meta({ id: "InboundSourceCreate" })) },
        responses: { "201": ok("The source, its URL and its secret.", source.extend({ secret: z.string() }).meta({ id: "InboundSourceWithSecret" })), ...errors(400, 403, 413, 415) },
        "x-scope": "admin",
      },
    },
    "/api/v1/inbound-sources/{id}": {
      get: { operationId: "get_inbound_source", summary: "Get an inbound source", tags: ["Inbound"], security, requestParams: { path: idParam }, responses: { "200": ok("The source.", source), ...errors(403, 404) }, "x-scope": "admin" },
      patch: {
        operationId: "update_inbound_source",
        summary: "Change an inbound source's name, mapping or state",
        tags: ["Inbound"],
        security,
        requestParams: { path: idParam },
        requestBody: { required: true, content: json(sourcePatch.extend({ mapping: mappingDoc.optional() }).meta({ id: "InboundSourceUpdate" })) },
        responses: { "200": ok("The source.", source), ...errors(400, 403, 404, 413, 415) },
        "x-scope": "admin",
      },
      delete: {
        operationId: "delete_inbound_source",
        summary: "Delete an inbound source",
        tags: ["Inbound"],
        security,
        requestParams: { path: idParam },
        responses: { "200": ok("Deleted.", z.object({ id: z.string(), object: z.literal("inbound_source"), deleted: z.literal(true) })), ...errors(403, 404) },
        "x-scope": "admin",
      },
    },
    "/api/v1/inbound-sources/{id}/requests": {
      get: {
        operationId: "list_inbound_requests",
        summary: "What a source received, newest first",
        tags: ["Inbound"],
        security,
        requestParams: { path: idParam, query: listParams(true) },
        responses: { "200": ok("Requests.", list(request, "InboundRequestList")), ...errors(403, 404) },
        "x-scope": "admin",
      },
    },
  };
}

function connectorPaths(): ZodOpenApiPathsObject {
  const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
  const idParam = z.object({ id: z.string().meta({ example: "con_00VblOwM200XQjR1cC9gEmj" }) });
  const connector = z
    .object({
      id: z.string(),
      object: z.literal("connector"),
      name: z.string(),
      url: z.string(),
      header_names: z.array(z.string()).meta({ description: "The headers sent (their values are credentials and never shown)." }),
      interval_minutes: z.number().int(),
      records_path: z.string().nullable(),
      pagination: z.record(z.string(), z.unknown()),
      mapping: z.record(z.string(), z.unknown()),
      cursor: z.string().nullable(),
      status: z.enum(["active", "paused"]),
      paused_reason: z.string().nullable(),
      consecutive_failures: z.number().int(),
      next_run_at: z.iso.datetime(),
      last_run_at: z.iso.datetime().nullable(),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
    })
    .meta({ id: "Connector" });
  const run = z
    .object({
      id: z.string(),
      object: z.literal("connector_run"),
      status: z.enum(["queued", "running", "succeeded", "failed"]),
      trigger: z.enum(["schedule", "manual"]),
      started_at: z.iso.datetime(),
      finished_at: z.iso.datetime().nullable(),
      duration_ms: z.number().int().nullable(),
      pages: z.number().int(),
      fetched: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      failed: z.number().int(),
      error: z.string().nullable(),
      cursor_before: z.string().nullable(),
      cursor_after: z.string().nullable(),
    })
    .meta({ id: "ConnectorRun" });
  const list = (schema: z.ZodType, id: string) => z.object({ object: z.literal("list"), data: z.array(schema), has_more: z.boolean(), next_cursor: z.string().nullable() }).meta({ id });
  const body = connectorInput.extend({ mapping: mappingDoc, pagination: paginationSchema.optional() });
  return {
    "/api/v1/connectors": {
      get: { operationId: "list_connectors", summary: "List pull connectors", tags: ["Connectors"], security, requestParams: { query: listParams(true) }, responses: { "200": ok("Connectors.", list(connector, "ConnectorList")), ...errors(403) }, "x-scope": "admin" },
      post: {
        operationId: "create_connector",
        summary: "Create a pull connector",
        description:
          'Polls `url` every `interval_minutes` (5–1440) with `headers`, takes the list at `records_path`, maps each item and upserts it. `pagination`: `{"type":"none"}`, `{"type":"next_url","path":"next"}`, `{"type":"cursor","param":"cursor","path":"next_cursor"}` or `{"type":"updated_since","param":"updated_since","field":"updated_at"}`; the cursor is kept between runs.',
        tags: ["Connectors"],
        security,
        requestBody: { required: true, content: json(body.meta({ id: "ConnectorCreate" })) },
        responses: { "201": ok("The connector.", connector), ...errors(400, 403, 413, 415) },
        "x-scope": "admin",
      },
    },
    "/api/v1/connectors/{id}": {
      get: { operationId: "get_connector", summary: "Get a connector", tags: ["Connectors"], security, requestParams: { path: idParam }, responses: { "200": ok("The connector.", connector), ...errors(403, 404) }, "x-scope": "admin" },
      patch: {
        operationId: "update_connector",
        summary: "Change a connector; `enabled: true` resumes a paused one",
        tags: ["Connectors"],
        security,
        requestParams: { path: idParam },
        requestBody: { required: true, content: json(connectorPatch.extend({ mapping: mappingDoc.optional() }).meta({ id: "ConnectorUpdate" })) },
        responses: { "200": ok("The connector.", connector), ...errors(400, 403, 404, 413, 415) },
        "x-scope": "admin",
      },
      delete: {
        operationId: "delete_connector",
        summary: "Delete a connector",
        tags: ["Connectors"],
        security,
        requestParams: { path: idParam },
        responses: { "200": ok("Deleted.", z.object({ id: z.string(), object: z.literal("connector"), deleted: z.literal(true) })), ...errors(403, 404) },
        "x-scope": "admin",
      },
    },
    "/api/v1/connectors/{id}/run": {
      post: {
        operationId: "run_connector",
        summary: "Queue a run of a connector now",
        description: "Answers at once with the queued run; poll the connector's runs for how it ends. At most 2 runs per organization run at a time; manual runs are limited to 10 a minute per organization.",
        tags: ["Connectors"],
        security,
        requestParams: { path: idParam },
        responses: { "202": ok("The queued run.", run), ...errors(403, 404, 409) },
        "x-scope": "admin",
      },
    },
    "/api/v1/connectors/{id}/runs": {
      get: { operationId: "list_connector_runs", summary: "A connector's runs, newest first", tags: ["Connectors"], security, requestParams: { path: idParam, query: listParams(false) }, responses: { "200": ok("Runs.", list(run, "ConnectorRunList")), ...errors(403, 404) }, "x-scope": "admin" },
    },
  };
}

function importPaths(): ZodOpenApiPathsObject {
  const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
  const idParam = z.object({ id: z.string().meta({ example: "imp_00VblOwM200XQjR1cC9gEmj" }) });
  const job = z
    .object({
      id: z.string(),
      object: z.literal("import"),
      type: z.enum(RECORD_TYPES),
      filename: z.string(),
      status: z.enum(["pending", "running", "completed", "failed"]),
      total: z.number().int(),
      processed: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      failed: z.number().int(),
      error: z.string().nullable(),
      error_code: z.string().nullable().meta({ description: "Why a failed import failed: `import_file_rejected` when the file broke a limit (the error names it)." }),
      created_at: z.iso.datetime(),
      finished_at: z.iso.datetime().nullable(),
    })
    .meta({ id: "Import" });
  return {
    "/api/v1/imports": {
      post: {
        operationId: "create_import",
        summary: "Import a CSV or Excel file",
        description: "Multipart upload (up to 100 MB): `file` (.csv or .xlsx, header row first), `type`, optional `mapping` (JSON; without it columns match fields by name). Runs in the background: poll the import. A file beyond a limit (an .xlsx decompressing past 1 GB or 100× its size, more than 1,000 columns, a cell over 32,767 characters, a row over 1 MB) ends `failed` with `error_code: \"import_file_rejected\"`. One import runs at a time per organization; others wait as `pending`.",
        tags: ["Imports"],
        security,
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: z.object({ file: z.string().meta({ format: "binary" }), type: z.enum(RECORD_TYPES), mapping: z.string().optional().meta({ description: "A mapping as JSON." }) }),
            },
          },
        },
        responses: { "202": ok("Accepted; processing has started.", job), ...errors(400, 403, 413, 415) },
        "x-scope": "bulk",
      },
    },
    "/api/v1/imports/{id}": {
      get: { operationId: "get_import", summary: "An import's progress and result", tags: ["Imports"], security, requestParams: { path: idParam }, responses: { "200": ok("The import.", job), ...errors(403, 404) }, "x-scope": "bulk" },
    },
    "/api/v1/imports/{id}/errors.csv": {
      get: {
        operationId: "get_import_errors",
        summary: "The rows that failed, as CSV",
        description: "Columns: line, reason, then the row's own columns.",
        tags: ["Imports"],
        security,
        requestParams: { path: idParam },
        responses: { "200": { description: "CSV.", content: { "text/csv": { schema: z.string() } } }, ...errors(403, 404) },
        "x-scope": "bulk",
      },
    },
  };
}

let cached: ReturnType<typeof createDocument> | undefined;

export function openApiDocument(baseUrl?: string) {
  cached ??= createDocument({
    openapi: "3.1.0",
    info: {
      title: "Smarfle API",
      version: "1.0.0",
      description:
        "The Smarfle REST API. Authenticate with an API key as `Authorization: Bearer sk_live_…` or `X-API-Key: sk_live_…`. Every response carries rate-limit headers; errors share one JSON shape.",
    },
    tags: [{ name: "Keys" }, ...RECORD_TYPES.map((t) => ({ name: registry[t].pluralLabel })), { name: "Webhooks" }, { name: "Inbound" }, { name: "Connectors" }, { name: "Imports" }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer sk_live_…`" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
    paths: {
      "/api/v1/me": {
        get: {
          operationId: "get_me",
          summary: "Which organization, scopes and rate limit this key has",
          tags: ["Keys"],
          security: [{ bearer: [] }, { apiKey: [] }],
          responses: { "200": ok("The key.", meSchema), ...errors(403) },
          "x-scope": "read",
        },
      },
      ...Object.assign({}, ...RECORD_TYPES.map(recordPaths)),
      ...webhookPaths(),
      ...inboundPaths(),
      ...connectorPaths(),
      ...importPaths(),
    },
  });
  return baseUrl ? { ...cached, servers: [{ url: baseUrl }] } : cached;
}
