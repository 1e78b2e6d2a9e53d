import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listRules } from "@/lib/workflows/rules";
import { listEndpoints } from "@/lib/webhooks/endpoints";
import { describeAction, describeCondition, describeTrigger } from "@/lib/workflows/engine";
import { registry, type RecordType } from "@/lib/records/registry";
import { Badge, EmptyState, PageHeader } from "@/components/ui/layout";
import { ButtonLink } from "@/components/ui/button";
import { RuleControls } from "@/components/settings/workflows";

export default async function WorkflowsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const db = await getDb();
  const [rules, endpoints] = await Promise.all([listRules(db, me.org.id), listEndpoints(db, me.org.id)]);
  // A rule's webhook by the endpoint's name, not its id.
  const names = new Map(endpoints.map((e) => [e.id, e.description || e.url]));
  const endpointLabel = (id: string) => names.get(id) ?? `a deleted endpoint (${id})`;
  const base = `/${me.org.slug}/settings/workflows`;
  return (
    <>
      <PageHeader
        title="Workflows"
        description="When a record is created or changes, and your conditions hold, do the follow-ups for you — for every source alike. Changes a rule makes do not trigger rules, so rules cannot loop."
        actions={<ButtonLink href={`${base}/new`}>New rule</ButtonLink>}
      />
      {rules.length === 0 ? (
        <EmptyState title="No workflow rules yet">
          For example: when an opportunity&apos;s stage changes to closed_won, set its client&apos;s status to active and send a webhook.{" "}
          <Link href={`${base}/new`} className="text-brand-600 hover:underline">
            Create that rule
          </Link>
          .
        </EmptyState>
      ) : (
        <ul className="space-y-3" data-testid="rules">
          {rules.map((r) => {
            const def = registry[r.recordType as RecordType];
            return (
              <li key={r.id} className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
                <div className="flex flex-wrap items-start justify-between gap-3">
                  <div>
                    <Link href={`${base}/${r.id}`} className="font-medium hover:underline">
                      {r.name}
                    </Link>{" "}
                    <Badge color={r.enabled ? "green" : "gray"}>{r.enabled ? "enabled" : "disabled"}</Badge>
                    <p className="mt-1 text-sm text-slate-600">
                      {describeTrigger(r, def.label.toLowerCase())}
                      {r.conditions.length ? `, and ${r.conditions.map(describeCondition).join(" and ")}` : ""}:{" "}
                      {r.actions.map((a) => describeAction(a, endpointLabel)).join(", then ")}.
                    </p>
                    <Link
                      href={`/${me.org.slug}/settings/audit?actor=${encodeURIComponent(`workflow:${r.id}`)}`}
                      className="text-xs text-brand-600 hover:underline"
                    >
                      Firings in the audit log
                    </Link>
                  </div>
                  <RuleControls org={me.org.slug} id={r.id} enabled={r.enabled} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
