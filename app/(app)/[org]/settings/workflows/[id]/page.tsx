import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { isAppError } from "@/lib/errors";
import { getRule } from "@/lib/workflows/rules";
import { workflowBuilderMeta } from "@/lib/workflows/meta";
import { describeEntry, queryAuditStream } from "@/lib/audit/query";
import { Card, PageHeader } from "@/components/ui/layout";
import { RuleControls, WorkflowBuilder } from "@/components/settings/workflows";
import { formatDateTime } from "@/components/ui/dates";

export default async function WorkflowPage({ params }: { params: Promise<{ org: string; id: string }> }) {
  const { org: slug, id } = await params;
  const me = await requireMembership(slug, "admin");
  const db = await getDb();
  const rule = await getRule(db, me.org.id, id).catch((err: unknown) => {
    if (isAppError(err) && err.code === "not_found") notFound();
    throw err;
  });
  const [meta, firings] = await Promise.all([
    workflowBuilderMeta(db, me.org.id),
    queryAuditStream(db, me.org.id, { actor: `workflow:${rule.id}`, action: "workflow.fired" }, { limit: 10 }),
  ]);
  return (
    <>
      <PageHeader
        title={rule.name}
        description={rule.enabled ? "Enabled: runs inside every write to this record type." : "Disabled: runs nowhere until you enable it."}
        actions={<RuleControls org={me.org.slug} id={rule.id} enabled={rule.enabled} />}
      />
      <WorkflowBuilder
        org={me.org.slug}
        ruleId={rule.id}
        meta={meta}
        initial={{
          name: rule.name,
          enabled: rule.enabled,
          record_type: rule.recordType,
          trigger: rule.trigger,
          trigger_field: rule.triggerField,
          conditions: rule.conditions,
          actions: rule.actions,
        }}
      />
      <Card
        title="Recent firings"
        className="mt-6"
        actions={
          <Link className="text-sm text-brand-600 hover:underline" href={`/${me.org.slug}/settings/audit?actor=${encodeURIComponent(`workflow:${rule.id}`)}`}>
            All in the audit log
          </Link>
        }
      >
        {firings.entries.length === 0 ? (
          <p className="text-sm text-slate-500">It has not fired yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100 text-sm">
            {firings.entries.map((f) => (
              <li key={f.id} className="py-2">
                <span className="text-xs text-slate-500">{formatDateTime(f.createdAt, { seconds: true })}</span> · {f.targetType} {f.targetId} via {f.source}:{" "}
                {describeEntry(f)}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
