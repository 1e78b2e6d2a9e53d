import "server-only";
import { z } from "zod";
import { limitParam } from "@/lib/http/query";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import type { Actor } from "@/lib/audit/write";
import { deleteRecord, writeRecords, type WriteContext, type WriteOp } from "./pipeline";
import { listRecords } from "./queries";
import { RECORD_TYPES, registry, type RecordType } from "./registry";
import type { ApiRecord } from "./serialize";

/** `client`, `clients`, `work_order`, `work-orders` and `work_orders` all name the same type. */
export function resolveRecordType(raw: string): RecordType {
  const norm = raw.toLowerCase().replace(/-/g, "_");
  for (const t of RECORD_TYPES) {
    const plural = registry[t].slug.replace(/-/g, "_");
    if (norm === t || norm === plural) return t;
  }
  throw new AppError("not_found", `Unknown record type "${raw}". Use one of: ${RECORD_TYPES.join(", ")}.`);
}

const isoDate = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO 8601 date or date-time")
  .transform((v) => new Date(v));

const BAD_QUERY_TEXT = /\u0000|[\uD800-\uDFFF]/;
const queryText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !BAD_QUERY_TEXT.test(v), "contains a NUL character or invalid Unicode");

export const listQuerySchema = z.strictObject({
  limit: limitParam.optional(),
  cursor: queryText(64).optional(),
  status: queryText(50).optional(),
  q: queryText(200).optional(),
  external_id: queryText(255).optional(),
  updated_since: isoDate.optional(),
  created_since: isoDate.optional(),
});

export interface ListPage {
  object: "list";
  data: ApiRecord[];
  has_more: boolean;
  next_cursor: string | null;
}

export async function listRecordsApi(db: Db, orgId: string, type: RecordType, search: URLSearchParams): Promise<ListPage> {
  const raw: Record<string, string> = {};
  for (const [k, v] of search) raw[k] = v;
  const parsed = listQuerySchema.safeParse(raw);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const q = parsed.data;
  const page = await listRecords(db, orgId, type, {
    limit: q.limit ?? 25,
    cursor: q.cursor,
    status: q.status,
    q: q.q,
    externalId: q.external_id,
    updatedSince: q.updated_since,
    createdSince: q.created_since,
  });
  return { object: "list", data: page.data, has_more: page.hasMore, next_cursor: page.nextCursor };
}

export function apiWriteContext(orgId: string, actor: Actor): WriteContext {
  return { orgId, actor, source: "api" };
}

export async function deleteRecordApi(ctx: WriteContext, type: RecordType, id: string) {
  const deleted = await deleteRecord(ctx, type, id);
  return { id: deleted.id, object: deleted.object, deleted: true as const };
}

export const BULK_MAX = 1000;

export const bulkBodySchema = z.strictObject({
  records: z.array(z.unknown()).min(1, "send at least one record").max(BULK_MAX, `at most ${BULK_MAX} records per call`),
});

export interface BulkItemResult {
  index: number;
  status: "created" | "updated" | "unchanged" | "failed";
  id: string | null;
  external_id: string | null;
  error: { code: string; message: string; details: { path: string; message: string }[] } | null;
}

/**
 * Creates or upserts (by external_id) up to 1,000 records through the pipeline's batch path.
 * Each item succeeds or fails on its own; the answer lists every item in order.
 */
export async function bulkWriteApi(ctx: WriteContext, type: RecordType, body: unknown) {
  const parsed = bulkBodySchema.safeParse(body);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid bulk request.", zodDetails(parsed.error.issues));
  const ops: WriteOp[] = parsed.data.records.map((data) => {
    const ext = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>).external_id : undefined;
    return typeof ext === "string" && ext.trim() ? { kind: "upsert", data } : { kind: "create", data };
  });
  const results = await writeRecords(ctx, type, ops);
  const items: BulkItemResult[] = results.map((r, index) =>
    r.ok
      ? {
          index,
          status: r.outcome === "deleted" ? "failed" : r.outcome,
          id: r.record.id,
          external_id: (r.record.external_id as string | null) ?? null,
          error: null,
        }
      : {
          index,
          status: "failed",
          id: null,
          external_id: null,
          error: {
            code: r.error.code,
            message: r.error.message,
            details: r.error.details.map((d) => ({ ...d, path: d.path ? `records[${index}].${d.path}` : `records[${index}]` })),
          },
        },
  );
  const count = (s: BulkItemResult["status"]) => items.filter((i) => i.status === s).length;
  return {
    object: "bulk_result" as const,
    created: count("created"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    failed: count("failed"),
    results: items,
  };
}
