import Link from "next/link";
import { requireMembership } from "@/lib/auth/session";
import { getDb } from "@/db/client";
import { recordTotal } from "@/lib/orgs/service";
import { planLimits } from "@/lib/orgs/plans";
import { Card, PageHeader } from "@/components/ui/layout";
import { RenameOrgForm } from "@/components/settings/rename-org";

const fmt = (n: number | null) => (n === null ? "unlimited" : n.toLocaleString("en-US"));

export default async function GeneralSettingsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const plan = planLimits(me.org.plan);
  const records = await recordTotal(await getDb(), me.org.id);
  const rpm = me.org.rateLimitRpm ?? plan.rateLimitRpm;
  const rows: [string, string][] = [
    ["Name", me.org.name],
    ["Slug", me.org.slug],
    ["Organization id", me.org.id],
    ["Your role", me.role],
  ];
  const limits: [string, string][] = [
    ["Plan", plan.label],
    ["Records", `${records.toLocaleString("en-US")} of ${fmt(plan.maxRecords)}`],
    ["API rate limit", `${rpm.toLocaleString("en-US")} requests per minute per key${me.org.rateLimitRpm ? " (raised by an operator)" : ""}`],
    ["API keys", fmt(plan.maxApiKeys)],
    ["Webhook endpoints", fmt(plan.maxWebhookEndpoints)],
  ];
  return (
    <>
      <PageHeader title="General" />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Organization">
          <dl className="space-y-2 text-sm">
            {rows.map(([k, v]) => (
              <div key={k} className="flex justify-between gap-4">
                <dt className="text-slate-500">{k}</dt>
                <dd className="font-mono text-xs text-slate-800">{v}</dd>
              </div>
            ))}
          </dl>
          {me.role !== "member" ? (
            <div className="mt-4 border-t border-slate-100 pt-4">
              <RenameOrgForm key={me.org.name} org={me.org.slug} name={me.org.name} />
            </div>
          ) : null}
        </Card>
        <Card
          title="Plan and limits"
          actions={
            me.role !== "member" ? (
              <Link href={`/${me.org.slug}/settings/plan`} className="text-sm text-brand-600 hover:underline">
                Details and current use
              </Link>
            ) : undefined
          }
        >
          <dl className="space-y-2 text-sm">
            {limits.map(([k, v]) => (
              <div key={k} className="flex justify-between gap-4">
                <dt className="text-slate-500">{k}</dt>
                <dd className="text-slate-800">{v}</dd>
              </div>
            ))}
          </dl>
        </Card>
      </div>
    </>
  );
}
