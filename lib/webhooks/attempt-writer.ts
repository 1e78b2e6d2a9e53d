import "server-only";
import { eq, sql } from "drizzle-orm";
import { webhookEndpoints, type WebhookEndpoint } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { env } from "@/lib/env";
import { newId } from "@/lib/ids";
import { writeAudit } from "@/lib/audit/write";
import { notifyMembers } from "@/lib/notifications/notify";
import { metrics } from "@/lib/ops/metrics";
import { parseRetryAfter } from "./schedule";
import { applyAttempts, classify } from "./controls";
import { emitOperationalEvent } from "./operational";
import { isOperationalEvent } from "./operational-events";
import { signalDeliveriesCommitted } from "./outbox";
import type { AttemptRecord } from "./deliver";

/**
 * Writing attempts down: the attempt log, each delivery's new state, the failed deliveries a
 * success recovers, and what the attempts mean for their endpoint's health (circuit breaker,
 * adaptive rate, pause, auto-disable) with the operational events that follow. The worker writes
 * in batches; the QStash route and re-delivery write one attempt at a time.
 */

/**
 * Writes a batch of attempts: the attempt log, each delivery's new state and the failed
 * deliveries a success recovers, in ONE statement (each part takes one JSON parameter, so the
 * text is the same for any batch and is prepared once per connection). When the batch changes
 * an endpoint's health or gives a delivery up, that statement and the health updates and
 * operational events run in one transaction; the usual batch — healthy endpoints, successes —
 * is one round trip, which is what bounds the worker's rate.
 */
export async function recordAttempts(db: Db, records: AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  const attempts = records
    .filter((r) => r.result !== null)
    .map((r) => ({
      id: newId("att"),
      org_id: r.job.delivery.orgId,
      delivery_id: r.job.delivery.id,
      attempt_number: r.attemptNumber,
      url: r.job.endpoint.url,
      request_headers: r.headers,
      request_body: r.body,
      response_status: r.result!.status,
      response_headers: r.result!.status !== null ? r.result!.headers : null,
      response_body: r.result!.body || null,
      error: r.result!.error,
      duration_ms: r.result!.durationMs,
      created_at: r.at.toISOString(),
    }));
  const updates = records.map((r) => {
    const d = r.decision;
    return {
      id: r.job.delivery.id,
      status: d.kind === "succeeded" ? "succeeded" : d.kind === "retry" ? "pending" : "failed",
      next_at: (d.kind === "retry" ? d.at : r.at).toISOString(),
      code: r.result?.status ?? null,
      err: d.kind === "succeeded" ? null : d.error,
      completed_at: d.kind === "retry" ? null : r.at.toISOString(),
      at: r.at.toISOString(),
      attempted: r.result !== null ? 1 : 0,
      throttled: "throttled" in d && d.throttled ? 1 : 0,
    };
  });
  // A re-delivery that succeeded recovers the earlier failed deliveries of the same event to the
  // same endpoint: "re-deliver failed" skips them and they no longer count as failures. (All parts
  // see the statement's snapshot: a delivery this very batch gives up is not recovered by it.)
  const recovered = records
    .filter((r) => r.decision.kind === "succeeded")
    .map((r) => ({ org_id: r.job.delivery.orgId, event_id: r.job.delivery.eventId, endpoint_id: r.job.endpoint.id }));
  const write = sql`
    with logged as (
      insert into webhook_attempts (id, org_id, delivery_id, attempt_number, url, request_headers, request_body,
                                    response_status, response_headers, response_body, error, duration_ms, created_at)
      select * from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb) as x(
        id text, org_id text, delivery_id text, attempt_number int, url text, request_headers jsonb, request_body text,
        response_status int, response_headers jsonb, response_body text, error text, duration_ms int, created_at timestamptz)
    ), updated as (
      update webhook_deliveries d set
        status = v.status, attempt_count = d.attempt_count + v.attempted, throttled_count = d.throttled_count + v.throttled,
        next_attempt_at = v.next_at, locked_until = null, last_response_status = coalesce(v.code, d.last_response_status), last_error = v.err,
        completed_at = v.completed_at, updated_at = v.at
      from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(id text, status text, next_at timestamptz, code int, err text,
                                                              completed_at timestamptz, at timestamptz, attempted int, throttled int)
      where d.id = v.id
    )
    update webhook_deliveries d set status = 'recovered', updated_at = now()
      from jsonb_to_recordset(${JSON.stringify(recovered)}::jsonb) as p(org_id text, event_id text, endpoint_id text)
     where d.status = 'failed' and d.org_id = p.org_id and d.event_id = p.event_id and d.endpoint_id = p.endpoint_id`;

  // Endpoint health, once per endpoint per batch, in the order the attempts finished.
  const byEndpoint = new Map<string, AttemptRecord[]>();
  for (const r of records) {
    if (r.job.event.isTest || r.result === null) continue;
    const list = byEndpoint.get(r.job.endpoint.id);
    if (list) list.push(r);
    else byEndpoint.set(r.job.endpoint.id, [r]);
  }
  const unhealthy = [...byEndpoint.keys()].filter((id) => !stillHealthy(byEndpoint.get(id)![0]!.job.endpoint, byEndpoint.get(id)!)).sort();
  // Deliveries given up: tell the org (never about an operational event's own delivery).
  const exhausted = records.flatMap((r) =>
    r.decision.kind === "failed" && r.result !== null && !r.job.event.isTest && !isOperationalEvent(r.job.event.type)
      ? [{ ...r, error: r.decision.error }]
      : [],
  );
  let orgsQueued = 0;
  if (unhealthy.length === 0 && exhausted.length === 0) {
    await db.execute(write);
  } else {
    orgsQueued = await db.transaction(async (tx) => {
      await tx.execute(write);
      let queued = 0;
      // A fixed order, so two batches never lock the same endpoints in opposite orders.
      for (const id of unhealthy) queued += await updateEndpointHealth(tx as unknown as Db, byEndpoint.get(id)!);
      for (const r of exhausted) {
        queued += await emitOperationalEvent(
          tx,
          r.job.delivery.orgId,
          "delivery.exhausted",
          {
            id: r.job.delivery.id,
            event_id: r.job.event.id,
            event_type: r.job.event.type,
            endpoint_id: r.job.endpoint.id,
            url: r.job.endpoint.url,
            attempts: r.attemptNumber,
            last_error: r.error,
            link: `settings/webhooks/${r.job.endpoint.id}`,
          },
          { aboutEndpointId: r.job.endpoint.id },
        );
      }
      return queued;
    });
  }
  if (orgsQueued > 0) signalDeliveriesCommitted(records[0]!.job.delivery.orgId, orgsQueued);
  const m = metrics();
  for (const r of records) {
    m.deliveries.inc({ outcome: r.decision.kind });
    if (r.result) m.deliveryDuration.observe({ outcome: r.decision.kind }, r.result.durationMs / 1000);
  }
}

const HEALTH_COLUMNS = {
  consecutiveFailures: webhookEndpoints.consecutiveFailures,
  circuitState: webhookEndpoints.circuitState,
  circuitUntil: webhookEndpoints.circuitUntil,
  circuitCooldownSeconds: webhookEndpoints.circuitCooldownSeconds,
  rateLimit: webhookEndpoints.rateLimit,
  effectiveRate: webhookEndpoints.effectiveRate,
  rateReason: webhookEndpoints.rateReason,
  rateChangedAt: webhookEndpoints.rateChangedAt,
  pausedUntil: webhookEndpoints.pausedUntil,
  pauseReason: webhookEndpoints.pauseReason,
  failingSince: webhookEndpoints.failingSince,
  lastSuccessAt: webhookEndpoints.lastSuccessAt,
  status: webhookEndpoints.status,
};

/** Nothing to write: a run of quick successes to an endpoint already healthy (the hot path). */
function stillHealthy(e: WebhookEndpoint, attempts: AttemptRecord[]): boolean {
  const last = attempts[attempts.length - 1]!;
  return (
    attempts.every((a) => a.decision.kind === "succeeded") &&
    e.consecutiveFailures === 0 &&
    e.circuitState === "closed" &&
    e.effectiveRate === null &&
    !e.failingSince &&
    Boolean(e.lastSuccessAt) &&
    last.at.getTime() - e.lastSuccessAt!.getTime() <= 60_000
  );
}

/**
 * Folds a batch's attempts into the endpoint's health (circuit breaker, adaptive rate, pause,
 * failure streak); a 410 or WEBHOOK_DISABLE_AFTER of failures disables it. Emits the operational
 * events — unless every attempt was itself an operational event's delivery. Returns the
 * deliveries those events queued.
 */
async function updateEndpointHealth(tx: Db, attempts: AttemptRecord[]): Promise<number> {
  const endpoint = attempts[0]!.job.endpoint;
  const [current] = await tx.select(HEALTH_COLUMNS).from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id)).for("update");
  if (!current) return 0;
  const observed = attempts.map((a) => ({
    cls: classify(a.result!.status, a.result!.error),
    status: a.result!.status,
    retryAfterSeconds: parseRetryAfter(a.result!.headers["retry-after"], a.at),
    at: a.at,
  }));
  const { state, opened, recovered } = applyAttempts(current, observed);
  const last = attempts[attempts.length - 1]!;
  const now = last.at;
  const gone = attempts.some((a) => a.decision.kind === "gone");
  let reason: string | null = null;
  if (gone) reason = "the receiver answered 410 Gone";
  else if (state.failingSince && now.getTime() - state.failingSince.getTime() >= env().WEBHOOK_DISABLE_AFTER * 1000) {
    reason = `every delivery failed for ${describeSeconds(env().WEBHOOK_DISABLE_AFTER)}`;
  }
  const { status: _status, ...health } = state as typeof state & { status?: string };
  void _status;
  const disabling = reason !== null && current.status === "enabled";
  await tx
    .update(webhookEndpoints)
    .set(disabling ? { ...health, status: "disabled", disabledReason: reason, updatedAt: now } : health)
    .where(eq(webhookEndpoints.id, endpoint.id));
  // Never an alert about an endpoint's own operational deliveries.
  if (attempts.every((a) => isOperationalEvent(a.job.event.type))) return 0;
  const about = { id: endpoint.id, url: endpoint.url, link: `settings/webhooks/${endpoint.id}` };
  let queued = 0;
  if (opened) {
    queued += await emitOperationalEvent(
      tx,
      endpoint.orgId,
      "endpoint.failing",
      {
        ...about,
        consecutive_failures: state.consecutiveFailures,
        retry_at: state.circuitUntil?.toISOString() ?? null,
        last_error: last.decision.kind === "succeeded" ? null : last.decision.error,
      },
      { aboutEndpointId: endpoint.id },
    );
  }
  if (recovered) queued += await emitOperationalEvent(tx, endpoint.orgId, "endpoint.recovered", about, { aboutEndpointId: endpoint.id });
  if (disabling) queued += await endpointDisabled(tx, endpoint, reason!, now, state.failingSince);
  return queued;
}

function describeSeconds(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds} s`;
}

/** The audit entry, the bell and the `endpoint.disabled` event for an endpoint just disabled. */
export async function endpointDisabled(
  tx: Executor,
  endpoint: Pick<WebhookEndpoint, "id" | "orgId" | "url">,
  reason: string,
  now: Date,
  failingSince: Date | null,
): Promise<number> {
  await writeAudit(tx, endpoint.orgId, { type: "system", id: null, label: "webhook delivery" }, "system", [
    {
      action: "webhook_endpoint.disabled",
      targetType: "webhook_endpoint",
      targetId: endpoint.id,
      before: { status: "enabled" },
      after: { status: "disabled", reason },
    },
  ]);
  await notifyMembers(
    tx,
    endpoint.orgId,
    [
      {
        kind: "webhook_disabled",
        title: `Webhook endpoint disabled: ${endpoint.url}`,
        body: `Smarfle stopped sending to it because ${reason}. Fix the receiver, then re-enable it in Settings → Webhooks.`,
        link: `settings/webhooks/${endpoint.id}`,
      },
    ],
    ["owner", "admin"],
  );
  return emitOperationalEvent(
    tx,
    endpoint.orgId,
    "endpoint.disabled",
    {
      id: endpoint.id,
      url: endpoint.url,
      reason,
      failing_since: failingSince?.toISOString() ?? null,
      disabled_at: now.toISOString(),
      link: `settings/webhooks/${endpoint.id}`,
    },
    { aboutEndpointId: endpoint.id, noBell: true },
  );
}
