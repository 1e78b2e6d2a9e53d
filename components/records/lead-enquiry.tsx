import type { ApiRecord } from "@/lib/records/serialize";
import { Badge, Card } from "@/components/ui/layout";

/** Custom fields the enquiry card shows: the rest stay in the custom fields card. */
export const ENQUIRY_FIELDS = ["message", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"] as const;

/** What a lead asked for and where it came from, above everything else on the client's page. */
export function LeadEnquiry({ record }: { record: ApiRecord }) {
  const custom = (record.custom_fields ?? {}) as Record<string, unknown>;
  const message = typeof custom.message === "string" ? custom.message : null;
  const campaign = ENQUIRY_FIELDS.slice(1)
    .filter((k) => typeof custom[k] === "string" && custom[k])
    .map((k) => `${k.replace("utm_", "")}: ${String(custom[k])}`);
  const channel = typeof record.source === "string" && record.source ? record.source : null;
  // A client typed in or imported has no enquiry to show; a lead without a message says so.
  if (!message && campaign.length === 0 && record.status !== "lead") return null;
  return (
    <Card title="Enquiry" className="mb-4" actions={channel ? <Badge color="blue">via {channel}</Badge> : undefined}>
      {message ? (
        <blockquote data-testid="lead-message" className="border-l-4 border-brand-500 pl-3 text-sm whitespace-pre-wrap text-slate-800">
          {message}
        </blockquote>
      ) : (
        <p className="text-sm text-slate-500">No message was sent with this lead.</p>
      )}
      {campaign.length ? <p className="mt-2 text-xs text-slate-500">Campaign — {campaign.join(" · ")}</p> : null}
    </Card>
  );
}
