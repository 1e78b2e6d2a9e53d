import "server-only";
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { pendingCalls, utcDay } from "@/lib/api-keys/usage";

/**
 * The integrations dashboard: what flowed in and out of an organization over the last 30 days
 * (API calls, leads by where they came from, webhook deliveries), and its most active
 * integrations, each pointing at its own log. Every query is bounded by org and date.
 */

export const DASHBOARD_DAYS = 30;

export interface Integration {
  kind: "leads" | "endpoint" | "inbound" | "connector" | "import";
  label: string;
  detail: string;
  /** An org-relative link to the integration's log. */
  href: string;
  health: "ok" | "warning" | "failing";
  activity: number;
}

export interface DashboardStats {
  days: string[];
  apiCalls: number[];
  leads: number[];
  delivered: number[];
  failed: number[];
  totals: { apiCalls: number; leads: number; delivered: number; failed: number };
  leadsBySource: { label: string; count: number }[];
  integrations: Integration[];
}

const DOOR_LABELS: Record<string, string> = {
  lead_capture: "Lead capture",
  api: "REST API",
  ui: "Typed in",
  inbound: "Inbound webhook",
  connector: "Connector",
  import: "Import",
  system: "System",
};

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

export async function dashboardStats(db: Executor, orgId: string, now = new Date()): Promise<DashboardStats> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (DASHBOARD_DAYS - 1)));
  const days = Array.from({ length: DASHBOARD_DAYS }, (_, i) => utcDay(new Date(start.getTime() + i * 86_400_000)));
  const index = new Map(days.map((d, i) => [d, i]));
  const startIso = start.toISOString();

  const [calls, leads, deliveries, endpoints, inbound, runs, importRows] = await Promise.all([
    db.execute(sql`select day::text as day, calls::int as n from api_usage_daily where org_id = ${orgId} and day >= ${startIso}::date`),
    db.execute(sql`
      select (created_at at time zone 'UTC')::date::text as day, source as door, actor_type, actor_id, actor_label,
        nullif(after->>'source', '') as lead_source, count(*)::int as n
      from audit_log
      where org_id = ${orgId} and created_at >= ${startIso}::timestamptz and action = 'client.created' and after->>'status' = 'lead'
        -- An import's clients are leads only when the admin said so.
        and (source <> 'import' or actor_id in (select id from imports where org_id = ${orgId} and counts_as_leads))
      group by 1, 2, 3, 4, 5, 6`),
    db.execute(sql`
      select (d.created_at at time zone 'UTC')::date::text as day, d.endpoint_id, d.status, count(*)::int as n
      from webhook_deliveries d
      join webhook_events e on e.id = d.event_id and not e.is_test
      where d.endpoint_id in (select id from webhook_endpoints where org_id = ${orgId}) and d.created_at >= ${startIso}::timestamptz
      group by 1, 2, 3`),
    db.execute(sql`select id, url, description, status, disabled_reason from webhook_endpoints where org_id = ${orgId}`),
    db.execute(sql`
      select s.id, s.name, count(r.id)::int as n, count(r.id) filter (where r.status <> 'processed')::int as failed
      from inbound_sources s
      left join inbound_requests r on r.source_id = s.id and r.created_at >= ${startIso}::timestamptz
      where s.org_id = ${orgId}
      group by s.id, s.name`),
    db.execute(sql`
      select c.id, c.name, c.status, c.paused_reason, count(r.id)::int as n, count(r.id) filter (where r.status = 'failed')::int as failed,
        coalesce(sum(r.created + r.updated), 0)::int as records
      from connectors c
      left join connector_runs r on r.connector_id = c.id and r.started_at >= ${startIso}::timestamptz
      where c.org_id = ${orgId}
      group by c.id, c.name, c.status, c.paused_reason`),
    db.execute(sql`
      select count(*)::int as n, coalesce(sum(created + updated), 0)::int as records, coalesce(sum(failed), 0)::int as failed
      from imports where org_id = ${orgId} and created_at >= ${startIso}::timestamptz and status <> 'draft'`),
  ]);

  const series = () => new Array<number>(DASHBOARD_DAYS).fill(0);
  const stats: DashboardStats = {
    days,
    apiCalls: series(),
    leads: series(),
    delivered: series(),
    failed: series(),
    totals: { apiCalls: 0, leads: 0, delivered: 0, failed: 0 },
    leadsBySource: [],
    integrations: [],
  };
  const add = (s: number[], day: string, n: number) => {
    const i = index.get(day);
    if (i !== undefined) s[i] = (s[i] ?? 0) + n;
  };

  for (const r of rowsOf<{ day: string; n: number }>(calls)) add(stats.apiCalls, r.day, Number(r.n));
  for (const [day, n] of pendingCalls(orgId)) add(stats.apiCalls, day, n); // counted here, not yet written

  // Leads: by the source the lead named (a form's "website", an ad platform), else by its door.
  const bySource = new Map<string, number>();
  const byDoor = new Map<string, { label: string; detail: string; href: string; n: number }>();
  for (const r of rowsOf<{
    day: string;
    door: string;
    actor_type: string;
    actor_id: string | null;
    actor_label: string | null;
    lead_source: string | null;
    n: number;
  }>(leads)) {
    const n = Number(r.n);
    add(stats.leads, r.day, n);
    const label = r.lead_source ?? DOOR_LABELS[r.door] ?? r.door;
    bySource.set(label, (bySource.get(label) ?? 0) + n);
    const doorKey = `${r.door}|${r.actor_type}|${r.actor_id}|${label}`;
    const via = r.actor_type === "api_key" ? `key ${r.actor_label}…` : (r.actor_label ?? r.actor_type);
    const entry = byDoor.get(doorKey) ?? {
      label: `${label} → lead`,
      detail: `${DOOR_LABELS[r.door] ?? r.door}, ${via}`,
      href: `settings/audit?source=${encodeURIComponent(r.door)}&action=client.created${r.actor_id ? `&actor=${encodeURIComponent(`${r.actor_type}:${r.actor_id}`)}` : ""}`,
      n: 0,
    };
    entry.n += n;
    byDoor.set(doorKey, entry);
  }
  stats.leadsBySource = [...bySource].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count);
  for (const d of byDoor.values())
    stats.integrations.push({ kind: "leads", label: d.label, detail: plural(d.n, "lead"), href: d.href, health: "ok", activity: d.n });

  type Tally = { succeeded: number; failed: number; pending: number; recovered: number };
  const perEndpoint = new Map<string, Tally>();
  for (const r of rowsOf<{ day: string; endpoint_id: string; status: string; n: number }>(deliveries)) {
    const n = Number(r.n);
    if (r.status === "succeeded") add(stats.delivered, r.day, n);
    if (r.status === "failed") add(stats.failed, r.day, n);
    const e = perEndpoint.get(r.endpoint_id) ?? { succeeded: 0, failed: 0, pending: 0, recovered: 0 };
    e[r.status as keyof Tally] += n;
    perEndpoint.set(r.endpoint_id, e);
  }
  for (const ep of rowsOf<{ id: string; url: string; description: string | null; status: string; disabled_reason: string | null }>(endpoints)) {
    const c = perEndpoint.get(ep.id) ?? { succeeded: 0, failed: 0, pending: 0, recovered: 0 };
    const total = c.succeeded + c.failed + c.pending + c.recovered;
    const parts = [plural(total, "delivery", "deliveries"), plural(c.failed, "failure")];
    if (c.failed) parts[1] = `${plural(c.failed, "failure")} after 6 attempts`;
    if (c.pending) parts.push(`${c.pending.toLocaleString("en-US")} retrying`);
    if (ep.status === "disabled") parts.push(`disabled: ${ep.disabled_reason ?? "by an admin"}`);
    stats.integrations.push({
      kind: "endpoint",
      label: `Webhook ${ep.description || ep.url}`,
      detail: parts.join(", "),
      href: `settings/webhooks/${ep.id}`,
      health: ep.status === "disabled" || (c.failed > 0 && c.succeeded === 0) ? "failing" : c.failed > 0 || c.pending > 0 ? "warning" : "ok",
      activity: total,
    });
  }
  for (const s of rowsOf<{ id: string; name: string; n: number; failed: number }>(inbound)) {
    stats.integrations.push({
      kind: "inbound",
      label: `Inbound ${s.name}`,
      detail: `${plural(Number(s.n), "request")}, ${Number(s.failed).toLocaleString("en-US")} failed or refused`,
      href: `settings/inbound/${s.id}`,
      health: Number(s.failed) > 0 ? "warning" : "ok",
      activity: Number(s.n),
    });
  }
  for (const c of rowsOf<{ id: string; name: string; status: string; paused_reason: string | null; n: number; failed: number; records: number }>(runs)) {
    stats.integrations.push({
      kind: "connector",
      label: `Connector ${c.name}`,
      detail: `${plural(Number(c.n), "run")}, ${plural(Number(c.records), "record")} in${Number(c.failed) ? `, ${plural(Number(c.failed), "failed run")}` : ""}${c.status === "paused" ? `, paused: ${c.paused_reason ?? "by an admin"}` : ""}`,
      href: `settings/connectors/${c.id}`,
      health: c.status === "paused" ? "failing" : Number(c.failed) > 0 ? "warning" : "ok",
      activity: Number(c.n),
    });
  }
  const imp = rowsOf<{ n: number; records: number; failed: number }>(importRows)[0];
  if (imp && Number(imp.n) > 0) {
    stats.integrations.push({
      kind: "import",
      label: "File imports",
      detail: `${plural(Number(imp.n), "file")}, ${plural(Number(imp.records), "record")} in, ${plural(Number(imp.failed), "row")} failed`,
      href: "settings/import",
      health: Number(imp.failed) > 0 ? "warning" : "ok",
      activity: Number(imp.n),
    });
  }
  stats.integrations.sort((a, b) => b.activity - a.activity || a.label.localeCompare(b.label));

  const sum = (s: number[]) => s.reduce((a, b) => a + b, 0);
  stats.totals = { apiCalls: sum(stats.apiCalls), leads: sum(stats.leads), delivered: sum(stats.delivered), failed: sum(stats.failed) };
  return stats;
}
