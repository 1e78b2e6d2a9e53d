import { z } from "zod";

/**
 * Unknown fields, refused everywhere the same way: every strict object schema reports
 * `unrecognized_keys`; this attaches the fields the object does know to that issue, and
 * `zodDetails` (lib/errors.ts) turns it into one detail per unknown field, with a "did you
 * mean" when a known field is close — `events` → `event_types`.
 */
z.config({
  customError: (issue) => {
    if (issue.code !== "unrecognized_keys") return undefined;
    const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
    if (shape) (issue as { known?: string[] }).known = Object.keys(shape);
    return undefined;
  },
});

/** Edits between two words, a swap of neighbours counting as one (`vaule` → `value`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

const stem = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .replace(/s$/, "");

/** The known field an unknown one most likely meant: a small typo, or the same word stem (`events`, `event_types`). */
export function closestField(unknown: string, known: readonly string[]): string | null {
  let best: { field: string; score: number } | null = null;
  for (const field of known) {
    const d = distance(unknown.toLowerCase(), field.toLowerCase());
    const near = d <= Math.max(1, Math.floor(Math.min(unknown.length, field.length) / 3));
    const a = stem(unknown);
    const b = stem(field);
    const sameStem = a.length >= 4 && b.length >= 4 && (a.startsWith(b) || b.startsWith(a));
    if ((near || sameStem) && (!best || d < best.score)) best = { field, score: d };
  }
  return best?.field ?? null;
}

/** The message for one unknown field. */
export function unknownFieldMessage(field: string, known: readonly string[] | undefined): string {
  const guess = known ? closestField(field, known) : null;
  return guess ? `is not a known field: did you mean \`${guess}\`?` : "is not a known field";
}
