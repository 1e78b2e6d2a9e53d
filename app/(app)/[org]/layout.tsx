import Link from "next/link";
import { getDb } from "@/db/client";
import { listUserOrgs } from "@/lib/orgs/service";
import { listNotifications } from "@/lib/notifications/notify";
import { requireMembership } from "@/lib/auth/session";
import { accountOf } from "@/lib/auth/account";
import { hasRole } from "@/lib/orgs/service";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { signOutAction } from "@/app/(auth)/actions";
import { OrgSwitcher } from "@/components/shell/org-switcher";
import { NavLink } from "@/components/shell/nav-link";

export default async function OrgLayout({ children, params }: { children: React.ReactNode; params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const db = await getDb();
  const [orgs, notes, account] = await Promise.all([listUserOrgs(db, me.userId), listNotifications(db, me.org.id, me.userId, 1), accountOf(db, me.userId)]);
  const base = `/${me.org.slug}`;
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-10 border-b border-slate-200 bg-white">
        <div className="flex h-12 items-center gap-4 px-4">
          <Link href={base} className="font-semibold">
            Smarfle
          </Link>
          <OrgSwitcher current={me.org.slug} orgs={orgs.map((o) => ({ slug: o.org.slug, name: o.org.name }))} />
          <div className="ml-auto flex items-center gap-3">
            <Link
              href={`${base}/notifications`}
              className="relative rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100"
              aria-label={`Notifications (${notes.unread} unread)`}
            >
              <svg aria-hidden viewBox="0 0 20 20" fill="currentColor" className="inline h-4 w-4 align-[-2px]">
                <path d="M10 2a6 6 0 0 0-6 6v2.6l-1.4 2.8A1 1 0 0 0 3.5 15h13a1 1 0 0 0 .9-1.6L16 10.6V8a6 6 0 0 0-6-6Zm0 17a2.5 2.5 0 0 1-2.45-2h4.9A2.5 2.5 0 0 1 10 19Z" />
              </svg>
              <span
                data-testid="notification-count"
                className={`ml-1 rounded-full px-1.5 text-xs font-semibold ${notes.unread ? "bg-brand-600 text-white" : "bg-slate-100 text-slate-500"}`}
              >
                {notes.unread}
              </span>
            </Link>
            <Link href="/account" className="hidden rounded-md px-2 py-1 text-sm text-slate-500 hover:bg-slate-100 sm:inline">
              {me.email}
            </Link>
            <form action={signOutAction}>
              <button type="submit" className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      {account && !account.emailVerifiedAt ? (
        <div role="status" className="border-b border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">
          Confirm your email address: open the link we sent to {account.email}. Until then you cannot join other organizations.{" "}
          <Link href="/account" className="font-medium underline">
            Send it again
          </Link>
        </div>
      ) : null}
      <div className="flex">
        <nav aria-label="Main" className="w-52 shrink-0 space-y-0.5 border-r border-slate-200 bg-slate-100/60 p-3" style={{ minHeight: "calc(100vh - 3rem)" }}>
          <NavLink href={base} exact>
            Overview
          </NavLink>
          <p className="px-2.5 pt-3 pb-1 text-xs font-medium tracking-wide text-slate-400 uppercase">Records</p>
          {RECORD_TYPES.map((t) => (
            <NavLink key={t} href={`${base}/records/${registry[t].slug}`}>
              {registry[t].pluralLabel}
            </NavLink>
          ))}
          <p className="px-2.5 pt-3 pb-1 text-xs font-medium tracking-wide text-slate-400 uppercase">Organization</p>
          <NavLink href={`${base}/notifications`}>Notifications</NavLink>
          <NavLink href={`${base}/settings`}>{hasRole(me.role, "admin") ? "Settings" : "Settings & members"}</NavLink>
        </nav>
        <main className="min-w-0 flex-1 px-8 py-6">{children}</main>
      </div>
    </div>
  );
}
