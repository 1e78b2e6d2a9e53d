import "server-only";
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { rowsOf } from "@/db/rows";

/**
 * A new organization's getting-started path: a leads key, the form on the website, a webhook, a
 * test event, and seeing it arrive. Each step is read from what the organization has done, so it
 * ticks itself, whichever page (or API call) did it.
 */
export interface ChecklistStep {
  id: "leads_key" | "first_lead" | "webhook" | "test_event" | "arrived";
  title: string;
  detail: string;
  /** Relative to the organization: where the step is done. */
  href: string;
  done: boolean;
}

export async function gettingStarted(db: Executor, orgId: string): Promise<ChecklistStep[]> {
  const [row] = rowsOf<{ leads_key: boolean; first_lead: boolean; endpoint_id: string | null; test_sent: boolean; arrived: boolean }>(
    await db.execute(sql`
      select
        exists (select 1 from api_keys where org_id = ${orgId} and revoked_at is null and 'leads' = any(scopes)) as leads_key,
        exists (select 1 from audit_log where org_id = ${orgId} and action = 'client.created' and source = 'lead_capture') as first_lead,
        (select id from webhook_endpoints where org_id = ${orgId} order by created_at limit 1) as endpoint_id,
        exists (select 1 from webhook_deliveries d join webhook_events e on e.id = d.event_id where d.org_id = ${orgId} and e.is_test) as test_sent,
        exists (select 1 from webhook_deliveries where org_id = ${orgId} and status = 'succeeded') as arrived`),
  );
  const endpoint = row?.endpoint_id ? `settings/webhooks/${row.endpoint_id}` : "settings/webhooks";
  return [
    {
      id: "leads_key",
      title: "Create a leads key",
      detail: "A key that can only post leads: safe in a public web page.",
      href: "settings/lead-capture",
      done: Boolean(row?.leads_key),
    },
    {
      id: "first_lead",
      title: "Put the form on your website",
      detail: "Copy the ready-to-paste snippet; the first lead ticks this.",
      href: "settings/lead-capture",
      done: Boolean(row?.first_lead),
    },
    {
      id: "webhook",
      title: "Add a webhook",
      detail: "The URL of Zapier, Make or your own app, to hear of every change.",
      href: "settings/webhooks",
      done: Boolean(row?.endpoint_id),
    },
    {
      id: "test_event",
      title: "Send a test event",
      detail: "A signed sample, sent at once from the endpoint's page.",
      href: endpoint,
      done: Boolean(row?.test_sent),
    },
    {
      id: "arrived",
      title: "See it arrive",
      detail: "The delivery log shows what was sent and what your receiver answered.",
      href: endpoint,
      done: Boolean(row?.arrived),
    },
  ];
}
