import "server-only";
import { and, desc, eq, gte, ilike, lt, or, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Executor } from "@/db/client";
import { AppError } from "@/lib/errors";
import { registry, type RecordType } from "./registry";
import { serializeRecord, type ApiRecord } from "./serialize";

export interface ListFilters {
  status?: string;
  q?: string;
  externalId?: string;
  updatedSince?: Date;
  createdSince?: Date;
  /** The id of the last record of the previous page (newest first). */
  cursor?: string;
  limit?: number;
}

export interface RecordPage {
  data: ApiRecord[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/** Newest first, keyset-paginated on the time-ordered id: stable while records are inserted. */
export async function listRecords(db: Executor, orgId: string, type: RecordType, filters: ListFilters = {}): Promise<RecordPage> {
  const def = registry[type];
  const t = def.table;
  const c = (name: string) => t[name] as PgColumn;
  const limit = Math.min(Math.max(filters.limit ?? 25, 1), 100);
  const where: SQL[] = [eq(c("orgId"), orgId)];
  if (filters.status) {
    if (!def.statusOptions.includes(filters.status)) {
      throw new AppError("validation_failed", "Unknown status.", [{ path: "status", message: `must be one of: ${def.statusOptions.join(", ")}` }]);
    }
    where.push(eq(c(def.statusField), filters.status));
  }
  if (filters.externalId) where.push(eq(c("externalId"), filters.externalId));
  if (filters.updatedSince) where.push(gte(c("updatedAt"), filters.updatedSince));
  if (filters.createdSince) where.push(gte(c("createdAt"), filters.createdSince));
  if (filters.cursor) where.push(lt(c("id"), filters.cursor));
  const q = filters.q?.trim();
  if (q) {
    const pattern = likePattern(q.slice(0, 200));
    where.push(or(...def.searchFields.map((f) => ilike(c(def.fields.find((x) => x.name === f)!.column), pattern)))!);
  }
  const rows = (await db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(desc(c("id")))
    .limit(limit + 1)) as Record<string, unknown>[];
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit).map((r) => serializeRecord(def, r));
  return { data: page, hasMore, nextCursor: hasMore ? page[page.length - 1]!.id : null };
}

export async function getRecord(db: Executor, orgId: string, type: RecordType, id: string): Promise<ApiRecord> {
  const def = registry[type];
  const t = def.table;
  const [row] = (await db
    .select()
    .from(t)
    .where(and(eq(t.orgId as PgColumn, orgId), eq(t.id as PgColumn, id)))
    .limit(1)) as Record<string, unknown>[];
  if (!row) throw new AppError("not_found", `No ${def.label.toLowerCase()} with id ${id}.`);
  return serializeRecord(def, row);
}

export async function countRecords(db: Executor, orgId: string, type: RecordType): Promise<number> {
  const t = registry[type].table;
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(t)
    .where(eq(t.orgId as PgColumn, orgId));
  return r?.n ?? 0;
}

/** Id → display title, for showing references (a client's name on an invoice). */
export async function titlesFor(db: Executor, orgId: string, type: RecordType, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const def = registry[type];
  const t = def.table;
  const titleCol = t[def.fields.find((f) => f.name === def.titleField)!.column] as PgColumn;
  const rows = await db
    .select({ id: t.id as PgColumn, title: titleCol })
    .from(t)
    .where(and(eq(t.orgId as PgColumn, orgId), sql`${t.id as PgColumn} in ${ids}`));
  return new Map(rows.map((r) => [r.id as string, String(r.title)]));
}
