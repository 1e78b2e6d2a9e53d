import type { ReactNode } from "react";

/**
 * A per-day bar chart in plain markup: one stacked bar per day, a tooltip on hover, and the
 * numbers in a visually hidden table for screen readers (and tests).
 */
export interface Series {
  label: string;
  values: number[];
  /** Tailwind background class. */
  color: string;
}

/** `empty` is shown over the chart while every day is zero: what would fill it, and where to start. */
export function BarChart({
  days,
  series,
  label,
  height = 160,
  empty,
}: {
  days: string[];
  series: Series[];
  label: string;
  height?: number;
  empty?: ReactNode;
}) {
  const totals = days.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const none = totals.every((t) => t === 0);
  return (
    <figure aria-label={label} className="relative">
      {none && empty ? (
        <div className="absolute inset-x-0 top-0 flex items-center justify-center px-4 text-center text-sm text-slate-500" style={{ height }}>
          <p>{empty}</p>
        </div>
      ) : null}
      <div className="flex items-end gap-1" style={{ height }} aria-hidden>
        {days.map((day, i) => (
          <div key={day} className="group relative flex h-full flex-1 flex-col justify-end">
            {series.map((s) => {
              const v = s.values[i] ?? 0;
              return v ? <div key={s.label} className={`${s.color} first:rounded-t`} style={{ height: `${Math.max(2, (v / max) * (height - 8))}px` }} /> : null;
            })}
            <span className="pointer-events-none absolute bottom-full left-1/2 z-10 mb-1 hidden -translate-x-1/2 rounded bg-slate-900 px-1.5 py-0.5 text-xs whitespace-nowrap text-white group-hover:block">
              {day}: {series.map((s) => `${s.label} ${(s.values[i] ?? 0).toLocaleString("en-US")}`).join(", ")}
            </span>
          </div>
        ))}
      </div>
      <div className="mt-1 flex justify-between text-xs text-slate-400" aria-hidden>
        <span>{days[0]}</span>
        {series.length > 1 ? (
          <span className="flex gap-3">
            {series.map((s) => (
              <span key={s.label} className="inline-flex items-center gap-1">
                <span className={`inline-block h-2 w-2 rounded-sm ${s.color}`} />
                {s.label}
              </span>
            ))}
          </span>
        ) : null}
        <span>{days[days.length - 1]}</span>
      </div>
      {/* A table ignores the 1px box of sr-only: the wrapper holds it, or it stretches the page. */}
      <div className="sr-only">
        <table>
          <caption>{label}</caption>
          <thead>
            <tr>
              <th>Day</th>
              {series.map((s) => (
                <th key={s.label}>{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {days.map((day, i) => (
              <tr key={day}>
                <td>{day}</td>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
