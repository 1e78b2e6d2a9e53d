import "server-only";
import { z } from "zod";
import {
  connectorInput,
  connectorPatch,
  connectorView,
  createConnector,
  deleteConnector,
  getConnector,
  listConnectors,
  listRuns,
  paginationSchema,
  runView,
  updateConnector,
} from "@/lib/connectors/connectors";
import { kickConnectorRuns, runConnectorNow } from "@/lib/connectors/run";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import { deletedOf, idParam, listOf, listParams, mappingDoc } from "@/lib/openapi/schemas";
import { defineRoute } from "./define";

const connectorSchema = z
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

const runSchema = z
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

const tags = ["Connectors"];
const params = idParam("con");

const listConnectorsRoute = defineRoute({
  method: "GET",
  path: "/api/v1/connectors",
  scope: "admin",
  doc: {
    operationId: "list_connectors",
    summary: "List pull connectors",
    tags,
    query: listParams(true),
    response: { status: 200, description: "Connectors.", schema: listOf(connectorSchema, "ConnectorList") },
    errors: [403],
  },
  async handler({ db, orgId, req }) {
    const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 100, cursorPrefix: "con" });
    const rows = await listConnectors(db, orgId, { limit: limit + 1, cursor });
    const page = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return { body: { object: "list", data: page.map(connectorView), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null } };
  },
});

const createConnectorRoute = defineRoute({
  method: "POST",
  path: "/api/v1/connectors",
  scope: "admin",
  doc: {
    operationId: "create_connector",
    summary: "Create a pull connector",
    description:
      'Polls `url` every `interval_minutes` (5–1440) with `headers`, takes the list at `records_path`, maps each item and upserts it. `pagination`: `{"type":"none"}`, `{"type":"next_url","path":"next"}`, `{"type":"cursor","param":"cursor","path":"next_cursor"}` or `{"type":"updated_since","param":"updated_since","field":"updated_at"}`; the cursor is kept between runs.',
    tags,
    body: { schema: connectorInput.extend({ mapping: mappingDoc, pagination: paginationSchema.optional() }).meta({ id: "ConnectorCreate" }) },
    response: { status: 201, description: "The connector.", schema: connectorSchema },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, req }) {
    return { status: 201, body: connectorView(await createConnector(db, { orgId, actor, source: "api" }, await readJson(req))) };
  },
});

const getConnectorRoute = defineRoute({
  method: "GET",
  path: "/api/v1/connectors/{id}",
  scope: "admin",
  doc: {
    operationId: "get_connector",
    summary: "Get a connector",
    tags,
    params,
    response: { status: 200, description: "The connector.", schema: connectorSchema },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    return { body: connectorView(await getConnector(db, orgId, id)) };
  },
});

const updateConnectorRoute = defineRoute({
  method: "PATCH",
  path: "/api/v1/connectors/{id}",
  scope: "admin",
  doc: {
    operationId: "update_connector",
    summary: "Change a connector; `enabled: true` resumes a paused one",
    tags,
    params,
    body: { schema: connectorPatch.extend({ mapping: mappingDoc.optional() }).meta({ id: "ConnectorUpdate" }) },
    response: { status: 200, description: "The connector.", schema: connectorSchema },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    return { body: connectorView(await updateConnector(db, { orgId, actor, source: "api" }, id, await readJson(req))) };
  },
});

const deleteConnectorRoute = defineRoute({
  method: "DELETE",
  path: "/api/v1/connectors/{id}",
  scope: "admin",
  doc: {
    operationId: "delete_connector",
    summary: "Delete a connector",
    tags,
    params,
    response: { status: 200, description: "Deleted.", schema: deletedOf("connector") },
    errors: [403, 404],
  },
  async handler({ db, orgId, actor }, { id }) {
    await deleteConnector(db, { orgId, actor, source: "api" }, id);
    return { body: { id, object: "connector", deleted: true } };
  },
});

/** Queues a run and answers 202 with it at once; the run log (and GET …/runs) shows how it ends. */
const runConnectorRoute = defineRoute({
  method: "POST",
  path: "/api/v1/connectors/{id}/run",
  scope: "admin",
  doc: {
    operationId: "run_connector",
    summary: "Queue a run of a connector now",
    description:
      "Answers at once with the queued run; poll the connector's runs for how it ends. At most 2 runs per organization run at a time; manual runs are limited to 10 a minute per organization.",
    tags,
    params,
    response: { status: 202, description: "The queued run.", schema: runSchema },
    errors: [403, 404, 409],
  },
  async handler({ db, orgId }, { id }) {
    const run = await runConnectorNow(db, orgId, id);
    kickConnectorRuns(db);
    return { status: 202, body: runView(run) };
  },
});

const listRunsRoute = defineRoute({
  method: "GET",
  path: "/api/v1/connectors/{id}/runs",
  scope: "admin",
  doc: {
    operationId: "list_connector_runs",
    summary: "A connector's runs, newest first",
    tags,
    params,
    query: listParams(true),
    response: { status: 200, description: "Runs; pass `next_cursor` as `cursor` for older ones.", schema: listOf(runSchema, "ConnectorRunList") },
    errors: [403, 404],
  },
  async handler({ db, orgId, req }, { id }) {
    const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 50, cursorPrefix: "run" });
    const runs = await listRuns(db, orgId, id, limit + 1, cursor);
    const hasMore = runs.length > limit;
    return { body: { object: "list", data: runs.slice(0, limit).map(runView), has_more: hasMore, next_cursor: hasMore ? runs[limit - 1]!.id : null } };
  },
});

export const connectorRoutes = [
  listConnectorsRoute,
  createConnectorRoute,
  getConnectorRoute,
  updateConnectorRoute,
  deleteConnectorRoute,
  runConnectorRoute,
  listRunsRoute,
];
