import "server-only";
import { notFound } from "next/navigation";
import type { Db } from "@/db/client";
import { getRecord, listRecords, titlesFor } from "@/lib/records/queries";
import { isAppError } from "@/lib/errors";
import { recordTypeBySlug, registry, type RecordTypeDef } from "@/lib/records/registry";
import type { ApiRecord } from "@/lib/records/serialize";
import type { ReferenceOptions } from "./record-form";
import { formatDateTime } from "@/components/ui/dates";

/** The record, or the 404 page. */
export async function recordOr404(db: Db, orgId: string, def: RecordTypeDef, id: string): Promise<ApiRecord> {
  return getRecord(db, orgId, def.type, id).catch((err) => {
    if (isAppError(err) && err.code === "not_found") notFound();
    throw err;
  });
}

export function typeFromSlug(slug: string): RecordTypeDef {
  const def = recordTypeBySlug(slug);
  if (!def) notFound();
  return def;
}

/** Titles of the records that `records` point at, per reference field. */
export async function referenceTitles(db: Db, orgId: string, def: RecordTypeDef, records: ApiRecord[]) {
  const out: Record<string, Map<string, string>> = {};
  for (const f of def.fields) {
    if (f.kind !== "reference") continue;
    const ids = [...new Set(records.map((r) => r[f.name]).filter((v): v is string => typeof v === "string"))];
    out[f.name] = await titlesFor(db, orgId, f.references!, ids);
  }
  return out;
}

/** The choices for each reference field of a form: the 100 most recent records of that type. */
export async function referenceOptions(db: Db, orgId: string, def: RecordTypeDef): Promise<ReferenceOptions> {
  const out: ReferenceOptions = {};
  for (const f of def.fields) {
    if (f.kind !== "reference") continue;
    const target = registry[f.references!];
    const page = await listRecords(db, orgId, target.type, { limit: 100 });
    out[f.name] = page.data.map((r) => ({ id: r.id, title: String(r[target.titleField] ?? r.id) }));
  }
  return out;
}

export function display(value: unknown, kind: string): string {
  if (value === null || value === undefined || value === "") return "—";
  if (kind === "datetime") return formatDateTime(String(value));
  if (kind === "money") return Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (kind === "enum") return String(value).replace(/_/g, " ");
  return String(value);
}
