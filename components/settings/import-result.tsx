import type { ReactNode } from "react";
import { FormError } from "@/components/ui/form";

export interface ImportOutcome {
  id: string;
  status: string;
  total: number;
  processed: number;
  created: number;
  updated: number;
  failed: number;
  /** Rows a match policy skipped on purpose. */
  skipped?: number;
  error: string | null;
}

const tone = {
  ok: "bg-emerald-50 text-emerald-900 ring-emerald-200",
  warning: "bg-amber-50 text-amber-900 ring-amber-200",
  bad: "bg-red-50 text-red-800 ring-red-200",
} as const;

/**
 * How a finished import went. Green only when every row made it; some rows failing is a warning
 * with the count and the error file; nothing imported is an error.
 */
export function ImportResult({ org, job, children }: { org: string; job: ImportOutcome; children?: ReactNode }) {
  if (job.status === "failed") return <FormError message={`The import failed: ${job.error}`} />;
  if (job.status !== "completed") return null;
  const n = (v: number) => v.toLocaleString("en-US");
  const imported = job.created + job.updated;
  const level = job.failed === 0 ? "ok" : imported > 0 ? "warning" : "bad";
  const headline =
    level === "ok"
      ? "Import finished"
      : level === "warning"
        ? `Import finished with problems: ${n(job.failed)} of ${n(job.processed)} rows were not imported`
        : `Nothing was imported: all ${n(job.failed)} rows failed`;
  return (
    <div
      data-testid="import-result"
      data-level={level}
      role={level === "ok" ? "status" : "alert"}
      className={`space-y-2 rounded-md px-4 py-3 text-sm ring-1 ${tone[level]}`}
    >
      <p className="font-medium">{headline}.</p>
      <p>
        {n(job.created)} created, {n(job.updated)} updated, {job.skipped ? `${n(job.skipped)} skipped, ` : ""}
        {n(job.failed)} failed.
      </p>
      {job.failed ? (
        <p>
          <a href={`/${org}/settings/import/${job.id}/errors.csv`} className="font-medium text-brand-700 underline" download>
            Download the failed rows (CSV)
          </a>{" "}
          — each with the reason, to fix and import again.
        </p>
      ) : null}
      {children}
    </div>
  );
}
