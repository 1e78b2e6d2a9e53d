import type { RecordType, RecordTypeDef } from "./registry";

/** A record as the API, webhooks and events show it: snake_case, with an `object` field. */
export type ApiRecord = { id: string; object: RecordType; version: number } & Record<string, unknown>;

type Row = Record<string, unknown>;

function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  return value ?? null;
}

export function serializeRecord(def: RecordTypeDef, row: Row): ApiRecord {
  const out: Record<string, unknown> = { id: row.id, object: def.type };
  for (const f of def.fields) out[f.name] = toJson(row[f.column]);
  out.external_id = row.externalId ?? null;
  out.custom_fields = row.customFields ?? {};
  out.version = row.version;
  out.created_at = toJson(row.createdAt);
  out.updated_at = toJson(row.updatedAt);
  return out as ApiRecord;
}

/** The fields whose values differ, with their previous values (the webhook `previous` object). */
export function changedFields(before: ApiRecord, after: ApiRecord): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (key === "version" || key === "updated_at") continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key];
  }
  return previous;
}
