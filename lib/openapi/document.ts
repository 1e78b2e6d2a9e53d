import "server-only";
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from "zod-openapi";
import type { Operation, RouteDeclaration } from "@/lib/api/define";
import { API_ROUTES } from "@/lib/api/routes";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { errorSchema } from "./schemas";
import { unkeyedPaths, webhookEntries } from "./unkeyed-paths";

/**
 * The OpenAPI 3.1 document, derived from the route declarations (lib/api) and the zod schemas the
 * handlers validate with. Each record type gets its own paths so every request and response
 * schema is exact.
 */

const rateLimitHeaders = z.object({
  "X-RateLimit-Limit": z.string().meta({ description: "Requests allowed per window." }),
  "X-RateLimit-Remaining": z.string().meta({ description: "Requests left in the current window." }),
  "X-RateLimit-Reset": z.string().meta({ description: "Unix time (seconds) when the window resets." }),
  RateLimit: z.string().meta({ description: 'IETF draft field, e.g. "default";r=59;t=42' }),
  "RateLimit-Policy": z.string().meta({ description: 'IETF draft field, e.g. "default";q=60;w=60' }),
  "X-Request-Id": z.string(),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed JSON (`invalid_json`) or invalid fields (`validation_failed`, every bad field in `details`).",
  401: "Missing, unknown, revoked, expired or rotated-out API key.",
  403: "The key lacks the scope (`insufficient_scope`), or the plan's limit is reached (`plan_limit_reached`).",
  404: "No such record in this organization, or unknown type.",
  409: "A conflict: an `external_id` already in use (`conflict`), or an Idempotency-Key used with another request (`idempotency_key_reused`) or whose first request is still running (`idempotency_key_in_use`, with Retry-After).",
  413: "Body larger than 1 MB.",
  415: "Body not sent as `application/json`.",
  422: "The import file breaks a limit (`import_file_rejected`); the message names it.",
  429: "Rate limit exceeded: wait `Retry-After` seconds.",
};

function errors(statuses: number[]): ZodOpenApiOperationObject["responses"] {
  const out: Record<string, unknown> = {};
  for (const s of [401, 429, ...statuses]) {
    out[String(s)] = {
      description: ERROR_DESCRIPTIONS[s] ?? "Error",
      content: { "application/json": { schema: errorSchema } },
      ...(s === 429 ? { headers: rateLimitHeaders.extend({ "Retry-After": z.string().meta({ description: "Seconds to wait." }) }) } : {}),
    };
  }
  return out as ZodOpenApiOperationObject["responses"];
}

/** Every POST honours it (lib/http/idempotency.ts). */
const idempotencyHeader = z.object({
  "Idempotency-Key": z.string().max(255).optional().meta({
    description: "Up to 255 visible ASCII characters, per organization, kept 24 hours: a retry gets the first answer, marked `Idempotent-Replayed: true`.",
  }),
});

function operation(route: RouteDeclaration, op: Operation): ZodOpenApiOperationObject {
  const { response, body } = op;
  const idempotent = route.method === "POST";
  const success =
    response.type === "text/csv"
      ? { description: response.description, content: { "text/csv": { schema: response.schema } } }
      : { description: response.description, content: { "application/json": { schema: response.schema } }, headers: rateLimitHeaders };
  const requestParams = {
    ...(op.params ? { path: op.params } : {}),
    ...(op.query ? { query: op.query } : {}),
    ...(idempotent ? { header: idempotencyHeader } : {}),
  };
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: op.tags,
    security: [{ bearer: [] }, { apiKey: [] }],
    ...(Object.keys(requestParams).length ? { requestParams } : {}),
    ...(body ? { requestBody: { required: body.required ?? true, content: { [body.type ?? "application/json"]: { schema: body.schema } } } } : {}),
    responses: {
      [String(response.status)]: success,
      ...Object.fromEntries(
        (op.alsoAnswers ?? []).map((a) => [
          String(a.status),
          { description: a.description, content: { "application/json": { schema: a.schema } }, headers: rateLimitHeaders },
        ]),
      ),
      ...errors(idempotent && !op.errors.includes(409) ? [...op.errors, 409] : op.errors),
    },
    "x-scope": route.scope,
  };
}

/** The paths of the declared routes; a route under `{type}` becomes one path per record type, grouped by type. */
export function apiPaths(routes: readonly RouteDeclaration[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  const add = (path: string, route: RouteDeclaration, op: Operation) => {
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, op) };
  };
  const perType = routes.filter((r) => typeof r.doc === "function");
  for (const route of routes) {
    if (typeof route.doc !== "function") add(route.path, route, route.doc);
    else if (route === perType[0]) {
      for (const type of RECORD_TYPES) for (const r of perType) add(r.path.replace("{type}", type), r, (r.doc as (t: typeof type) => Operation)(type));
    }
  }
  return paths;
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
    tags: [
      { name: "Keys" },
      ...RECORD_TYPES.map((t) => ({ name: registry[t].pluralLabel })),
      { name: "Webhooks" },
      { name: "Events", description: "What Smarfle POSTs to your endpoints: one entry per event type." },
      { name: "Workflows" },
      { name: "Leads" },
      { name: "Inbound" },
      { name: "Connectors" },
      { name: "Imports" },
    ],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer sk_live_…`" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        leadsKeyQuery: { type: "apiKey", in: "query", name: "key", description: "A leads-only key, for lead capture from plain HTML forms." },
      },
    },
    paths: { ...apiPaths(API_ROUTES), ...unkeyedPaths },
    webhooks: webhookEntries(),
  });
  return baseUrl ? { ...cached, servers: [{ url: baseUrl }] } : cached;
}
