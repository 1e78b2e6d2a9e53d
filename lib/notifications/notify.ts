import "server-only";
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { memberships, notifications, type Role } from "@/db/schema";
import type { Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { insertRows } from "@/lib/db-utils";

export interface NotificationInput {
  kind: string;
  title: string;
  body?: string | null;
  link?: string | null;
}

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
  const now = new Date();
  const rows = members.flatMap((m) =>
    items.map((n) => ({ id: newId("ntf"), orgId, userId: m.userId, kind: n.kind, title: n.title, body: n.body ?? null, link: n.link ?? null, createdAt: now })),
  );
  await insertRows(tx, notifications, rows);
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
