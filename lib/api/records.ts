import "server-only";
import { z } from "zod";
import { readJson } from "@/lib/http/body";
import { errorSchema } from "@/lib/openapi/schemas";
import { apiWriteContext, BULK_MAX, bulkWriteApi, deleteRecordApi, listQuerySchema, listRecordsApi, resolveRecordType } from "@/lib/records/api";
import { createRecord, updateRecord } from "@/lib/records/pipeline";
import { getRecord } from "@/lib/records/queries";
import { outputSchema, registry, schemasFor, type RecordType } from "@/lib/records/registry";
import { defineRoute } from "./define";

/** Every record type has the same routes; each is documented per type, with that type's exact schemas. */

const listSchema = (type: RecordType) =>
  z
    .object({ object: z.literal("list"), data: z.array(outputSchema(registry[type])), has_more: z.boolean(), next_cursor: z.string().nullable() })
    .meta({ id: `${type}_list` });

const deletedSchema = (type: RecordType) => z.object({ id: z.string(), object: z.literal(type), deleted: z.literal(true) }).meta({ id: `${type}_deleted` });

const bulkResultSchema = z
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

const idParam = (type: RecordType) => {
  const def = registry[type];
  return z.object({ id: z.string().meta({ description: `The ${def.label.toLowerCase()}'s id.`, example: `${def.idPrefix}_00VblOwM200XQjR1cC9gEmj` }) });
};

const label = (type: RecordType) => registry[type].label.toLowerCase();
const plural = (type: RecordType) => registry[type].pluralLabel;

const listRecords = defineRoute({
  method: "GET",
  path: "/api/v1/records/{type}",
  scope: "read",
  doc: (type) => {
    const def = registry[type];
    return {
      operationId: `list_${type}`,
      summary: `List ${plural(type).toLowerCase()}`,
      description: `Newest first. Pass \`next_cursor\` as \`cursor\` for the next page. \`status\` filters on \`${def.statusField}\`; \`q\` searches ${def.searchFields.join(", ")}.`,
      tags: [plural(type)],
      query: listQuerySchema,
      response: { status: 200, description: "A page of records.", schema: listSchema(type) },
      errors: [400, 403, 404],
    };
  },
  async handler({ db, orgId, req }, { type }) {
    return { body: await listRecordsApi(db, orgId, resolveRecordType(type), new URL(req.url).searchParams) };
  },
});

const createRecordRoute = defineRoute({
  method: "POST",
  path: "/api/v1/records/{type}",
  scope: "write",
  doc: (type) => ({
    operationId: `create_${type}`,
    summary: `Create a ${label(type)}`,
    tags: [plural(type)],
    body: { schema: schemasFor(registry[type]).create.meta({ id: `${type}_create` }) },
    response: { status: 201, description: "The created record.", schema: outputSchema(registry[type]) },
    errors: [400, 403, 404, 409, 413, 415],
  }),
  async handler({ orgId, actor, req }, { type }) {
    const recordType = resolveRecordType(type);
    return { status: 201, body: await createRecord(apiWriteContext(orgId, actor), recordType, await readJson(req)) };
  },
});

const getRecordRoute = defineRoute({
  method: "GET",
  path: "/api/v1/records/{type}/{id}",
  scope: "read",
  doc: (type) => ({
    operationId: `get_${type}`,
    summary: `Get a ${label(type)}`,
    tags: [plural(type)],
    params: idParam(type),
    response: { status: 200, description: "The record.", schema: outputSchema(registry[type]) },
    errors: [403, 404],
  }),
  async handler({ db, orgId }, { type, id }) {
    return { body: await getRecord(db, orgId, resolveRecordType(type), id) };
  },
});

const updateRecordRoute = defineRoute({
  method: "PATCH",
  path: "/api/v1/records/{type}/{id}",
  scope: "write",
  doc: (type) => ({
    operationId: `update_${type}`,
    summary: `Update a ${label(type)}`,
    description: "Only the fields sent change; `null` clears an optional field. Custom fields merge; a `null` value removes a key.",
    tags: [plural(type)],
    params: idParam(type),
    body: { schema: schemasFor(registry[type]).update.meta({ id: `${type}_update` }) },
    response: { status: 200, description: "The updated record.", schema: outputSchema(registry[type]) },
    errors: [400, 403, 404, 409, 413, 415],
  }),
  async handler({ orgId, actor, req }, { type, id }) {
    const recordType = resolveRecordType(type);
    return { body: await updateRecord(apiWriteContext(orgId, actor), recordType, id, await readJson(req)) };
  },
});

const deleteRecordRoute = defineRoute({
  method: "DELETE",
  path: "/api/v1/records/{type}/{id}",
  scope: "delete",
  doc: (type) => ({
    operationId: `delete_${type}`,
    summary: `Delete a ${label(type)}`,
    tags: [plural(type)],
    params: idParam(type),
    response: { status: 200, description: "The record was deleted.", schema: deletedSchema(type) },
    errors: [403, 404],
  }),
  async handler({ orgId, actor }, { type, id }) {
    return { body: await deleteRecordApi(apiWriteContext(orgId, actor), resolveRecordType(type), id) };
  },
});

const bulkRecords = defineRoute({
  method: "POST",
  path: "/api/v1/records/{type}/bulk",
  scope: "bulk",
  doc: (type) => ({
    operationId: `bulk_${type}`,
    summary: `Create or upsert up to ${BULK_MAX} ${plural(type).toLowerCase()}`,
    description:
      "Records with an `external_id` are upserted (created, or updated if one with that id exists); others are created. Each item succeeds or fails on its own.",
    tags: [plural(type)],
    body: { schema: z.object({ records: z.array(schemasFor(registry[type]).create).min(1).max(BULK_MAX) }) },
    response: { status: 200, description: "One result per item, in order.", schema: bulkResultSchema },
    errors: [400, 403, 404, 413, 415],
  }),
  async handler({ orgId, actor, req }, { type }) {
    const recordType = resolveRecordType(type);
    return { body: await bulkWriteApi(apiWriteContext(orgId, actor), recordType, await readJson(req)) };
  },
});

export const recordRoutes = [listRecords, createRecordRoute, getRecordRoute, updateRecordRoute, deleteRecordRoute, bulkRecords];
