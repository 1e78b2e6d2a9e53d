/** The one way pages show a moment: "Dec 3, 2026, 7:27 AM UTC" (with seconds where they matter). */
export function formatDateTime(value: Date | string | null | undefined, { seconds = false } = {}): string {
  if (value === null || value === undefined || value === "") return "—";
  const d = value instanceof Date ? value : new Date(value);
  return `${d.toLocaleString("en-US", { dateStyle: "medium", timeStyle: seconds ? "medium" : "short", timeZone: "UTC" })} UTC`;
}
