import { qstashRoute } from "@/lib/http/qstash-route";
import { sweep } from "@/lib/webhooks/qstash";
import { connectorRunsSettled, runDueConnectors } from "@/lib/connectors/run";
import { runHourlyRetention } from "@/lib/audit/retention";
import { announceExpiringKeys } from "@/lib/api-keys/expiring";
import { emailOperationalEvents } from "@/lib/webhooks/operational-email";
import { pumpMetaFetches } from "@/lib/leads/meta";

/**
 * QStash's every-minute schedule: re-dispatches deliveries committed but never published, and
 * runs the connectors that are due; in the first sweep of each hour (across every server) it
 * applies the retention rules and announces API keys about to expire. Meta leads due a retry are
 * fetched too.
 */
export const POST = qstashRoute(async (db) => {
  const body: Record<string, unknown> = { dispatched: await sweep(db), connectors_queued: await runDueConnectors(db) };
  const retention = await runHourlyRetention(db);
  if (retention.ran) {
    body.retention = retention.result;
    body.keys_expiring = await announceExpiringKeys(db);
  }
  body.operational_emails = await emailOperationalEvents(db);
  body.meta_leads_fetched = await pumpMetaFetches(db);
  // The runs started here finish within this request (each has a time budget).
  await connectorRunsSettled();
  return body;
});
