import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listNotifications } from "@/lib/notifications/notify";
import { markNotificationsRead } from "../actions";
import { ActionForm, SubmitButton } from "@/components/ui/action-form";
import { EmptyState, PageHeader } from "@/components/ui/layout";
import { orgLink } from "@/components/shell/links";
import { formatDateTime } from "@/components/ui/dates";

export default async function NotificationsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const notes = await listNotifications(await getDb(), me.org.id, me.userId, 100);
  return (
    <>
      <PageHeader
        title="Notifications"
        description={`${notes.unread} unread`}
        actions={
          notes.unread ? (
            <ActionForm action={markNotificationsRead} className="">
              <input type="hidden" name="org" value={me.org.slug} />
              <SubmitButton variant="secondary">Mark all as read</SubmitButton>
            </ActionForm>
          ) : null
        }
      />
      {notes.items.length === 0 ? (
        <EmptyState title="No notifications yet">New leads, disabled webhooks and paused connectors show up here.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-lg bg-white ring-1 ring-slate-200">
          {notes.items.map((n) => (
            <li key={n.id} className={`px-4 py-3 text-sm ${n.readAt ? "" : "bg-brand-50/40"}`}>
              <div className="flex justify-between gap-4">
                {n.link ? (
                  <Link href={orgLink(me.org.slug, n.link)} className="font-medium hover:underline">
                    {n.title}
                  </Link>
                ) : (
                  <span className="font-medium">{n.title}</span>
                )}
                <time className="shrink-0 text-xs text-slate-400">{formatDateTime(n.createdAt)}</time>
              </div>
              {n.body ? <p className="mt-0.5 text-slate-500">{n.body}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
