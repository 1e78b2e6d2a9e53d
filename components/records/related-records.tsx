import Link from "next/link";
import type { RelatedGroup } from "@/lib/records/related";
import { registry } from "@/lib/records/registry";
import { Card } from "@/components/ui/layout";
import { display } from "./load";

/** A client's jobs, deals, invoices and bookings, each linking to its page. */
export function RelatedRecords({ org, groups }: { org: string; groups: RelatedGroup[] }) {
  return (
    <div className="mt-4 grid gap-4 lg:grid-cols-2" data-testid="related-records">
      {groups.map((g) => {
        const def = registry[g.type];
        return (
          <Card
            key={g.type}
            title={`${def.pluralLabel} (${g.total})`}
            actions={
              <Link href={`/${org}/records/${def.slug}/new`} className="text-sm text-brand-600 hover:underline">
                New
              </Link>
            }
          >
            {g.items.length === 0 ? (
              <p className="text-sm text-slate-500">None yet.</p>
            ) : (
              <ul className="divide-y divide-slate-100">
                {g.items.map((r) => (
                  <li key={r.id} className="flex items-baseline justify-between gap-3 py-1.5 text-sm">
                    <Link href={`/${org}/records/${def.slug}/${r.id}`} className="min-w-0 truncate text-brand-700 hover:underline">
                      {r.title}
                    </Link>
                    <span className="shrink-0 text-xs text-slate-500">
                      {display(r.status, "enum")} · {display(r.createdAt.toISOString(), "datetime")}
                    </span>
                  </li>
                ))}
              </ul>
            )}
            {g.total > g.items.length ? (
              <p className="mt-2 text-xs text-slate-500">
                The {g.items.length} newest of {g.total}.
              </p>
            ) : null}
          </Card>
        );
      })}
    </div>
  );
}
