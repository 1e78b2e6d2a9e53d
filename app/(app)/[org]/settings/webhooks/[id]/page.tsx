import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { buttonClass } from "@/components/ui/button";
import { DELIVERY_STATUSES } from "@/db/schema";
import { requireMembership } from "@/lib/auth/session";
import { isAppError } from "@/lib/errors";
import { ALL_EVENT_TYPES } from "@/lib/records/registry";
import { getEndpoint } from "@/lib/webhooks/endpoints";
import { SUBSCRIBABLE_EVENTS, endpointView } from "@/lib/webhooks/endpoint-fields";
import { endpointStats, listAttempts, listDeliveries } from "@/lib/webhooks/delivery-log";
import { Badge, Card, Code, PageHeader } from "@/components/ui/layout";
import { Select } from "@/components/ui/form";
import { Snippet } from "@/components/ui/snippet";
import {
  DeleteEndpoint,
  DeliverySettings,
  EndpointEvents,
  RedeliverFailed,
  Redeliver,
  RevealSecret,
  RotateSecret,
  SendTest,
  ToggleEndpoint,
} from "@/components/settings/webhooks";
import { holdReason } from "@/lib/webhooks/controls";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import { filterFields } from "@/lib/webhooks/filter";
import { CONDITION_OPS } from "@/db/schema";
import { OPS_WITHOUT_VALUE, OP_LABELS } from "@/lib/workflows/engine";
import { FilterEditor } from "@/components/settings/webhook-filter";
import { formatDateTime } from "@/components/ui/dates";

const statusColor = { succeeded: "green", failed: "red", pending: "amber", recovered: "blue" } as const;
function isoDaysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}
const fmtTime = (d: Date) => formatDateTime(d, { seconds: true });

export default async function EndpointPage({
  params,
  searchParams,
}: {
  params: Promise<{ org: string; id: string }>;
  searchParams: Promise<{ status?: string; type?: string; cursor?: string }>;
}) {
  const { org: slug, id } = await params;
  const filter = await searchParams;
  const me = await requireMembership(slug, "admin");
  const db = await getDb();
  const endpoint = await getEndpoint(db, me.org.id, id).catch((err) => {
    if (isAppError(err) && err.code === "not_found") notFound();
    throw err;
  });
  const status = filter.status && (DELIVERY_STATUSES as readonly string[]).includes(filter.status) ? filter.status : undefined;
  const type = filter.type && (ALL_EVENT_TYPES as readonly string[]).includes(filter.type) ? filter.type : undefined;
  const [deliveries, stats] = await Promise.all([
    listDeliveries(db, me.org.id, id, { status, eventType: type, cursor: filter.cursor, limit: 25 }),
    endpointStats(db, me.org.id, id),
  ]);
  const attempts = await listAttempts(
    db,
    me.org.id,
    deliveries.items.map((d) => d.delivery.id),
  );
  const base = `/${me.org.slug}/settings/webhooks/${id}`;
  const view = endpointView(endpoint);
  const held = holdReason(endpoint);
  const circuitColor = { closed: "green", half_open: "amber", open: "red" } as const;
  const fmtRate = (r: number) => (r >= 1 ? `${Math.round(r * 10) / 10}/s` : `1 per ${Math.round(1 / r)} s`);
  return (
    <>
      <p className="mb-1 text-sm">
        <Link href={`/${me.org.slug}/settings/webhooks`} className="text-slate-500 hover:underline">
          ← Webhooks
        </Link>
      </p>
      <PageHeader
        title={endpoint.url}
        description={
          <>
            {endpoint.description ? `${endpoint.description} · ` : ""}
            <Badge color={endpoint.status === "enabled" ? "green" : "red"}>{endpoint.status}</Badge>
            {endpoint.disabledReason ? <span className="ml-2 text-red-700">Disabled because {endpoint.disabledReason}.</span> : null}
            {endpoint.failingSince && endpoint.status === "enabled" ? (
              <span className="ml-2 text-amber-700">Failing since {fmtTime(endpoint.failingSince)}.</span>
            ) : null}
          </>
        }
        actions={
          <>
            <ToggleEndpoint org={me.org.slug} id={id} enabled={endpoint.status === "enabled"} />
            <DeleteEndpoint org={me.org.slug} id={id} />
          </>
        }
      />
      <div className="mb-6 grid gap-4 sm:grid-cols-3">
        <div className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
          <p className="text-sm text-slate-500">Success rate, 24 h</p>
          <p className="mt-1 text-2xl font-semibold">{stats.successRate === null ? "—" : `${(stats.successRate * 100).toFixed(1)} %`}</p>
          <p className="text-xs text-slate-400">{stats.attempts} attempts</p>
        </div>
        <div className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
          <p className="text-sm text-slate-500">Latency p50, 24 h</p>
          <p className="mt-1 text-2xl font-semibold">{stats.p50Ms === null ? "—" : `${Math.round(stats.p50Ms)} ms`}</p>
        </div>
        <div className="rounded-lg bg-white p-4 ring-1 ring-slate-200">
          <p className="text-sm text-slate-500">Latency p95, 24 h</p>
          <p className="mt-1 text-2xl font-semibold">{stats.p95Ms === null ? "—" : `${Math.round(stats.p95Ms)} ms`}</p>
        </div>
      </div>
      <Card title="Delivery" description="How Smarfle paces, orders and authenticates deliveries to this receiver.">
        <dl data-testid="delivery-state" className="mb-4 grid gap-3 text-sm sm:grid-cols-4">
          <div>
            <dt className="text-slate-500">Rate</dt>
            <dd className="font-medium">
              {view.effective_rate === null ? "no limit" : fmtRate(view.effective_rate)}
              {view.rate_limit !== null && view.effective_rate !== null && view.effective_rate < view.rate_limit ? (
                <span className="text-slate-500"> (limit {view.rate_limit}/s)</span>
              ) : null}
            </dd>
            {view.rate_reason ? (
              <dd className="text-xs text-amber-700">{view.rate_reason}</dd>
            ) : view.rate_limit !== null ? (
              <dd className="text-xs text-slate-500">the limit you set</dd>
            ) : null}
          </div>
          <div>
            <dt className="text-slate-500">Circuit</dt>
            <dd>
              <Badge color={circuitColor[endpoint.circuitState]}>{endpoint.circuitState.replace("_", " ")}</Badge>
              {endpoint.consecutiveFailures > 0 ? <span className="ml-2 text-xs text-slate-500">{endpoint.consecutiveFailures} failures in a row</span> : null}
            </dd>
            {held ? <dd className="text-xs text-amber-700">{held}</dd> : null}
          </div>
          <div>
            <dt className="text-slate-500">Ordering</dt>
            <dd className="font-medium">{view.ordering === "per_record" ? "per record" : "none"}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Authentication</dt>
            <dd className="font-medium">
              {view.auth.type === "none"
                ? "none"
                : view.auth.type === "bearer"
                  ? "Bearer ••••••"
                  : view.auth.type === "basic"
                    ? `Basic ${view.auth.username}:••••••`
                    : `OAuth 2.0 (${view.auth.client_id} at ${view.auth.token_url})`}
            </dd>
            {view.headers.length ? <dd className="font-mono text-xs text-slate-500">headers: {view.headers.join(", ")}</dd> : null}
          </div>
        </dl>
        <DeliverySettings
          org={me.org.slug}
          id={id}
          value={{
            rateLimit: view.rate_limit,
            ordering: view.ordering,
            headerNames: view.headers,
            auth: {
              type: view.auth.type,
              ...("username" in view.auth ? { username: view.auth.username } : {}),
              ...("token_url" in view.auth ? { token_url: view.auth.token_url, client_id: view.auth.client_id, scope: view.auth.scope } : {}),
            },
          }}
        />
      </Card>
      <div className="mb-6 mt-6 grid gap-4 lg:grid-cols-2">
        <Card
          title="Send a test event"
          description="A sample payload, signed with this endpoint's real secret, sent now. Test deliveries never count as failures."
        >
          <SendTest org={me.org.slug} id={id} events={CATALOG_EVENT_TYPES} />
        </Card>
        <Card title="Signing secret" description="Verify every delivery with it. Rotate it with a grace period in which both secrets sign.">
          <div className="space-y-3">
            <RevealSecret org={me.org.slug} id={id} />
            <RotateSecret org={me.org.slug} id={id} />
          </div>
        </Card>
        <Card title="Events">
          <EndpointEvents org={me.org.slug} id={id} events={SUBSCRIBABLE_EVENTS} selected={endpoint.eventTypes} />
        </Card>
        <Card
          title="Filter"
          description="Deliver only the events whose data matches every condition, e.g. data.status changed to paid and data.amount greater than 500. Others create no delivery."
        >
          <FilterEditor
            org={me.org.slug}
            id={id}
            initial={endpoint.filter ?? []}
            fields={filterFields(endpoint.eventTypes)}
            ops={CONDITION_OPS.map((o) => ({ value: o, label: OP_LABELS[o], needsValue: !OPS_WITHOUT_VALUE.includes(o) }))}
          />
        </Card>
        <Card
          title="Verify signatures"
          description="Headers: webhook-id, webhook-timestamp, webhook-signature (also X-Smarfle-Signature, with X-Smarfle-Event)."
        >
          <div className="space-y-2 text-xs">
            <p className="font-medium">Node, with the standardwebhooks package</p>
            <Snippet
              label="the standardwebhooks verification"
              code={`import { Webhook } from "standardwebhooks";
const wh = new Webhook(process.env.SMARFLE_WEBHOOK_SECRET); // whsec_…
const event = wh.verify(rawBody, req.headers); // throws if forged or stale`}
            />
            <p className="font-medium">Node, with node:crypto only</p>
            <Snippet
              label="the node:crypto verification"
              code={`import { createHmac, timingSafeEqual } from "node:crypto";
const id = req.headers["webhook-id"], ts = req.headers["webhook-timestamp"];
if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) throw new Error("stale");
const key = Buffer.from(secret.replace("whsec_", ""), "base64");
const expected = createHmac("sha256", key).update(\`\${id}.\${ts}.\${rawBody}\`).digest();
const ok = req.headers["webhook-signature"].split(" ").some((s) => {
  const sig = Buffer.from(s.split(",")[1] ?? "", "base64");
  return sig.length === expected.length && timingSafeEqual(sig, expected);
});`}
            />
            <p className="font-medium">Python</p>
            <Snippet
              label="the Python verification"
              code={`import base64, hashlib, hmac, time
def verify(secret, headers, raw_body: bytes) -> bool:
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + raw_body, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s.split(",", 1)[1]) for s in headers["webhook-signature"].split(" "))`}
            />
          </div>
        </Card>
      </div>
      <Card title="Delivery log" actions={<RedeliverFailed org={me.org.slug} id={id} weekAgo={isoDaysAgo(7)} />}>
        <form method="get" className="mb-4 flex flex-wrap items-end gap-3">
          <div>
            <label htmlFor="log-status" className="block text-xs font-medium text-slate-600">
              Status
            </label>
            <Select id="log-status" name="status" defaultValue={status ?? ""}>
              <option value="">All</option>
              {DELIVERY_STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          </div>
          <div>
            <label htmlFor="log-type" className="block text-xs font-medium text-slate-600">
              Event type
            </label>
            <Select id="log-type" name="type" defaultValue={type ?? ""} className="font-mono text-xs">
              <option value="">All</option>
              {ALL_EVENT_TYPES.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </Select>
          </div>
          <button type="submit" className={buttonClass("secondary")}>
            Filter
          </button>
        </form>
        {deliveries.items.length === 0 ? (
          <p className="text-sm text-slate-500">No deliveries{status || type ? " match" : " yet"}.</p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="delivery-log">
            {deliveries.items.map(({ delivery, eventType, isTest, recordId }) => (
              <li key={delivery.id} className="py-2">
                <details>
                  <summary className="flex cursor-pointer flex-wrap items-center gap-3 text-sm">
                    <Badge color={statusColor[delivery.status]}>{delivery.status}</Badge>
                    <span className="font-mono text-xs">{eventType}</span>
                    {isTest ? <Badge>test</Badge> : null}
                    <span className="text-xs text-slate-500">
                      {delivery.attemptCount} attempt{delivery.attemptCount === 1 ? "" : "s"}
                      {delivery.lastResponseStatus ? ` · last HTTP ${delivery.lastResponseStatus}` : ""}
                      {delivery.lastError && delivery.status !== "succeeded" && delivery.status !== "recovered" ? ` · ${delivery.lastError}` : ""}
                    </span>
                    <span className="ml-auto text-xs text-slate-400">{fmtTime(delivery.createdAt)}</span>
                  </summary>
                  <div className="mt-3 space-y-3 pl-2">
                    <p className="text-xs text-slate-500">
                      Delivery {delivery.id} · record {recordId}
                      {delivery.status === "pending" ? ` · next attempt ${fmtTime(delivery.nextAttemptAt)}` : ""}
                    </p>
                    {attempts
                      .filter((a) => a.deliveryId === delivery.id)
                      .map((a) => (
                        <div key={a.id} className="rounded-md ring-1 ring-slate-200">
                          <p className="border-b border-slate-100 px-3 py-1.5 text-xs">
                            Attempt {a.attemptNumber} · {fmtTime(a.createdAt)} ·{" "}
                            {a.responseStatus !== null ? `HTTP ${a.responseStatus}` : (a.error ?? "no response")} · {a.durationMs} ms
                          </p>
                          <div className="grid gap-2 p-3 lg:grid-cols-2">
                            <div>
                              <p className="mb-1 text-xs font-medium text-slate-600">
                                Request: POST {a.url} ({Buffer.byteLength(a.requestBody)} bytes)
                              </p>
                              <Code>
                                {Object.entries(a.requestHeaders)
                                  .map(([k, v]) => `${k}: ${v}`)
                                  .join("\n")}
                              </Code>
                              <div className="mt-1">
                                <Code>{a.requestBody}</Code>
                              </div>
                            </div>
                            <div>
                              <p className="mb-1 text-xs font-medium text-slate-600">Response{a.error ? ` — ${a.error}` : ""}</p>
                              <Code>
                                {a.responseHeaders
                                  ? Object.entries(a.responseHeaders)
                                      .map(([k, v]) => `${k}: ${v}`)
                                      .join("\n")
                                  : "(no response)"}
                              </Code>
                              {a.responseBody ? (
                                <div className="mt-1">
                                  <Code>{a.responseBody}</Code>
                                </div>
                              ) : null}
                            </div>
                          </div>
                        </div>
                      ))}
                    {!isTest ? <Redeliver org={me.org.slug} deliveryId={delivery.id} /> : null}
                  </div>
                </details>
              </li>
            ))}
          </ul>
        )}
        {deliveries.nextCursor ? (
          <Link
            href={`${base}?${new URLSearchParams({ ...(status ? { status } : {}), ...(type ? { type } : {}), cursor: deliveries.nextCursor })}`}
            className="mt-3 inline-block text-sm text-brand-600 hover:underline"
          >
            Older deliveries
          </Link>
        ) : null}
      </Card>
    </>
  );
}
