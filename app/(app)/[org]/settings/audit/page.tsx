import Link from "next/link";
import { getDb } from "@/db/client";
import { SOURCES } from "@/db/schema";
import { requireMembership } from "@/lib/auth/session";
import { hasRole } from "@/lib/orgs/service";
import { isAppError } from "@/lib/errors";
import {
  AUDIT_KINDS,
  AUDIT_KIND_LABELS,
  AUDIT_TARGET_TYPES,
  auditActorChoices,
  describeEntry,
  parseAuditFilter,
  queryAuditStream,
  type AuditFilter,
  type AuditKind,
  type AuditPage,
} from "@/lib/audit/query";
import { RETENTION_LIMITS } from "@/lib/audit/retention";
import { display } from "@/components/records/load";
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { Field, Input, Select } from "@/components/ui/form";
import { buttonClass } from "@/components/ui/button";
import { RetentionForm } from "@/components/settings/audit";
import { isRecordType, registry } from "@/lib/records/registry";

type Search = Record<string, string | string[] | undefined>;

/** Where an entry's target lives in the app, when it has a page of its own. */
function targetHref(org: string, type: string, id: string): string | null {
  if (isRecordType(type)) return `/${org}/records/${registry[type].slug}/${id}`;
  const settings: Record<string, string> = { webhook_endpoint: "webhooks", inbound_source: "inbound", connector: "connectors", workflow_rule: "workflows" };
  return settings[type] ? `/${org}/settings/${settings[type]}/${id}` : null;
}

/** A target id, shortened to stay on one line; the full id is its title and its link. */
function TargetLink({ org, type, id }: { org: string; type: string; id: string | null }) {
  if (!id) return null;
  const shown = id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
  const href = targetHref(org, type, id);
  return href ? (
    <Link href={href} title={id} className="text-brand-600 hover:underline">
      {shown}
    </Link>
  ) : (
    <span title={id}>{shown}</span>
  );
}

const QUIET_KINDS: AuditKind[] = ["requests", "deliveries"];

const KIND_COLORS = { changes: "blue", settings: "amber", workflows: "green", requests: "gray", deliveries: "gray" } as const;

function query(filter: AuditFilter, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filter, ...extra })) if (v) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export default async function AuditLogPage({ params, searchParams }: { params: Promise<{ org: string }>; searchParams: Promise<Search> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const search = await searchParams;
  const db = await getDb();
  let filter: AuditFilter = {};
  let problem: string | null = null;
  let page: AuditPage = { entries: [], nextCursor: null };
  const cursor = typeof search.cursor === "string" ? search.cursor : null;
  // Opened without a kind, the log shows what people and rules changed: requests and delivery
  // attempts, far more numerous, are one choice away.
  const quiet = search.kind === undefined;
  try {
    filter = parseAuditFilter(search);
    page = await queryAuditStream(db, me.org.id, filter, { cursor, limit: 50, exclude: quiet ? QUIET_KINDS : [] });
  } catch (err) {
    if (!isAppError(err)) throw err;
    problem = [err.message, ...err.details.map((d) => `${d.path}: ${d.message}`)].join(" ");
  }
  const actors = await auditActorChoices(db, me.org.id);
  // Actors by name ("Website form (sk_live_ab12…)"), not by a bare key prefix or id.
  const actorNames = new Map(actors.flatMap((g) => g.choices).map((c) => [c.value, c.label]));
  const base = `/${me.org.slug}/settings/audit`;
  const owner = hasRole(me.role, "owner");
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, who made it and through which door; every API request and webhook delivery attempt. Entries cannot be edited or deleted."
        actions={
          <a href={`${base}/export.csv${query(filter)}`} className={buttonClass("secondary")} download>
            Export CSV
          </a>
        }
      />
      <form
        method="get"
        action={base}
        className="mb-4 grid gap-3 rounded-lg bg-white p-4 ring-1 ring-slate-200 sm:grid-cols-2 lg:grid-cols-4"
        aria-label="Filter the audit log"
      >
        <Field id="audit-kind" label="Kind">
          <Select id="audit-kind" name="kind" defaultValue={filter.kind ?? ""}>
            <option value="">Everything</option>
            {AUDIT_KINDS.map((k) => (
              <option key={k} value={k}>
                {AUDIT_KIND_LABELS[k]}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="audit-actor" label="Actor">
          <Select id="audit-actor" name="actor" defaultValue={filter.actor ?? ""}>
            <option value="">Anyone</option>
            {actors.map((g) => (
              <optgroup key={g.group} label={g.group}>
                {g.choices.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </optgroup>
            ))}
          </Select>
        </Field>
        <Field id="audit-source" label="Source">
          <Select id="audit-source" name="source" defaultValue={filter.source ?? ""}>
            <option value="">Any door</option>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="audit-action" label="Action">
          <Input id="audit-action" name="action" defaultValue={filter.action ?? ""} placeholder="client.updated, api_key, workflow…" list="audit-actions" />
          <datalist id="audit-actions">
            {[
              "client.created",
              "client.updated",
              "client.deleted",
              "opportunity.updated",
              "workflow.fired",
              "api_key.created",
              "api_key.revoked",
              "webhook_endpoint",
              "member",
              "api.request",
              "webhook.attempt_failed",
            ].map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </Field>
        <Field id="audit-target_type" label="Target type">
          <Select id="audit-target_type" name="target_type" defaultValue={filter.target_type ?? ""}>
            <option value="">Anything</option>
            {AUDIT_TARGET_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="audit-target_id" label="Target id">
          <Input id="audit-target_id" name="target_id" defaultValue={filter.target_id ?? ""} placeholder="cli_…, key_…" />
        </Field>
        <div className="grid grid-cols-2 gap-2">
          <Field id="audit-from" label="From">
            <Input type="date" id="audit-from" name="from" defaultValue={filter.from ?? ""} />
          </Field>
          <Field id="audit-to" label="To">
            <Input type="date" id="audit-to" name="to" defaultValue={filter.to ?? ""} />
          </Field>
        </div>
        <Field id="audit-q" label="Search">
          <Input type="search" id="audit-q" name="q" defaultValue={filter.q ?? ""} placeholder="a name, an email, a request id…" />
        </Field>
        <div className="flex items-end gap-2 sm:col-span-2 lg:col-span-4">
          <button type="submit" className={buttonClass("primary")}>
            Apply filters
          </button>
          <Link href={base} className={buttonClass("ghost")}>
            Clear
          </Link>
        </div>
      </form>

      {problem ? (
        <p role="alert" className="mb-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 ring-1 ring-red-200">
          {problem}
        </p>
      ) : null}

      {quiet ? (
        <p className="mb-3 text-sm text-slate-600" data-testid="audit-default-view">
          Showing changes, settings and workflow firings. API requests and webhook delivery attempts are under Kind, or{" "}
          <Link href={`${base}${query(filter)}${query(filter) ? "&" : "?"}kind=`} className="text-brand-600 hover:underline">
            show everything
          </Link>
          .
        </p>
      ) : null}
      {page.entries.length === 0 ? (
        <EmptyState title="No entries match these filters" />
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>Time</Th>
              <Th>Actor</Th>
              <Th>Action · source</Th>
              <Th>Target</Th>
              <Th>What</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100" data-testid="audit-entries">
            {page.entries.map((e) => (
              <tr key={e.id} data-kind={e.kind}>
                <Td className="w-28 text-xs">{display(e.createdAt.toISOString(), "datetime")}</Td>
                <Td>
                  <span className="block text-xs text-slate-400">{e.actorType.replace(/_/g, " ")}</span>
                  {actorNames.get(`${e.actorType}:${e.actorId}`) ?? e.actorLabel ?? e.actorId ?? "—"}
                </Td>
                <Td>
                  <Badge color={KIND_COLORS[e.kind]}>{e.action}</Badge>
                  <span className="mt-0.5 block text-xs text-slate-500">via {e.source}</span>
                </Td>
                <Td className="font-mono text-xs whitespace-nowrap">
                  <span className="block text-slate-400">{e.targetType}</span>
                  <TargetLink org={me.org.slug} type={e.targetType} id={e.targetId} />
                </Td>
                <Td className="min-w-56">
                  <span className="[overflow-wrap:anywhere]">{describeEntry(e)}</span>
                  {e.before || e.after ? (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-slate-500">Details</summary>
                      <pre className="mt-1 max-h-64 overflow-auto rounded bg-slate-50 p-2 text-xs">
                        {JSON.stringify({ before: e.before, after: e.after }, null, 2)}
                      </pre>
                    </details>
                  ) : null}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <div className="mt-3 flex justify-between text-sm">
        {cursor ? (
          <Link href={`${base}${query(filter)}`} className="text-brand-600 hover:underline">
            ← Newest
          </Link>
        ) : (
          <span />
        )}
        {page.nextCursor ? (
          <Link href={`${base}${query(filter, { cursor: page.nextCursor })}`} className="text-brand-600 hover:underline">
            Older →
          </Link>
        ) : null}
      </div>

      <Card title="Retention" className="mt-8" description="Older entries are removed by an hourly job; nothing younger can be deleted.">
        <RetentionForm
          org={me.org.slug}
          auditDays={me.org.auditRetentionDays}
          requestDays={me.org.requestLogRetentionDays}
          eventDays={me.org.eventRetentionDays}
          limits={RETENTION_LIMITS}
          editable={owner}
        />
      </Card>
    </>
  );
}
