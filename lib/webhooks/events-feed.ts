import "server-only";
import { and, asc, desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { limitParam } from "@/lib/http/query";
import { organizations, webhookEvents } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { eventBody } from "./deliver";
import { CATALOG_EVENT_TYPES } from "./catalog";

const eventId = z
  .string()
  .max(64)
  .regex(/^evt_[A-Za-z0-9]+$/, "must be an event id");

export const eventsQuerySchema = z
  .strictObject({
    limit: limitParam.optional().meta({ description: "1–100, default 25." }),
    after: eventId
      .optional()
      .meta({ description: "Events that follow this one, oldest first: pass the last id you saw (or the page's next_cursor) to catch up exactly." }),
    before: eventId.optional().meta({ description: "Events that precede this one, newest first (the page's next_cursor)." }),
    cursor: eventId.optional().meta({ description: "The same as `before` (kept for existing clients)." }),
    type: z.enum(CATALOG_EVENT_TYPES).optional(),
  })
  .refine((q) => !(q.after && (q.before || q.cursor)), { message: "pass either after or before, not both", path: ["after"] });

/**
 * GET /api/v1/events — the polling fallback for integrations that cannot receive webhooks, with
 * the same body a webhook carries and stable ids.
 *
 * Commit order is not id order: a transaction that wrote event B may commit before one that
 * wrote the lower-ordered A, so a consumer that resumed after B would never see A. Each event
 * therefore records its transaction's id (`xid`, pg_current_xact_id()), and the feed serves only
 * events whose transaction is older than the oldest one still running
 * (pg_snapshot_xmin(pg_current_snapshot())): every such transaction has finished, so no event can
 * appear later at a lower (xid, id) than one already served. `after=` walks (xid, id) upwards, and a
 * consumer that keeps passing the last id it saw sees every later event exactly once. The price is
 * latency: an event shows up once every transaction older than it has ended.
 */
export async function listEvents(db: Db, orgId: string, search: URLSearchParams) {
  const parsed = eventsQuerySchema.safeParse(Object.fromEntries(search));
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const { limit = 25, after, type } = parsed.data;
  const before = parsed.data.before ?? parsed.data.cursor;
  const retention = await feedRetention(db, orgId);

  const conds: SQL[] = [eq(webhookEvents.orgId, orgId), eq(webhookEvents.isTest, false), sql`${webhookEvents.xid} < pg_snapshot_xmin(pg_current_snapshot())`];
  if (type) conds.push(eq(webhookEvents.type, type));
  const from = after ?? before;
  if (from) {
    const [at] = await db
      .select({ xid: webhookEvents.xid })
      .from(webhookEvents)
      .where(and(eq(webhookEvents.orgId, orgId), eq(webhookEvents.id, from)));
    if (!at) {
      throw new AppError("validation_failed", "Invalid query parameters.", [
        {
          path: after ? "after" : "before",
          message: `no event ${from} in this organization's feed: events are kept ${retention.retention_days} days (the feed reaches back to ${retention.reaches_back_to})`,
        },
      ]);
    }
    conds.push(
      after
        ? sql`(${webhookEvents.xid}, ${webhookEvents.id}) > (${at.xid}::xid8, ${from})`
        : sql`(${webhookEvents.xid}, ${webhookEvents.id}) < (${at.xid}::xid8, ${from})`,
    );
  }
  const order = after ? [asc(webhookEvents.xid), asc(webhookEvents.id)] : [desc(webhookEvents.xid), desc(webhookEvents.id)];
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(and(...conds))
    .orderBy(...order)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  // Walking forwards, the last id seen is where to resume, even when nothing new has settled yet.
  const nextCursor = after ? (page.at(-1)?.id ?? after) : hasMore ? page.at(-1)!.id : null;
  return {
    object: "list" as const,
    data: page.map((e) => ({ object: "event" as const, ...(JSON.parse(eventBody(e)) as Record<string, unknown>) })),
    has_more: hasMore,
    next_cursor: nextCursor,
    ...retention,
  };
}

/** How far back the feed reaches: events (and their deliveries) are kept the org's retention. */
async function feedRetention(db: Db, orgId: string) {
  const [org] = await db.select({ days: organizations.eventRetentionDays }).from(organizations).where(eq(organizations.id, orgId));
  const days = org?.days ?? 30;
  return { retention_days: days, reaches_back_to: new Date(Date.now() - days * 86_400_000).toISOString() };
}
