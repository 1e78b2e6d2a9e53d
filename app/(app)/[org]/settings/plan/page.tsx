import { getDb } from "@/db/client";
import { PLAN_IDS } from "@/db/schema";
import { requireMembership } from "@/lib/auth/session";
import { planUsage } from "@/lib/orgs/service";
import { PLANS, SALES_EMAIL, planLimits } from "@/lib/orgs/plans";
import { ORG_CEILING_MULTIPLIER } from "@/lib/http/gate";
import { Badge, Card, PageHeader, Table, Td, Th } from "@/components/ui/layout";

const fmt = (n: number | null) => (n === null ? "unlimited" : n.toLocaleString("en-US"));

function Meter({ label, used, max, note }: { label: string; used: number; max: number | null; note: string }) {
  const share = max === null ? 0 : Math.min(1, used / Math.max(1, max));
  const color = share >= 1 ? "bg-red-500" : share >= 0.8 ? "bg-amber-500" : "bg-brand-500";
  return (
    <div className="space-y-1" data-testid={`limit-${label.toLowerCase().replace(/ /g, "-")}`}>
      <div className="flex justify-between text-sm">
        <span className="font-medium text-slate-700">{label}</span>
        <span className="text-slate-600">
          {used.toLocaleString("en-US")} of {fmt(max)}
          {max !== null && used >= max ? (
            <>
              {" "}
              <Badge color="red">limit reached</Badge>
            </>
          ) : null}
        </span>
      </div>
      <div className="h-2 rounded-full bg-slate-100">
        {max !== null ? <div className={`h-2 rounded-full ${color}`} style={{ width: `${Math.max(share * 100, used ? 1 : 0)}%` }} /> : null}
      </div>
      <p className="text-xs text-slate-500">{note}</p>
    </div>
  );
}

export default async function PlanPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const plan = planLimits(me.org.plan);
  const used = await planUsage(await getDb(), me.org.id);
  const rpm = me.org.rateLimitRpm ?? plan.rateLimitRpm;
  return (
    <>
      <PageHeader title="Plan" description={`You are on the ${plan.label} plan.`} />
      <Card
        title="Limits and current use"
        description="At a limit, Smarfle refuses the write with plan_limit_reached — in the app, the API, imports and every other door alike — and nothing is half-written."
      >
        <div className="space-y-5">
          <Meter
            label="Records"
            used={used.records}
            max={plan.maxRecords}
            note="Clients, opportunities, work orders, invoices and bookings together. Deleting records frees room."
          />
          <Meter label="API keys" used={used.apiKeys} max={plan.maxApiKeys} note="Active keys; revoked and expired ones do not count." />
          <Meter label="Webhook endpoints" used={used.webhookEndpoints} max={plan.maxWebhookEndpoints} note="Enabled and disabled endpoints." />
          <Meter label="Members" used={used.members} max={plan.maxMembers} note="People in this organization, of every role." />
          <Meter
            label="Inbound sources"
            used={used.inboundSources}
            max={plan.maxInboundSources}
            note="Enabled and disabled sources. Deleting a source frees room."
          />
          <Meter label="Connectors" used={used.connectors} max={plan.maxConnectors} note="Active and paused connectors." />
          <Meter label="Workflow rules" used={used.workflowRules} max={plan.maxWorkflowRules} note="Enabled and disabled rules." />
          <div className="flex justify-between text-sm">
            <span className="font-medium text-slate-700">API rate limit</span>
            <span className="text-slate-600" data-testid="limit-rate">
              {rpm.toLocaleString("en-US")} requests/min per key, {(rpm * ORG_CEILING_MULTIPLIER).toLocaleString("en-US")}/min for all keys together
              {me.org.rateLimitRpm ? " (raised by an operator)" : ""}
            </span>
          </div>
        </div>
      </Card>
      <Card
        title="Plans"
        className="mt-6"
        description={
          <>
            To change plan,{" "}
            <a className="text-brand-600 hover:underline" href={`mailto:${SALES_EMAIL}?subject=${encodeURIComponent(`Plan change for ${me.org.name}`)}`}>
              contact us
            </a>
            ; an operator can also raise one organization&apos;s rate limit. Endpoints are webhook endpoints, sources inbound sources, rules workflow rules;
            Business&apos;s limits on sources, connectors and rules are a safety ceiling, not a sales limit.
          </>
        }
      >
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>Plan</Th>
              <Th>Records</Th>
              <Th>API keys</Th>
              <Th>Endpoints</Th>
              <Th>Members</Th>
              <Th>Sources</Th>
              <Th>Connectors</Th>
              <Th>Rules</Th>
              <Th>Req/min per key</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {PLAN_IDS.map((id) => (
              <tr key={id} className={id === me.org.plan ? "bg-brand-50/50" : ""}>
                <Td className="font-medium">
                  {PLANS[id].label} {id === me.org.plan ? <Badge color="blue">current</Badge> : null}
                </Td>
                <Td>{fmt(PLANS[id].maxRecords)}</Td>
                <Td>{fmt(PLANS[id].maxApiKeys)}</Td>
                <Td>{fmt(PLANS[id].maxWebhookEndpoints)}</Td>
                <Td>{fmt(PLANS[id].maxMembers)}</Td>
                <Td>{fmt(PLANS[id].maxInboundSources)}</Td>
                <Td>{fmt(PLANS[id].maxConnectors)}</Td>
                <Td>{fmt(PLANS[id].maxWorkflowRules)}</Td>
                <Td>{PLANS[id].rateLimitRpm.toLocaleString("en-US")}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
    </>
  );
}
