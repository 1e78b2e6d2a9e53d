import Link from "next/link";
import type { AuditStreamEntry } from "@/lib/audit/query";
import { describeEntry } from "@/lib/audit/query";
import { Card } from "@/components/ui/layout";
import { display } from "./load";

const VERB: Record<string, string> = { created: "Created", updated: "Changed", deleted: "Deleted" };

/** The record's history from the audit trail: who changed what, through which door. */
export function ChangeHistory({ org, targetType, targetId, entries }: { org: string; targetType: string; targetId: string; entries: AuditStreamEntry[] }) {
  return (
    <Card
      title="History"
      className="mt-4"
      actions={
        <Link href={`/${org}/settings/audit?target_type=${targetType}&target_id=${targetId}`} className="text-sm text-brand-600 hover:underline">
          In the audit log
        </Link>
      }
    >
      {entries.length === 0 ? (
        <p className="text-sm text-slate-500">No changes recorded.</p>
      ) : (
        <ol className="divide-y divide-slate-100" data-testid="change-history">
          {entries.map((e) => (
            <li key={e.id} className="py-2 text-sm">
              <p>
                <span className="font-medium">{VERB[e.action.split(".").pop() ?? ""] ?? e.action}</span>{" "}
                <span className="text-slate-500">
                  by {e.actorLabel ?? e.actorType} via {e.source.replace(/_/g, " ")} · {display(e.createdAt.toISOString(), "datetime")}
                </span>
              </p>
              <p className="break-words text-xs text-slate-600">{describeEntry(e)}</p>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
