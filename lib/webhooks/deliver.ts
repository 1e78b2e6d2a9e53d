import "server-only";
import { metrics } from "@/lib/ops/metrics";
import { eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, webhookEvents, type WebhookDelivery, type WebhookEndpoint, type WebhookEvent } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { env } from "@/lib/env";
import { newId } from "@/lib/ids";
import { decrypt } from "@/lib/crypto/encryption";
import { writeAudit } from "@/lib/audit/write";
import { notifyMembers } from "@/lib/notifications/notify";
import { postJson, type HttpResult } from "@/lib/net/post-json";
import { ATTEMPT_TIMEOUT_MS, nextAttemptAt, parseRetryAfter, retrySchedule } from "./schedule";
import { applyAttempts, backsOff, classify } from "./controls";
import { emitOperationalEvent } from "./operational";
import { isOperationalEvent } from "./operational-events";
import { signalDeliveriesCommitted } from "./outbox";
import { genericTypeOf } from "./one-per-change";
import { signedHeaders } from "./signing";
import { TokenError, receiverHeaders } from "./receiver-auth";

/**
 * The delivery engine: one function performs one attempt — sign afresh, POST, log the exact
 * request and the response, decide the next step from the one schedule. The local worker and
 * the QStash route both call it.
 */

export interface DeliveryJob {
  delivery: WebhookDelivery;
  event: WebhookEvent;
  endpoint: WebhookEndpoint;
}

type JobPart = keyof DeliveryJob;
const JOB_TABLES: Record<JobPart, { table: typeof webhookDeliveries | typeof webhookEvents | typeof webhookEndpoints; prefix: string }> = {
  delivery: { table: webhookDeliveries, prefix: "d_" },
  event: { table: webhookEvents, prefix: "v_" },
  endpoint: { table: webhookEndpoints, prefix: "p_" },
};

/**
 * The select list of a job's three rows, every column aliased with its part's prefix, for a
 * query that claims deliveries and reads what their attempts need in the same round trip
 * (aliases: the claimed deliveries, their events, their endpoints). `jobFromRow` reads it back.
 */
export function jobColumns(aliases: Record<JobPart, string>) {
  const list = (Object.keys(JOB_TABLES) as JobPart[]).flatMap((part) =>
    Object.values(getTableColumns(JOB_TABLES[part].table)).map((c) => `${aliases[part]}."${c.name}" as "${JOB_TABLES[part].prefix}${c.name}"`),
  );
  return sql.raw(list.join(", "));
}

const jobDecoders = (Object.keys(JOB_TABLES) as JobPart[]).map((part) => ({
  part,
  columns: Object.entries(getTableColumns(JOB_TABLES[part].table)).map(([key, column]) => ({ key, column, alias: JOB_TABLES[part].prefix + column.name })),
}));

/** A job from a row selected with `jobColumns`: each value decoded as drizzle decodes it. */
export function jobFromRow(row: Record<string, unknown>): DeliveryJob {
  const job: Record<string, Record<string, unknown>> = {};
  for (const { part, columns } of jobDecoders) {
    const out: Record<string, unknown> = {};
    for (const { key, column, alias } of columns) {
      const v = row[alias];
      out[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
    }
    job[part] = out;
  }
  return job as unknown as DeliveryJob;
}

/** The webhook body: the same bytes on every attempt. */
export function eventBody(event: Pick<WebhookEvent, "id" | "type" | "createdAt" | "orgId" | "data" | "previous">): string {
  const body: Record<string, unknown> = { id: event.id, type: event.type, created_at: event.createdAt.toISOString(), org_id: event.orgId, data: event.data };
  if (event.previous) body.previous = event.previous;
  const generic = genericTypeOf(event.type, event.previous);
  if (generic) body.generic_type = generic;
  return JSON.stringify(body);
}

export async function loadJobs(db: Db, ids: string[]): Promise<DeliveryJob[]> {
  if (ids.length === 0) return [];
  return db
    .select({ delivery: webhookDeliveries, event: webhookEvents, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(inArray(webhookDeliveries.id, ids));
}

// Decrypting is cheap but not free; an endpoint's secret is asked for on every attempt.
const secretCache = new Map<string, string>();
function plain(orgId: string, ciphertext: string): string {
  let v = secretCache.get(ciphertext);
  if (v === undefined) {
    v = decrypt(ciphertext, { orgId, column: "webhook_endpoints.secret" });
    if (secretCache.size > 10_000) secretCache.clear();
    secretCache.set(ciphertext, v);
  }
  return v;
}

export function signingSecrets(
  endpoint: Pick<WebhookEndpoint, "orgId" | "secretCiphertext" | "previousSecretCiphertext" | "previousSecretExpiresAt">,
  now = new Date(),
): string[] {
  const secrets = [plain(endpoint.orgId, endpoint.secretCiphertext)];
  if (endpoint.previousSecretCiphertext && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(plain(endpoint.orgId, endpoint.previousSecretCiphertext));
  }
  return secrets;
}

export type Decision =
  | { kind: "succeeded" }
  | { kind: "retry"; at: Date; error: string }
  | { kind: "failed"; error: string }
  /** 410 Gone: the receiver asks to be unsubscribed (the REST-hooks convention). */
  | { kind: "gone"; error: string };

/**
 * What an attempt's outcome means for its delivery. Pure. A 429/503 is back-pressure: it pauses
 * or slows the endpoint and the delivery waits for it, without using up the retry schedule —
 * until the schedule's last offset has passed, when it is given up like any other.
 */
export function decide(
  result: Pick<HttpResult, "status" | "error" | "headers">,
  attemptsMade: number,
  firstAttemptAt: Date,
  now: Date,
  throttledBefore = 0,
): Decision & { throttled?: boolean } {
  const status = result.status;
  if (status !== null && status >= 200 && status < 300 && !result.error) return { kind: "succeeded" };
  const error =
    result.error ??
    (status !== null && status >= 300 && status < 400 ? `redirect (${status}) — redirects are not followed; use the final URL` : `receiver answered ${status}`);
  if (status === 410) return { kind: "gone", error: "receiver answered 410 Gone: endpoint unsubscribed" };
  const retryAfterSeconds = parseRetryAfter(result.headers["retry-after"], now);
  if (backsOff(classify(status, result.error))) {
    const schedule = retrySchedule();
    const giveUpAt = firstAttemptAt.getTime() + schedule[schedule.length - 1]! * 1000;
    if (now.getTime() >= giveUpAt) return { kind: "failed", error };
    return { kind: "retry", at: new Date(now.getTime() + Math.max(1, retryAfterSeconds ?? 1) * 1000), error, throttled: true };
  }
  const at = nextAttemptAt({ firstAttemptAt, attemptsMade: attemptsMade - throttledBefore, now, retryAfterSeconds });
  return at ? { kind: "retry", at, error } : { kind: "failed", error };
}

export interface AttemptOutcome {
  deliveryId: string;
  decision: Decision;
  status: number | null;
  durationMs: number;
}

/** One attempt made, not yet written down. */
export interface AttemptRecord {
  job: DeliveryJob;
  attemptNumber: number;
  headers: Record<string, string>;
  body: string;
  result: HttpResult | null;
  decision: Decision;
  at: Date;
}

/** Signs and sends one attempt. No database work: see recordAttempts. */
export async function executeAttempt(job: DeliveryJob, now = () => new Date()): Promise<AttemptRecord> {
  const { delivery, event, endpoint } = job;
  const attemptNumber = delivery.attemptCount + 1;
  if (endpoint.status !== "enabled" && !event.isTest) {
    const error = `endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ""}`;
    return { job, attemptNumber, headers: {}, body: "", result: null, decision: { kind: "failed", error }, at: now() };
  }
  const body = eventBody(event);
  const signed = signedHeaders({ id: event.id, eventType: event.type, body, secrets: signingSecrets(endpoint, now()) });
  let result: HttpResult;
  let logged = signed;
  try {
    const extra = await receiverHeaders(endpoint);
    logged = { ...extra.logged, ...signed };
    result = await postJson(new URL(endpoint.url), { ...extra.send, ...signed }, body, ATTEMPT_TIMEOUT_MS);
    if (result.status === 401 && endpoint.authKind === "oauth2") {
      // The cached token may have been revoked early: fetch a new one and try once more.
      const fresh = await receiverHeaders(endpoint, { refreshToken: true });
      result = await postJson(new URL(endpoint.url), { ...fresh.send, ...signed }, body, ATTEMPT_TIMEOUT_MS);
    }
  } catch (err) {
    const message = err instanceof TokenError ? `OAuth token request failed: ${err.message}` : (err as Error).message;
    result = { status: null, headers: {}, body: "", error: message, durationMs: 0 };
  }
  const at = now();
  return { job, attemptNumber, headers: logged, body, result, decision: decide(result, attemptNumber, delivery.createdAt, at, delivery.throttledCount), at };
}

export const outcomeOf = (r: AttemptRecord): AttemptOutcome => ({
  deliveryId: r.job.delivery.id,
  decision: r.decision,
  status: r.result?.status ?? null,
  durationMs: r.result?.durationMs ?? 0,
});

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

/** Performs one attempt of a claimed delivery and records it. Never throws for HTTP failures. */
export async function performAttempt(db: Db, job: DeliveryJob, now = () => new Date()): Promise<AttemptOutcome> {
  const record = await executeAttempt(job, now);
  await recordAttempts(db, [record]);
  return outcomeOf(record);
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

/** Loads and performs one delivery's next attempt (the QStash route; re-delivery). */
export async function attemptDelivery(db: Db, deliveryId: string): Promise<AttemptOutcome | null> {
  const [job] = await loadJobs(db, [deliveryId]);
  if (!job || job.delivery.status !== "pending") return null;
  return performAttempt(db, job);
}
