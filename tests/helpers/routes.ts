import * as me from "@/app/api/v1/me/route";
import * as records from "@/app/api/v1/records/[type]/route";
import * as record from "@/app/api/v1/records/[type]/[id]/route";
import * as bulk from "@/app/api/v1/records/[type]/bulk/route";
import * as webhooks from "@/app/api/v1/webhooks/route";
import * as webhook from "@/app/api/v1/webhooks/[id]/route";
import * as webhookTest from "@/app/api/v1/webhooks/[id]/test/route";
import * as events from "@/app/api/v1/events/route";
import * as eventTypes from "@/app/api/v1/event-types/route";
import * as inSources from "@/app/api/v1/inbound-sources/route";
import * as inSource from "@/app/api/v1/inbound-sources/[id]/route";
import * as inRequests from "@/app/api/v1/inbound-sources/[id]/requests/route";
import * as conList from "@/app/api/v1/connectors/route";
import * as conOne from "@/app/api/v1/connectors/[id]/route";
import * as conRun from "@/app/api/v1/connectors/[id]/run/route";
import * as conRuns from "@/app/api/v1/connectors/[id]/runs/route";
import * as impOne from "@/app/api/v1/imports/[id]/route";
import * as impErrors from "@/app/api/v1/imports/[id]/errors.csv/route";

type Handler = (req: Request, route: { params: Promise<Record<string, string>> }) => Promise<Response>;

export interface RouteCase {
  method: string;
  /** The OpenAPI path template. */
  path: string;
  handler: Handler;
  scope: string;
  params: (ids: { recordId: string; endpointId: string; sourceId: string; connectorId: string; importId: string }) => Record<string, string>;
  body?: unknown;
}

/** Every authenticated /api/v1 route, for the security suite and the OpenAPI coverage test. */
export const API_ROUTES: RouteCase[] = [
  { method: "GET", path: "/api/v1/me", handler: me.GET as Handler, scope: "read", params: () => ({}) },
  { method: "GET", path: "/api/v1/records/{type}", handler: records.GET as Handler, scope: "read", params: () => ({ type: "client" }) },
  { method: "POST", path: "/api/v1/records/{type}", handler: records.POST as Handler, scope: "write", params: () => ({ type: "client" }), body: { name: "Probe" } },
  { method: "GET", path: "/api/v1/records/{type}/{id}", handler: record.GET as Handler, scope: "read", params: ({ recordId }) => ({ type: "client", id: recordId }) },
  { method: "PATCH", path: "/api/v1/records/{type}/{id}", handler: record.PATCH as Handler, scope: "write", params: ({ recordId }) => ({ type: "client", id: recordId }), body: { name: "Changed" } },
  { method: "DELETE", path: "/api/v1/records/{type}/{id}", handler: record.DELETE as Handler, scope: "delete", params: ({ recordId }) => ({ type: "client", id: recordId }) },
  { method: "POST", path: "/api/v1/records/{type}/bulk", handler: bulk.POST as Handler, scope: "bulk", params: () => ({ type: "client" }), body: { records: [{ name: "Bulk probe" }] } },
  { method: "GET", path: "/api/v1/webhooks", handler: webhooks.GET as Handler, scope: "admin", params: () => ({}) },
  { method: "POST", path: "/api/v1/webhooks", handler: webhooks.POST as Handler, scope: "admin", params: () => ({}), body: { url: "https://example.com/hook" } },
  { method: "GET", path: "/api/v1/webhooks/{id}", handler: webhook.GET as Handler, scope: "admin", params: ({ endpointId }) => ({ id: endpointId }) },
  { method: "PATCH", path: "/api/v1/webhooks/{id}", handler: webhook.PATCH as Handler, scope: "admin", params: ({ endpointId }) => ({ id: endpointId }), body: { description: "changed" } },
  { method: "DELETE", path: "/api/v1/webhooks/{id}", handler: webhook.DELETE as Handler, scope: "admin", params: ({ endpointId }) => ({ id: endpointId }) },
  { method: "POST", path: "/api/v1/webhooks/{id}/test", handler: webhookTest.POST as Handler, scope: "admin", params: ({ endpointId }) => ({ id: endpointId }), body: { event_type: "client_created" } },
  { method: "GET", path: "/api/v1/events", handler: events.GET as Handler, scope: "read", params: () => ({}) },
  { method: "GET", path: "/api/v1/event-types", handler: eventTypes.GET as Handler, scope: "read", params: () => ({}) },
  { method: "GET", path: "/api/v1/inbound-sources", handler: inSources.GET as Handler, scope: "admin", params: () => ({}) },
  { method: "POST", path: "/api/v1/inbound-sources", handler: inSources.POST as Handler, scope: "admin", params: () => ({}), body: { name: "x", kind: "shopify", mapping: { target: "client", fields: { name: "n" } } } },
  { method: "GET", path: "/api/v1/inbound-sources/{id}", handler: inSource.GET as Handler, scope: "admin", params: ({ sourceId }) => ({ id: sourceId }) },
  { method: "PATCH", path: "/api/v1/inbound-sources/{id}", handler: inSource.PATCH as Handler, scope: "admin", params: ({ sourceId }) => ({ id: sourceId }), body: { name: "renamed" } },
  { method: "DELETE", path: "/api/v1/inbound-sources/{id}", handler: inSource.DELETE as Handler, scope: "admin", params: ({ sourceId }) => ({ id: sourceId }) },
  { method: "GET", path: "/api/v1/inbound-sources/{id}/requests", handler: inRequests.GET as Handler, scope: "admin", params: ({ sourceId }) => ({ id: sourceId }) },
  { method: "GET", path: "/api/v1/connectors", handler: conList.GET as Handler, scope: "admin", params: () => ({}) },
  { method: "POST", path: "/api/v1/connectors", handler: conList.POST as Handler, scope: "admin", params: () => ({}), body: { name: "x", url: "https://example.com/x", interval_minutes: 60, mapping: { target: "client", fields: { name: "n" } } } },
  { method: "GET", path: "/api/v1/connectors/{id}", handler: conOne.GET as Handler, scope: "admin", params: ({ connectorId }) => ({ id: connectorId }) },
  { method: "PATCH", path: "/api/v1/connectors/{id}", handler: conOne.PATCH as Handler, scope: "admin", params: ({ connectorId }) => ({ id: connectorId }), body: { name: "renamed" } },
  { method: "DELETE", path: "/api/v1/connectors/{id}", handler: conOne.DELETE as Handler, scope: "admin", params: ({ connectorId }) => ({ id: connectorId }) },
  { method: "POST", path: "/api/v1/connectors/{id}/run", handler: conRun.POST as Handler, scope: "admin", params: ({ connectorId }) => ({ id: connectorId }) },
  { method: "GET", path: "/api/v1/connectors/{id}/runs", handler: conRuns.GET as Handler, scope: "admin", params: ({ connectorId }) => ({ id: connectorId }) },
  { method: "GET", path: "/api/v1/imports/{id}", handler: impOne.GET as Handler, scope: "bulk", params: ({ importId }) => ({ id: importId }) },
  { method: "GET", path: "/api/v1/imports/{id}/errors.csv", handler: impErrors.GET as Handler, scope: "bulk", params: ({ importId }) => ({ id: importId }) },
];
