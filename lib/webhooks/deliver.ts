import "server-only";
import { and, eq, inArray, sql } from "drizzle-orm";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents, type WebhookDelivery, type WebhookEndpoint, type WebhookEvent } from "@/db/schema";
import type { Db } from "@/db/client";
import { newId } from "@/lib/ids";
import { decrypt } from "@/lib/crypto/encryption";
import { writeAudit } from "@/lib/audit/write";
import { notifyMembers } from "@/lib/notifications/notify";
import { postJson, type HttpResult } from "./http";
import { ATTEMPT_TIMEOUT_MS, DISABLE_AFTER_MS, nextAttemptAt, parseRetryAfter } from "./schedule";
import { signedHeaders } from "./signing";

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

/** The webhook body: the same bytes on every attempt. */
export function eventBody(event: Pick<WebhookEvent, "id" | "type" | "createdAt" | "orgId" | "data" | "previous">): string {
  const body: Record<string, unknown> = { id: event.id, type: event.type, created_at: event.createdAt.toISOString(), org_id: event.orgId, data: event.data };
  if (event.previous) body.previous = event.previous;
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

export function signingSecrets(endpoint: Pick<WebhookEndpoint, "orgId" | "secretCiphertext" | "previousSecretCiphertext" | "previousSecretExpiresAt">, now = new Date()): string[] {
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

/** What an attempt's outcome means. Pure. */
export function decide(result: Pick<HttpResult, "status" | "error" | "headers">, attemptsMade: number, firstAttemptAt: Date, now: Date): Decision {
  const status = result.status;
  if (status !== null && status >= 200 && status < 300 && !result.error) return { kind: "succeeded" };
  const error =
    result.error ??
    (status !== null && status >= 300 && status < 400
      ? `redirect (${status}) — redirects are not followed; use the final URL`
      : `receiver answered ${status}`);
  if (status === 410) return { kind: "gone", error: "receiver answered 410 Gone: endpoint unsubscribed" };
  const at = nextAttemptAt({ firstAttemptAt, attemptsMade, now, retryAfterSeconds: parseRetryAfter(result.headers["retry-after"], now) });
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
  const headers = signedHeaders({ id: event.id, eventType: event.type, body, secrets: signingSecrets(endpoint, now()) });
  let result: HttpResult;
  try {
    result = await postJson(new URL(endpoint.url), headers, body, ATTEMPT_TIMEOUT_MS);
  } catch (err) {
    result = { status: null, headers: {}, body: "", error: (err as Error).message, durationMs: 0 };
  }
  const at = now();
  return { job, attemptNumber, headers, body, result, decision: decide(result, attemptNumber, delivery.createdAt, at), at };
}

export const outcomeOf = (r: AttemptRecord): AttemptOutcome => ({
  deliveryId: r.job.delivery.id,
  decision: r.decision,
  status: r.result?.status ?? null,
  durationMs: r.result?.durationMs ?? 0,
});

/**
 * Writes a batch of attempts in one transaction: the attempt log (multi-row), each delivery's
 * new state (one UPDATE … FROM VALUES) and the endpoints' health.
 */
export async function recordAttempts(db: Db, records: AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.transaction(async (tx) => {
    const sent = records.filter((r) => r.result !== null);
    if (sent.length) {
      await tx.insert(webhookAttempts).values(
        sent.map((r) => ({
          id: newId("att"),
          orgId: r.job.delivery.orgId,
          deliveryId: r.job.delivery.id,
          attemptNumber: r.attemptNumber,
          url: r.job.endpoint.url,
          requestHeaders: r.headers,
          requestBody: r.body,
          responseStatus: r.result!.status,
          responseHeaders: r.result!.status !== null ? r.result!.headers : null,
          responseBody: r.result!.body || null,
          error: r.result!.error,
          durationMs: r.result!.durationMs,
          createdAt: r.at,
        })),
      );
    }
    const values = sql.join(
      records.map((r) => {
        const d = r.decision;
        const status = d.kind === "succeeded" ? "succeeded" : d.kind === "retry" ? "pending" : "failed";
        const attempted = r.result !== null ? 1 : 0;
        return sql`(${r.job.delivery.id}, ${status}, ${(d.kind === "retry" ? d.at : r.at).toISOString()}::timestamptz, ${r.result?.status ?? null}::int, ${d.kind === "succeeded" ? null : d.error}, ${d.kind === "retry" ? null : r.at.toISOString()}::timestamptz, ${r.at.toISOString()}::timestamptz, ${attempted}::int)`;
      }),
      sql`, `,
    );
    await tx.execute(sql`
      update webhook_deliveries d set
        status = v.status, attempt_count = d.attempt_count + v.attempted, next_attempt_at = v.next_at,
        locked_until = null, last_response_status = coalesce(v.code, d.last_response_status), last_error = v.err,
        completed_at = v.completed_at, updated_at = v.at
      from (values ${values}) as v(id, status, next_at, code, err, completed_at, at, attempted)
      where d.id = v.id`);
    // Endpoint health, once per endpoint per batch: a 410 Gone decides, else the latest attempt.
    const deciding = new Map<string, AttemptRecord>();
    for (const r of records) {
      if (r.job.event.isTest || r.result === null) continue;
      if (deciding.get(r.job.endpoint.id)?.decision.kind !== "gone") deciding.set(r.job.endpoint.id, r);
    }
    for (const r of deciding.values()) await updateEndpointHealth(tx as unknown as Db, r.job.endpoint, r.decision, r.at);
  });
}

/** Performs one attempt of a claimed delivery and records it. Never throws for HTTP failures. */
export async function performAttempt(db: Db, job: DeliveryJob, now = () => new Date()): Promise<AttemptOutcome> {
  const record = await executeAttempt(job, now);
  await recordAttempts(db, [record]);
  return outcomeOf(record);
}

/** Success clears the failure streak; 410 or five days of failures disable the endpoint. */
async function updateEndpointHealth(tx: Db, endpoint: WebhookEndpoint, decision: Decision, now: Date) {
  if (decision.kind === "succeeded") {
    if (endpoint.failingSince || !endpoint.lastSuccessAt || now.getTime() - endpoint.lastSuccessAt.getTime() > 60_000) {
      await tx.update(webhookEndpoints).set({ lastSuccessAt: now, failingSince: null }).where(eq(webhookEndpoints.id, endpoint.id));
    }
    return;
  }
  const failingSince = endpoint.failingSince ?? now;
  let reason: string | null = null;
  if (decision.kind === "gone") reason = "the receiver answered 410 Gone";
  else if (now.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS) reason = "every delivery failed for 5 days";
  if (!reason) {
    if (!endpoint.failingSince) await tx.update(webhookEndpoints).set({ failingSince }).where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.failingSince} is null`));
    return;
  }
  const [disabled] = await tx
    .update(webhookEndpoints)
    .set({ status: "disabled", disabledReason: reason, failingSince, updatedAt: now })
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, "enabled")))
    .returning({ id: webhookEndpoints.id });
  if (!disabled) return; // already disabled by another attempt
  await writeAudit(tx, endpoint.orgId, { type: "system", id: null, label: "webhook delivery" }, "system", [
    { action: "webhook_endpoint.disabled", targetType: "webhook_endpoint", targetId: endpoint.id, before: { status: "enabled" }, after: { status: "disabled", reason } },
  ]);
  await notifyMembers(
    tx,
    endpoint.orgId,
    [{ kind: "webhook_disabled", title: `Webhook endpoint disabled: ${endpoint.url}`, body: `Smarfle stopped sending to it because ${reason}. Fix the receiver, then re-enable it in Settings → Webhooks.`, link: `settings/webhooks/${endpoint.id}` }],
    ["owner", "admin"],
  );
}

/** Loads and performs one delivery's next attempt (the QStash route; re-delivery). */
export async function attemptDelivery(db: Db, deliveryId: string): Promise<AttemptOutcome | null> {
  const [job] = await loadJobs(db, [deliveryId]);
  if (!job || job.delivery.status !== "pending") return null;
  return performAttempt(db, job);
}
