import "server-only";
import { and, eq, inArray } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { organizations } from "@/db/schema";
import type { Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { applyMapping, type Mapping } from "@/lib/mapping/mapping";
import { registry, schemasFor, type RecordType } from "@/lib/records/registry";
import { serializeRecord } from "@/lib/records/serialize";
import type { WriteOp } from "@/lib/records/pipeline";
import { candidateClients, indexIdentities, normalizeEmail } from "@/lib/leads/identity";

/**
 * Imports that match: each row is looked up by a match key — `external_id`, or (clients) the
 * email (case-insensitive, trimmed) or the phone (E.164 by the organization's default country) —
 * and a match is updated, skipped, or created anyway. Without a match key an import upserts by
 * external id when the mapping gives one, and creates otherwise.
 *
 * The same plan drives the dry run, which reports what the import would do and writes nothing.
 */

export const MATCH_ON = ["external_id", "email", "phone"] as const;
export const ON_MATCH = ["update", "skip", "create"] as const;
export type MatchOn = (typeof MATCH_ON)[number];
export type OnMatch = (typeof ON_MATCH)[number];
export interface MatchOptions {
  on: MatchOn;
  policy: OnMatch;
}

const matchInput = z.strictObject({ match_on: z.enum(MATCH_ON).optional(), on_match: z.enum(ON_MATCH).optional() });

/** The upload's `match_on` / `on_match` fields; `null` when no match key is asked for. */
export function parseMatchOptions(type: RecordType, fields: { match_on?: string; on_match?: string }): MatchOptions | null {
  const r = matchInput.safeParse({ match_on: fields.match_on || undefined, on_match: fields.on_match || undefined });
  if (!r.success) throw new AppError("validation_failed", "Invalid match options.", zodDetails(r.error.issues));
  if (!r.data.match_on) {
    if (r.data.on_match) throw new AppError("validation_failed", "on_match needs match_on.", [{ path: "match_on", message: "is required with on_match" }]);
    return null;
  }
  if (r.data.match_on !== "external_id" && type !== "client") {
    throw new AppError("validation_failed", `Only clients can be matched by ${r.data.match_on}.`, [
      { path: "match_on", message: "use external_id for this type" },
    ]);
  }
  return { on: r.data.match_on, policy: r.data.on_match ?? "update" };
}

export type PlannedRow = { op: WriteOp; matchId: string | null } | { skip: true; matchId: string };

/** What each row of a batch does: an op for the pipeline, or a skip (it matched, and the policy skips). */
export async function planBatch(
  db: Executor,
  orgId: string,
  type: RecordType,
  mapping: Mapping,
  rows: Record<string, unknown>[],
  match: MatchOptions | null,
): Promise<PlannedRow[]> {
  const mapped = rows.map((values) => applyMapping(mapping, values));
  if (!match) return mapped.map((m) => ({ op: m.externalId ? { kind: "upsert", data: m.data } : { kind: "create", data: m.data }, matchId: null }));

  const found = await matchesFor(
    db,
    orgId,
    type,
    match.on,
    mapped.map((m) => m.data),
  );
  return mapped.map((m, i) => {
    const id = found[i] ?? null;
    if (!id || match.policy === "create") return { op: { kind: "create", data: m.data }, matchId: id };
    if (match.policy === "skip") return { skip: true, matchId: id };
    if (match.on === "external_id") return { op: { kind: "upsert", data: m.data }, matchId: id };
    return { op: { kind: "update", id, data: m.data }, matchId: id };
  });
}

/** For each row, the id of the existing record it matches (or undefined). */
async function matchesFor(db: Executor, orgId: string, type: RecordType, on: MatchOn, data: Record<string, unknown>[]): Promise<(string | undefined)[]> {
  if (on === "external_id") {
    const table = registry[type].table;
    const ext = [...new Set(data.map((d) => d.external_id).filter((v): v is string => typeof v === "string" && v !== ""))];
    if (ext.length === 0) return data.map(() => undefined);
    const rows = await db
      .select({ id: table.id as PgColumn, externalId: table.externalId as PgColumn })
      .from(table)
      .where(and(eq(table.orgId as PgColumn, orgId), inArray(table.externalId as PgColumn, ext)));
    const byExt = new Map(rows.map((r) => [r.externalId as string, r.id as string]));
    return data.map((d) => (typeof d.external_id === "string" ? byExt.get(d.external_id) : undefined));
  }
  const emails = on === "email" ? data.map((d) => normalizeEmail(d.email)).filter((e): e is string => e !== null) : [];
  const phones = on === "phone" ? data.map((d) => d.phone).filter((p): p is string => typeof p === "string") : [];
  const [[org], candidates] = await Promise.all([
    db.select({ country: organizations.defaultCountry }).from(organizations).where(eq(organizations.id, orgId)),
    candidateClients(db, orgId, { emails: [...new Set(emails)], phones: [...new Set(phones)] }, 10 * data.length),
  ]);
  const index = indexIdentities(candidates, org?.country ?? null);
  return data.map((d) => (on === "email" ? index.find(d.email, null) : index.find(null, d.phone))?.id);
}

export interface PreviewCounts {
  new: number;
  updates: number;
  unchanged: number;
  skipped: number;
  errors: number;
  examples: Record<"new" | "updates" | "unchanged" | "skipped" | "errors", unknown[]>;
}

const EXAMPLES = 5;

export const emptyPreview = (): PreviewCounts => ({
  new: 0,
  updates: 0,
  unchanged: 0,
  skipped: 0,
  errors: 0,
  examples: { new: [], updates: [], unchanged: [], skipped: [], errors: [] },
});

/**
 * Adds one batch's plan to a dry run's counts: each op is validated as the pipeline would, and an
 * update is compared with the record it would change (no change: `unchanged`, as the real run
 * counts it). References to other records are not checked.
 */
export async function previewBatch(db: Executor, orgId: string, type: RecordType, planned: PlannedRow[], lines: number[], into: PreviewCounts): Promise<void> {
  const def = registry[type];
  const schemas = schemasFor(def);
  const ids = planned.filter((p) => "op" in p && p.matchId && p.op.kind !== "create").map((p) => p.matchId!);
  const existing = ids.length
    ? await db
        .select()
        .from(def.table)
        .where(and(eq(def.table.orgId as PgColumn, orgId), inArray(def.table.id as PgColumn, ids)))
    : [];
  const byId = new Map(existing.map((r) => [r.id as string, serializeRecord(def, r as Record<string, unknown>)]));
  const add = (bucket: keyof PreviewCounts["examples"], example: unknown) => {
    into[bucket]++;
    if (into.examples[bucket].length < EXAMPLES) into.examples[bucket].push(example);
  };
  const seenExt = new Set<string>();
  planned.forEach((p, i) => {
    const line = lines[i];
    if ("skip" in p) return add("skipped", { line, id: p.matchId });
    const before = p.op.kind !== "create" && p.matchId ? byId.get(p.matchId) : undefined;
    const parsed = (before ? schemas.update : schemas.create).safeParse((p.op as { data: unknown }).data);
    if (!parsed.success) return add("errors", { line, errors: zodDetails(parsed.error.issues) });
    const ext = parsed.data.external_id;
    if (typeof ext === "string") {
      if (seenExt.has(ext)) return add("errors", { line, errors: [{ path: "external_id", message: "duplicate in this file" }] });
      seenExt.add(ext);
    }
    if (!before) return add("new", { line, data: parsed.data });
    const changed = Object.entries(parsed.data).filter(([k, v]) =>
      k === "custom_fields"
        ? Object.entries(v as Record<string, unknown>).some(
            ([ck, cv]) => JSON.stringify((before.custom_fields as Record<string, unknown>)[ck] ?? null) !== JSON.stringify(cv),
          )
        : JSON.stringify(before[k] ?? null) !== JSON.stringify(v ?? null),
    );
    if (changed.length === 0) return add("unchanged", { line, id: before.id });
    add("updates", { line, id: before.id, changes: Object.fromEntries(changed.map(([k, v]) => [k, { from: before[k] ?? null, to: v }])) });
  });
}
