import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { countRecords } from "@/lib/records/queries";
import { listNotifications } from "@/lib/notifications/notify";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { planLimits } from "@/lib/orgs/plans";
import { Card, PageHeader } from "@/components/ui/layout";
import { orgLink } from "@/components/shell/links";

export default async function OverviewPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const db = await getDb();
  const [counts, notes] = await Promise.all([Promise.all(RECORD_TYPES.map((t) => countRecords(db, me.org.id, t))), listNotifications(db, me.org.id, me.userId, 5)]);
  const plan = planLimits(me.org.plan);
  return (
    <>
      <PageHeader title={me.org.name} description={`${plan.label} plan · you are ${me.role === "admin" ? "an" : "a"} ${me.role}`} />
      <div className="grid gap-4 sm:grid-cols-3 lg:grid-cols-5">
        {RECORD_TYPES.map((t, i) => (
          <Link key={t} href={`/${me.org.slug}/records/${registry[t].slug}`} className="rounded-lg bg-white p-4 ring-1 ring-slate-200 hover:ring-brand-500">
            <p className="text-sm text-slate-500">{registry[t].pluralLabel}</p>
            <p className="mt-1 text-2xl font-semibold">{counts[i]}</p>
          </Link>
        ))}
      </div>
      <Card title="Recent notifications" className="mt-6" actions={<Link href={`/${me.org.slug}/notifications`} className="text-sm text-brand-600 hover:underline">All notifications</Link>}>
        {notes.items.length === 0 ? (
          <p className="text-sm text-slate-500">Nothing yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {notes.items.map((n) => (
              <li key={n.id} className="py-2 text-sm">
                {n.link ? (
                  <Link href={orgLink(me.org.slug, n.link)} className="font-medium hover:underline">
                    {n.title}
                  </Link>
                ) : (
                  <span className="font-medium">{n.title}</span>
                )}
                {n.body ? <span className="text-slate-500"> — {n.body}</span> : null}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
