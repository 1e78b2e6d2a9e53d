import Link from "next/link";
import type { ChecklistStep } from "@/lib/onboarding/checklist";
import { Card } from "@/components/ui/layout";

/** The getting-started checklist on a new organization's home; gone once every step is done. */
export function GettingStarted({ org, steps }: { org: string; steps: ChecklistStep[] }) {
  const done = steps.filter((s) => s.done).length;
  if (done === steps.length) return null;
  const next = steps.find((s) => !s.done);
  return (
    <Card
      title="Getting started"
      description={`${done} of ${steps.length} done — from a web form to your first signed webhook in a few minutes.`}
      className="mb-6"
    >
      <ol className="divide-y divide-slate-100" data-testid="getting-started">
        {steps.map((s, i) => (
          <li key={s.id} data-step={s.id} data-done={s.done} className="flex items-start gap-3 py-2.5 text-sm">
            <span
              aria-hidden
              className={`mt-0.5 flex h-5 w-5 shrink-0 items-center justify-center rounded-full text-xs font-semibold ${s.done ? "bg-emerald-500 text-white" : "bg-slate-100 text-slate-500 ring-1 ring-slate-300"}`}
            >
              {s.done ? "✓" : i + 1}
            </span>
            <div className="min-w-0 flex-1">
              <Link href={`/${org}/${s.href}`} className={`font-medium hover:underline ${s.done ? "text-slate-500 line-through" : "text-brand-700"}`}>
                {s.title}
              </Link>
              <span className="sr-only">{s.done ? " (done)" : " (to do)"}</span>
              {s === next ? <p className="text-slate-500">{s.detail}</p> : null}
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}
