import "server-only";
import { and, desc, eq, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Executor } from "@/db/client";
import { TYPES_WITH_CLIENT } from "@/lib/events/summaries";
import { registry, type RecordType } from "./registry";

/** How many of each type the client page lists; the rest is one click away. */
export const RELATED_LIMIT = 10;

export interface RelatedGroup {
  type: RecordType;
  total: number;
  items: { id: string; title: string; status: string | null; createdAt: Date }[];
}

/** A client's work orders, opportunities, invoices and bookings: the newest of each, and how many. */
export async function relatedToClient(db: Executor, orgId: string, clientId: string): Promise<RelatedGroup[]> {
  return Promise.all(
    TYPES_WITH_CLIENT.map(async (type) => {
      const def = registry[type];
      const t = def.table;
      const col = (name: string) => t[def.fields.find((f) => f.name === name)!.column] as PgColumn;
      const where = and(eq(t.orgId as PgColumn, orgId), eq(col("client_id"), clientId));
      const [rows, [count]] = await Promise.all([
        db
          .select({ id: t.id as PgColumn, title: col(def.titleField), status: col(def.statusField), createdAt: t.createdAt as PgColumn })
          .from(t)
          .where(where)
          .orderBy(desc(t.createdAt as PgColumn))
          .limit(RELATED_LIMIT),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(t)
          .where(where),
      ]);
      return {
        type,
        total: Number(count?.n ?? 0),
        items: rows.map((r) => ({ id: String(r.id), title: String(r.title), status: (r.status as string | null) ?? null, createdAt: r.createdAt as Date })),
      };
    }),
  );
}
