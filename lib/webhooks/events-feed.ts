import "server-only";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { limitParam } from "@/lib/http/query";
import { webhookEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { eventBody } from "./deliver";
import { CATALOG_EVENT_TYPES } from "./catalog";

export const eventsQuerySchema = z.strictObject({
  limit: limitParam.optional(),
  cursor: z.string().max(64).regex(/^evt_[A-Za-z0-9]+$/, "must be an event id").optional(),
  type: z.enum(CATALOG_EVENT_TYPES).optional(),
});

/**
 * GET /api/v1/events — the polling fallback for integrations that cannot receive webhooks:
 * newest first, the same body a webhook carries, stable ids (use them to de-duplicate).
 */
export async function listEvents(db: Db, orgId: string, search: URLSearchParams) {
  const raw: Record<string, string> = {};
  for (const [k, v] of search) raw[k] = v;
  const parsed = eventsQuerySchema.safeParse(raw);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const { limit = 25, cursor, type } = parsed.data;
  const conds: SQL[] = [eq(webhookEvents.orgId, orgId), eq(webhookEvents.isTest, false)];
  if (type) conds.push(eq(webhookEvents.type, type));
  if (cursor) conds.push(lt(webhookEvents.id, cursor));
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(and(...conds))
    .orderBy(desc(webhookEvents.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map((e) => ({ object: "event" as const, ...(JSON.parse(eventBody(e)) as Record<string, unknown>) }));
  const hasMore = rows.length > limit;
  return { object: "list" as const, data: page, has_more: hasMore, next_cursor: hasMore ? rows[limit - 1]!.id : null };
}
