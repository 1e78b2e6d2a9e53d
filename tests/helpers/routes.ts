import { handlerOf, type RouteHandler } from "@/lib/api/define";
import { API_ROUTES as DECLARED } from "@/lib/api/routes";

/** The ids of another organization's resources a probe aims at. */
export interface ProbeIds {
  recordId: string;
  endpointId: string;
  sourceId: string;
  connectorId: string;
  importId: string;
  deliveryId: string;
  ruleId: string;
}

export interface RouteCase {
  method: string;
  /** The OpenAPI path template. */
  path: string;
  handler: RouteHandler;
  scope: string;
  params: (ids: ProbeIds) => Record<string, string>;
  body?: unknown;
}

/** Which id fills `{id}`, by the path's first segment after /api/v1. */
const ID_OF: Record<string, keyof ProbeIds> = {
  records: "recordId",
  webhooks: "endpointId",
  "inbound-sources": "sourceId",
  connectors: "connectorId",
  imports: "importId",
  deliveries: "deliveryId",
  workflows: "ruleId",
};

/** Bodies a route would accept from its own organization, so a refusal is about the key, not the body. */
const SAMPLE_BODIES: Record<string, unknown> = {
  "POST /api/v1/records/{type}": { name: "Probe" },
  "PATCH /api/v1/records/{type}/{id}": { name: "Changed" },
  "POST /api/v1/records/{type}/bulk": { records: [{ name: "Bulk probe" }] },
  "POST /api/v1/webhooks": { url: "https://example.com/hook" },
  "PATCH /api/v1/webhooks/{id}": { description: "changed" },
  "POST /api/v1/webhooks/{id}/test": { event_type: "client_created" },
  "POST /api/v1/webhooks/{id}/recover": { since: "2026-01-01T00:00:00Z" },
  "POST /api/v1/webhooks/preview-filter": { event_types: ["client_created"], filter: [{ field: "data.status", op: "equals", value: "lead" }] },
  "POST /api/v1/workflows": { name: "Probe", record_type: "client", trigger: "created", actions: [{ type: "notify", title: "New client" }] },
  "PATCH /api/v1/workflows/{id}": { name: "renamed" },
  "POST /api/v1/workflows/{id}/test": { record_id: "cli_00VblOwM200XQjR1cC9gEmj" },
  "POST /api/v1/inbound-sources": { name: "x", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } },
  "PATCH /api/v1/inbound-sources/{id}": { name: "renamed" },
  "POST /api/v1/connectors": { name: "x", url: "https://example.com/x", interval_minutes: 60, mapping: { target: "client", fields: { name: "n" } } },
  "PATCH /api/v1/connectors/{id}": { name: "renamed" },
};

function params(path: string): (ids: ProbeIds) => Record<string, string> {
  const idOf = ID_OF[path.split("/")[3]!];
  if (path.includes("{id}") && !idOf) throw new Error(`The security suite has no resource of another organization for ${path}: add one to ProbeIds.`);
  return (ids) => ({
    ...(path.includes("{type}") ? { type: "client" } : {}),
    ...(idOf && path.includes("{id}") ? { id: ids[idOf] } : {}),
  });
}

/**
 * Every authenticated /api/v1 route, for the security suite: derived from the declarations, so a
 * declared route cannot escape it. A JSON body without a sample is sent as `{}`.
 */
export const API_ROUTES: RouteCase[] = DECLARED.map((route) => {
  const doc = typeof route.doc === "function" ? route.doc("client") : route.doc;
  const name = `${route.method} ${route.path}`;
  const body = doc.body && (doc.body.type ?? "application/json") === "application/json" ? (SAMPLE_BODIES[name] ?? {}) : undefined;
  return { method: route.method, path: route.path, handler: handlerOf(route), scope: route.scope, params: params(route.path), body };
});
