import "server-only";
import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { ACTOR_TYPES, SOURCES } from "@/db/schema";
import type { Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { rowsOf } from "@/lib/db-utils";
import { RECORD_TYPES } from "@/lib/records/registry";

/**
 * The audit trail as one stream: changes and settings changes and workflow firings (audit_log),
 * API requests (api_requests) and webhook delivery attempts (webhook_attempts), newest first,
 * filtered and paged the same way whichever table an entry lives in. Each branch is scoped by
 * org and date range on its own (org_id, created_at) index; PostgreSQL pushes the remaining
 * filters into the branches and merges them in order.
 */

export const AUDIT_KINDS = ["changes", "settings", "workflows", "requests", "deliveries"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const AUDIT_KIND_LABELS: Record<AuditKind, string> = {
  changes: "Record changes",
  settings: "Settings changes",
  workflows: "Workflow firings",
  requests: "API requests",
  deliveries: "Webhook delivery attempts",
};

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine((s) => !Number.isNaN(new Date(`${s}T00:00:00Z`).getTime()), "must be a real date");
const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const opt = <T extends z.ZodType>(s: T) => z.preprocess(blankToUndefined, s.optional());

export const auditFilterSchema = z.object({
  kind: opt(z.enum(AUDIT_KINDS)),
  /** An actor type (`user`), or one actor (`user:usr_…`, `api_key:key_…`). */
  actor: opt(
    z
      .string()
      .max(100)
      .regex(new RegExp(`^(${ACTOR_TYPES.join("|")})(:[A-Za-z0-9_]+)?$`), "must be an actor type, optionally with an id (user:usr_…)"),
  ),
  /** An action, or the start of one: `client` matches client.created, client.updated, … */
  action: opt(z.string().trim().max(100)),
  target_type: opt(z.string().trim().max(50)),
  target_id: opt(z.string().trim().max(100)),
  source: opt(z.enum(SOURCES)),
  from: opt(day),
  to: opt(day),
  q: opt(z.string().trim().max(200)),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export interface AuditStreamEntry {
  id: string;
  createdAt: Date;
  kind: AuditKind;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  source: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditPage {
  entries: AuditStreamEntry[];
  nextCursor: string | null;
}

/** Reads filters from query parameters; unknown parameters are ignored (they are page state). */
export function parseAuditFilter(search: URLSearchParams | Record<string, string | string[] | undefined>): AuditFilter {
  const raw: Record<string, string> = {};
  const entries = search instanceof URLSearchParams ? [...search] : Object.entries(search);
  for (const [k, v] of entries) {
    if (k in auditFilterSchema.shape && typeof v === "string") raw[k] = v;
  }
  const parsed = auditFilterSchema.safeParse(raw);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid audit log filter.", zodDetails(parsed.error.issues));
  return parsed.data;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const recordTypeList = sql.join(
  RECORD_TYPES.map((t) => sql`${t}`),
  sql`, `,
);

function branches(orgId: string, f: AuditFilter, exclude: AuditKind[] = []): SQL[] {
  const range = (col: SQL) => {
    const c: SQL[] = [];
    if (f.from) c.push(sql`${col} >= ${`${f.from}T00:00:00Z`}::timestamptz`);
    if (f.to) c.push(sql`${col} < ${`${f.to}T00:00:00Z`}::timestamptz + interval '1 day'`);
    return c.length ? sql` and ${sql.join(c, sql` and `)}` : sql``;
  };
  const wanted = (...kinds: AuditKind[]) => (!f.kind || kinds.includes(f.kind)) && !kinds.every((k) => exclude.includes(k));
  const out: SQL[] = [];
  if (wanted("changes", "settings", "workflows")) {
    out.push(sql`
      select a.id, a.created_at,
        case when a.action = 'workflow.fired' then 'workflows' when a.target_type in (${recordTypeList}) then 'changes' else 'settings' end as kind,
        a.actor_type, a.actor_id, a.actor_label, a.source, a.action, a.target_type, a.target_id, a.before, a.after
      from audit_log a
      where a.org_id = ${orgId}${range(sql`a.created_at`)}`);
  }
  if (wanted("requests")) {
    out.push(sql`
      select r.id, r.created_at, 'requests', 'api_key', r.key_id, r.key_prefix,
        case when r.path = '/api/webhook/leads' then 'lead_capture' else 'api' end,
        'api.request', 'api_request', r.id, null::jsonb,
        jsonb_build_object('method', r.method, 'path', r.path, 'status', r.status, 'duration_ms', r.duration_ms, 'ip', r.ip)
      from api_requests r
      where r.org_id = ${orgId}${range(sql`r.created_at`)}`);
  }
  if (wanted("deliveries")) {
    out.push(sql`
      select t.id, t.created_at, 'deliveries', 'system', null, 'webhook delivery', 'system',
        case when t.response_status between 200 and 299 then 'webhook.attempt_succeeded' else 'webhook.attempt_failed' end,
        'webhook_endpoint', d.endpoint_id, null::jsonb,
        jsonb_build_object('delivery_id', t.delivery_id, 'event_type', e.type, 'attempt', t.attempt_number, 'url', t.url,
          'status', t.response_status, 'duration_ms', t.duration_ms, 'error', t.error, 'test', e.is_test)
      from webhook_attempts t
      join webhook_deliveries d on d.id = t.delivery_id
      join webhook_events e on e.id = d.event_id
      where t.org_id = ${orgId}${range(sql`t.created_at`)}`);
  }
  return out;
}

function outerConditions(f: AuditFilter, cursor: { micros: string; id: string } | null): SQL[] {
  const c: SQL[] = [];
  if (f.kind) c.push(sql`e.kind = ${f.kind}`);
  if (f.actor) {
    const [type, id] = f.actor.split(":") as [string, string | undefined];
    c.push(sql`e.actor_type = ${type}`);
    if (id) c.push(sql`e.actor_id = ${id}`);
  }
  if (f.action) c.push(sql`e.action like ${`${likeEscape(f.action)}%`}`);
  if (f.target_type) c.push(sql`e.target_type = ${f.target_type}`);
  if (f.target_id) c.push(sql`e.target_id = ${f.target_id}`);
  if (f.source) c.push(sql`e.source = ${f.source}`);
  if (f.q) {
    const like = `%${likeEscape(f.q)}%`;
    c.push(sql`(e.action ilike ${like} or e.actor_label ilike ${like} or e.target_id ilike ${like} or e.id ilike ${like}
      or coalesce(e.before::text, '') ilike ${like} or coalesce(e.after::text, '') ilike ${like})`);
  }
  if (cursor) {
    c.push(sql`(e.created_at, e.id) < (timestamptz 'epoch' + ${cursor.micros}::bigint * interval '1 microsecond', ${cursor.id})`);
  }
  return c;
}

const CURSOR = /^(\d{1,20})\.([A-Za-z0-9_]{1,100})$/;

/** `exclude` leaves kinds out when no kind is asked for (the page's default view). */
export async function queryAuditStream(
  db: Executor,
  orgId: string,
  filter: AuditFilter,
  options: { cursor?: string | null; limit?: number; exclude?: AuditKind[] } = {},
): Promise<AuditPage> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
  let cursor: { micros: string; id: string } | null = null;
  if (options.cursor) {
    const m = CURSOR.exec(options.cursor);
    if (!m) throw new AppError("validation_failed", "Invalid cursor.", [{ path: "cursor", message: "is not a cursor this log gave out" }]);
    cursor = { micros: m[1]!, id: m[2]! };
  }
  const parts = branches(orgId, filter, options.exclude);
  if (parts.length === 0) return { entries: [], nextCursor: null };
  const conds = outerConditions(filter, cursor);
  const result = await db.execute(sql`
    select e.*, (extract(epoch from e.created_at) * 1000000)::bigint::text as micros
    from (${sql.join(parts, sql` union all `)}) as e(id, created_at, kind, actor_type, actor_id, actor_label, source, action, target_type, target_id, before, after)
    ${conds.length ? sql`where ${sql.join(conds, sql` and `)}` : sql``}
    order by e.created_at desc, e.id desc
    limit ${limit + 1}`);
  const rows = rowsOf<Record<string, unknown>>(result);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    entries: page.map((r) => ({
      id: String(r.id),
      createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
      kind: r.kind as AuditKind,
      actorType: String(r.actor_type),
      actorId: (r.actor_id as string | null) ?? null,
      actorLabel: (r.actor_label as string | null) ?? null,
      source: String(r.source),
      action: String(r.action),
      targetType: String(r.target_type),
      targetId: (r.target_id as string | null) ?? null,
      before: parseJson(r.before),
      after: parseJson(r.after),
    })),
    nextCursor: rows.length > limit && last ? `${String(last.micros)}.${String(last.id)}` : null,
  };
}

function parseJson(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") {
    try {
      return JSON.parse(v) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return v as Record<string, unknown>;
}

/** A one-line description of what an entry records, for tables and CSV. */
export function describeEntry(e: AuditStreamEntry): string {
  const a = e.after ?? {};
  switch (e.kind) {
    case "requests":
      return `${String(a.method)} ${String(a.path)} → ${String(a.status)} (${String(a.duration_ms)} ms)`;
    case "deliveries":
      return `${a.test ? "test " : ""}${String(a.event_type)} attempt ${String(a.attempt)} to ${String(a.url)} → ${a.status ?? "no response"}${a.error ? ` (${String(a.error)})` : ""}, ${String(a.duration_ms)} ms`;
    case "workflows":
      return `rule "${String(a.rule_name ?? e.actorLabel)}": ${((a.actions as { summary?: string }[] | undefined) ?? []).map((x) => x.summary).join("; ") || "no actions"}`;
    default: {
      if (e.before && e.after) {
        const keys = [...new Set([...Object.keys(e.before), ...Object.keys(e.after)])].slice(0, 6);
        return keys.map((k) => `${k}: ${short(e.before![k])} → ${short(e.after![k])}`).join(", ");
      }
      const shown = e.after ?? e.before;
      if (!shown) return "";
      return Object.entries(shown)
        .filter(([k]) => !["id", "object", "custom_fields", "created_at", "updated_at", "version"].includes(k))
        .filter(([, v]) => v !== null && v !== undefined && v !== "")
        .slice(0, 5)
        .map(([k, v]) => `${k}: ${short(v)}`)
        .join(", ");
    }
  }
}

function short(v: unknown): string {
  if (v === null || v === undefined) return "∅";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

export interface ActorChoice {
  value: string;
  label: string;
}

/** The actors an org's log can be filtered by, grouped by type, for the filter form. */
export async function auditActorChoices(db: Executor, orgId: string): Promise<{ group: string; choices: ActorChoice[] }[]> {
  const rows = rowsOf<{ kind: string; id: string; label: string }>(
    await db.execute(sql`
      select 'user' as kind, u.id, u.email as label from memberships m join users u on u.id = m.user_id where m.org_id = ${orgId}
      union all select 'api_key', k.id, k.name || ' (' || k.prefix || '…)' from api_keys k where k.org_id = ${orgId}
      union all select 'inbound_source', s.id, s.name from inbound_sources s where s.org_id = ${orgId}
      union all select 'connector', c.id, c.name from connectors c where c.org_id = ${orgId}
      union all select 'workflow', w.id, w.name from workflow_rules w where w.org_id = ${orgId}
      order by 1, 3`),
  );
  const groups: { type: string; group: string }[] = [
    { type: "user", group: "People" },
    { type: "api_key", group: "API keys" },
    { type: "inbound_source", group: "Inbound sources" },
    { type: "connector", group: "Connectors" },
    { type: "workflow", group: "Workflow rules" },
  ];
  return [
    {
      group: "Any of a kind",
      choices: [
        { value: "user", label: "Any person" },
        { value: "api_key", label: "Any API key" },
        { value: "inbound_source", label: "Any inbound source" },
        { value: "connector", label: "Any connector" },
        { value: "import", label: "Any file import" },
        { value: "workflow", label: "Any workflow rule" },
        { value: "system", label: "The system" },
      ],
    },
    ...groups
      .map((g) => ({ group: g.group, choices: rows.filter((r) => r.kind === g.type).map((r) => ({ value: `${r.kind}:${r.id}`, label: r.label })) }))
      .filter((g) => g.choices.length > 0),
  ];
}

/** What entries can be about, for the filter form. */
export const AUDIT_TARGET_TYPES = [
  ...RECORD_TYPES,
  "api_key",
  "webhook_endpoint",
  "inbound_source",
  "connector",
  "import",
  "workflow_rule",
  "member",
  "organization",
  "api_request",
] as const;
