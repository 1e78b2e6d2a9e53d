import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { PRICE_PER_CALL_USD, formatCost, usageThisMonth } from "@/lib/api-keys/usage";
import { planLimits } from "@/lib/orgs/plans";
import { ORG_CEILING_MULTIPLIER } from "@/lib/http/gate";
import { Card, PageHeader } from "@/components/ui/layout";
import { BarChart } from "@/components/ui/bar-chart";

export default async function UsagePage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const usage = await usageThisMonth(await getDb(), me.org.id);
  const rpm = me.org.rateLimitRpm ?? planLimits(me.org.plan).rateLimitRpm;
  const month = new Date().toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
  const stats: [string, string, string][] = [
    ["API calls this month", usage.monthCalls.toLocaleString("en-US"), month],
    ["Cost", formatCost(usage.monthCalls), `at $${PRICE_PER_CALL_USD} per call`],
    ["Rate limit", `${rpm.toLocaleString("en-US")}/min`, `per key; ${(rpm * ORG_CEILING_MULTIPLIER).toLocaleString("en-US")}/min for all keys together`],
  ];
  return (
    <>
      <PageHeader title="Usage" description="API calls are counted per day (UTC). Counts reach this page within about ten seconds." />
      <div className="mb-6 grid gap-4 sm:grid-cols-3">
        {stats.map(([label, value, sub]) => (
          <div key={label} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
            <p className="text-sm text-slate-500">{label}</p>
            <p className="mt-1 text-2xl font-semibold" data-testid={`usage-${label.split(" ")[0]!.toLowerCase()}`}>
              {value}
            </p>
            <p className="text-xs text-slate-400">{sub}</p>
          </div>
        ))}
      </div>
      <Card title="Calls per day">
        <BarChart
          days={usage.days.map((d) => d.day)}
          series={[{ label: "API calls", values: usage.days.map((d) => d.calls), color: "bg-brand-500/80" }]}
          label="API calls per day this month"
          empty={
            <>
              No API calls this month yet.{" "}
              <Link className="text-brand-600 hover:underline" href={`/${me.org.slug}/settings/api-keys`}>
                Create an API key
              </Link>{" "}
              and try the cURL example there.
            </>
          }
        />
      </Card>
    </>
  );
}
