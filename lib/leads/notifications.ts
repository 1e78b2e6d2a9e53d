import type { NotificationInput } from "@/lib/notifications/notify";

/**
 * The record registry's notification hook for clients: a new client with status `lead` tells the
 * team. A burst of leads (an import, a bulk call) becomes one summary instead of a notification
 * each, unless the caller coalesced single creates and wants each one (`each`).
 */
const LEAD_NOTIFY_LIMIT = 5;

/** The enquiry's first line, quoted and cut short: enough to tell a quote request from spam. */
const FIRST_LINE_MAX = 120;
function firstLine(custom: unknown): string | null {
  const message = (custom as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return null;
  const line = message.trim().split(/\r?\n/)[0]!.trim();
  if (!line) return null;
  return `“${line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX - 1)}…` : line}”`;
}

export function leadNotifications(created: Record<string, unknown>[], options: { each: boolean }): NotificationInput[] {
  // A provider's test lead (Google Ads' "send test data") tells nobody.
  const leads = created.filter((r) => r.status === "lead" && (r.custom_fields as Record<string, unknown> | undefined)?.is_test !== true);
  if (leads.length === 0) return [];
  if (leads.length > LEAD_NOTIFY_LIMIT && !options.each) {
    return [
      { kind: "lead", title: `${leads.length} new leads`, body: "New leads arrived in one batch.", link: "records/clients?status=lead", count: leads.length },
    ];
  }
  return leads.map((l) => ({
    kind: "lead",
    title: `New lead: ${String(l.name)}`,
    body: [firstLine(l.custom_fields), l.email, l.phone, l.source ? `via ${String(l.source)}` : null].filter(Boolean).join(" · ") || null,
    link: `records/clients/${String(l.id)}`,
  }));
}
