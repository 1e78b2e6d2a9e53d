import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { countRecords } from "@/lib/records/queries";
import { listNotifications } from "@/lib/notifications/notify";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { planLimits } from "@/lib/orgs/plans";
import { hasRole } from "@/lib/orgs/service";
import { DASHBOARD_DAYS, dashboardStats, type Integration } from "@/lib/dashboard/stats";
import { Badge, Card, EmptyState, PageHeader } from "@/components/ui/layout";
import { BarChart } from "@/components/ui/bar-chart";
import { orgLink } from "@/components/shell/links";
import { gettingStarted } from "@/lib/onboarding/checklist";
import { GettingStarted } from "@/components/onboarding/getting-started";

function EmptyChart({ text, href, action }: { text: string; href: string; action: string }) {
  return (
    <>
      {text}{" "}
      <Link className="text-brand-600 hover:underline" href={href}>
        {action}
      </Link>
    </>
  );
}

const HEALTH: Record<Integration["health"], { color: "green" | "amber" | "red"; text: string }> = {
  ok: { color: "green", text: "healthy" },
  warning: { color: "amber", text: "some failures" },
  failing: { color: "red", text: "failing" },
};

export default async function OverviewPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const db = await getDb();
  const admin = hasRole(me.role, "admin");
  const [counts, notes, stats, steps] = await Promise.all([
    Promise.all(RECORD_TYPES.map((t) => countRecords(db, me.org.id, t))),
    listNotifications(db, me.org.id, me.userId, 5),
    dashboardStats(db, me.org.id),
    admin ? gettingStarted(db, me.org.id) : null,
  ]);
  const plan = planLimits(me.org.plan);
  const fmt = (n: number) => n.toLocaleString("en-US");
  const tiles: [string, string, string][] = [
    ["API calls", fmt(stats.totals.apiCalls), "requests with an API key"],
    ["Leads captured", fmt(stats.totals.leads), stats.leadsBySource.length ? `top: ${stats.leadsBySource[0]!.label}` : "none yet"],
    ["Webhooks delivered", fmt(stats.totals.delivered), "signed, answered 2xx"],
    ["Webhooks failed", fmt(stats.totals.failed), "after every retry"],
  ];
  return (
    <>
      <PageHeader title={me.org.name} description={`${plan.label} plan · you are ${me.role === "member" ? "a" : "an"} ${me.role}`} />
      {steps ? <GettingStarted org={me.org.slug} steps={steps} /> : null}
      <div className="grid gap-4 sm:grid-cols-3 lg:grid-cols-5">
        {RECORD_TYPES.map((t, i) => (
          <Link key={t} href={`/${me.org.slug}/records/${registry[t].slug}`} className="rounded-lg bg-white p-4 ring-1 ring-slate-200 hover:ring-brand-500">
            <p className="text-sm text-slate-500">{registry[t].pluralLabel}</p>
            <p className="mt-1 text-2xl font-semibold">{counts[i]}</p>
          </Link>
        ))}
      </div>

      <h2 className="mt-8 mb-3 text-sm font-semibold text-slate-900">Integrations — last {DASHBOARD_DAYS} days</h2>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4" data-testid="dashboard-totals">
        {tiles.map(([label, value, sub]) => (
          <div key={label} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
            <p className="text-sm text-slate-500">{label}</p>
            <p className="mt-1 text-2xl font-semibold" data-testid={`total-${label.toLowerCase().replace(/ /g, "-")}`}>
              {value}
            </p>
            <p className="text-xs text-slate-400">{sub}</p>
          </div>
        ))}
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-3">
        <Card title="API calls per day">
          <BarChart
            days={stats.days}
            series={[{ label: "API calls", values: stats.apiCalls, color: "bg-brand-500/80" }]}
            label="API calls per day"
            height={120}
            empty={<EmptyChart text="No API calls yet." href={`/${me.org.slug}/settings/api-keys`} action="Create an API key" />}
          />
        </Card>
        <Card
          title="Leads per day"
          description={
            stats.leadsBySource.length
              ? stats.leadsBySource
                  .slice(0, 4)
                  .map((s) => `${s.label} ${fmt(s.count)}`)
                  .join(" · ")
              : undefined
          }
        >
          <BarChart
            days={stats.days}
            series={[{ label: "Leads", values: stats.leads, color: "bg-emerald-500/80" }]}
            label="Leads captured per day"
            height={120}
            empty={<EmptyChart text="No leads yet." href={`/${me.org.slug}/settings/lead-capture`} action="Put the form on your website" />}
          />
        </Card>
        <Card title="Webhook deliveries per day">
          <BarChart
            days={stats.days}
            series={[
              { label: "Delivered", values: stats.delivered, color: "bg-sky-500/80" },
              { label: "Failed", values: stats.failed, color: "bg-red-500/80" },
            ]}
            label="Webhook deliveries per day"
            height={120}
            empty={<EmptyChart text="Nothing sent yet." href={`/${me.org.slug}/settings/webhooks`} action="Add a webhook" />}
          />
        </Card>
      </div>

      {/* Integrations name webhook URLs (which often carry a token) and sources: admins only, like their settings. */}
      {admin ? (
        <Card title="Most active integrations" className="mt-4" description="Each opens its own log.">
          {stats.integrations.length === 0 ? (
            <EmptyState title="Nothing has flowed in or out yet">
              Create an{" "}
              <Link className="text-brand-600 hover:underline" href={`/${me.org.slug}/settings/api-keys`}>
                API key
              </Link>
              , add a{" "}
              <Link className="text-brand-600 hover:underline" href={`/${me.org.slug}/settings/webhooks`}>
                webhook
              </Link>{" "}
              or{" "}
              <Link className="text-brand-600 hover:underline" href={`/${me.org.slug}/settings/import`}>
                import a file
              </Link>
              .
            </EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="integrations">
              {stats.integrations.slice(0, 10).map((i) => (
                <li key={`${i.kind}-${i.href}-${i.label}`} className="flex items-center justify-between gap-4 py-2 text-sm">
                  <div className="min-w-0">
                    <Link href={orgLink(me.org.slug, i.href)} className="font-medium hover:underline">
                      {i.label}
                    </Link>
                    <span className="text-slate-500">: {i.detail}</span>
                  </div>
                  <Badge color={HEALTH[i.health].color}>{HEALTH[i.health].text}</Badge>
                </li>
              ))}
            </ul>
          )}
        </Card>
      ) : null}

      <Card
        title="Recent notifications"
        className="mt-6"
        actions={
          <Link href={`/${me.org.slug}/notifications`} className="text-sm text-brand-600 hover:underline">
            All notifications
          </Link>
        }
      >
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
