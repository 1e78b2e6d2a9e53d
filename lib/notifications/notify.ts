import "server-only";
import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { memberships, notifications, type Role } from "@/db/schema";
import type { Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { insertRows } from "@/lib/db-utils";

export interface NotificationInput {
  kind: string;
  title: string;
  body?: string | null;
  link?: string | null;
  /** How many events it stands for (a batch's summary); 1 by default. */
  count?: number;
}

/** Lead notifications arriving within this long of an unread one merge into it. */
export const LEAD_COALESCE_MS = 60_000;
const leadsTitle = (n: number) => `${n.toLocaleString("en-US")} new leads`;

/** Creates one notification per member (optionally only some roles), in the caller's transaction. */
/** The members (optionally of some roles) who receive an org's notifications. */
export function notificationRecipients(tx: Executor, orgId: string, roles?: Role[]): Promise<{ userId: string }[]> {
  return tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(roles ? and(eq(memberships.orgId, orgId), inArray(memberships.role, roles)) : eq(memberships.orgId, orgId));
}

export async function notifyMembers(tx: Executor, orgId: string, items: NotificationInput[], roles?: Role[], recipients?: { userId: string }[]): Promise<void> {
  if (items.length === 0) return;
  const members = recipients ?? (await notificationRecipients(tx, orgId, roles));
  if (members.length === 0) return;
  const now = new Date();
  const row = (userId: string, n: NotificationInput) => ({
    id: newId("ntf"),
    orgId,
    userId,
    kind: n.kind,
    title: n.title,
    body: n.body ?? null,
    link: n.link ?? null,
    count: n.count ?? 1,
    createdAt: now,
  });
  const rows = members.flatMap((m) => items.filter((n) => n.kind !== "lead").map((n) => row(m.userId, n)));

  // Leads coalesce: a member's unread lead notification younger than a minute takes these in
  // ("12 new leads" instead of 12 notifications); the others get one notification for the lot.
  const leads = items.filter((n) => n.kind === "lead");
  if (leads.length > 0) {
    const n = leads.reduce((sum, l) => sum + (l.count ?? 1), 0);
    const merge = async (userIds: string[]) =>
      (
        await tx
          .update(notifications)
          .set({
            count: sql`${notifications.count} + ${n}`,
            title: sql`(${notifications.count} + ${n})::text || ' new leads'`,
            body: "New leads arrived within a minute.",
            link: "records/clients?status=lead",
          })
          .where(
            and(
              eq(notifications.orgId, orgId),
              inArray(notifications.userId, userIds),
              eq(notifications.kind, "lead"),
              isNull(notifications.readAt),
              gt(notifications.createdAt, new Date(now.getTime() - LEAD_COALESCE_MS)),
            ),
          )
          .returning({ userId: notifications.userId })
      ).map((m) => m.userId);
    const done = new Set(await merge(members.map((m) => m.userId)));
    let left = members.filter((m) => !done.has(m.userId)).map((m) => m.userId);
    if (left.length > 0) {
      // Starting a notification: one transaction at a time per organization (until it commits), so
      // concurrent leads merge into the one that started rather than each starting their own.
      // Taken once a minute or so per organization, not per lead.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lead-notify:${orgId}`}))`);
      const late = new Set(await merge(left));
      left = left.filter((u) => !late.has(u));
    }
    const one: NotificationInput =
      leads.length === 1
        ? leads[0]!
        : { kind: "lead", title: leadsTitle(n), body: "New leads arrived together.", link: "records/clients?status=lead", count: n };
    for (const userId of left) rows.push(row(userId, one));
  }
  if (rows.length > 0) await insertRows(tx, notifications, rows);
}

export async function listNotifications(db: Executor, orgId: string, userId: string, limit = 20) {
  const [items, [unread]] = await Promise.all([
    db
      .select()
      .from(notifications)
      .where(and(eq(notifications.orgId, orgId), eq(notifications.userId, userId)))
      .orderBy(desc(notifications.createdAt), desc(notifications.id))
      .limit(limit),
    db
      .select({ count: sql<number>`count(*)::int` })
      .from(notifications)
      .where(and(eq(notifications.orgId, orgId), eq(notifications.userId, userId), isNull(notifications.readAt))),
  ]);
  return { items, unread: unread?.count ?? 0 };
}

export async function markAllRead(db: Executor, orgId: string, userId: string): Promise<number> {
  const rows = await db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(and(eq(notifications.orgId, orgId), eq(notifications.userId, userId), isNull(notifications.readAt)))
    .returning({ id: notifications.id });
  return rows.length;
}
