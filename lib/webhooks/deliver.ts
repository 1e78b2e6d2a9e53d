import "server-only";
import { eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, webhookEvents, type WebhookDelivery, type WebhookEndpoint, type WebhookEvent } from "@/db/schema";
import type { Db } from "@/db/client";
import { decrypt } from "@/lib/crypto/encryption";
import { postJson, type HttpResult } from "@/lib/net/post-json";
import { ATTEMPT_TIMEOUT_MS, nextAttemptAt, parseRetryAfter, retrySchedule } from "./schedule";
import { recordAttempts } from "./attempt-writer";
import { backsOff, classify } from "./controls";
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

const jobDecoders = Object.fromEntries(
  (Object.keys(JOB_TABLES) as JobPart[]).map((part) => [
    part,
    Object.entries(getTableColumns(JOB_TABLES[part].table)).map(([key, column]) => ({ key, column, alias: JOB_TABLES[part].prefix + column.name })),
  ]),
) as Record<JobPart, { key: string; column: ReturnType<typeof getTableColumns>[string]; alias: string }[]>;

const decodePart = (part: JobPart, row: Record<string, unknown>) => {
  const out: Record<string, unknown> = {};
  for (const { key, column, alias } of jobDecoders[part]) {
    const v = row[alias];
    out[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
  }
  return out;
};

const ENDPOINT_ID = `${JOB_TABLES.endpoint.prefix}${webhookEndpoints.id.name}`;

/**
 * A job from a row selected with `jobColumns`: each value decoded as drizzle decodes it. A claim
 * returns the same endpoint for many of its deliveries: pass one `endpoints` map for all the rows
 * of a claim and each endpoint is decoded once (jobs of one endpoint then share its object, which
 * nothing modifies).
 */
export function jobFromRow(row: Record<string, unknown>, endpoints?: Map<string, WebhookEndpoint>): DeliveryJob {
  const endpointId = row[ENDPOINT_ID] as string;
  let endpoint = endpoints?.get(endpointId);
  if (!endpoint) {
    endpoint = decodePart("endpoint", row) as unknown as WebhookEndpoint;
    endpoints?.set(endpointId, endpoint);
  }
  return {
    delivery: decodePart("delivery", row) as unknown as WebhookDelivery,
    event: decodePart("event", row) as unknown as WebhookEvent,
    endpoint,
  };
}

/** The webhook body: the same bytes on every attempt. */
export function eventBody(event: Pick<WebhookEvent, "id" | "type" | "createdAt" | "orgId" | "data" | "previous">): string {
  const body: Record<string, unknown> = { id: event.id, type: event.type, created_at: event.createdAt.toISOString(), org_id: event.orgId, data: event.data };
  if (event.previous) body.previous = event.previous;
  const generic = genericTypeOf(event.type, event.previous);
  if (generic) body.generic_type = generic;
  return JSON.stringify(body);
}

// An event goes to every endpoint subscribed to it, and those deliveries are mostly claimed and
// sent together: its body is made once. Events are never modified, so a body cannot go stale.
const BODY_CACHE_CHARS = 8 * 1024 * 1024;
const bodies = new Map<string, string>();
let bodyChars = 0;
function bodyOf(event: WebhookEvent): string {
  let body = bodies.get(event.id);
  if (body === undefined) {
    body = eventBody(event);
    if (bodyChars + body.length > BODY_CACHE_CHARS) {
      bodies.clear();
      bodyChars = 0;
    }
    bodies.set(event.id, body);
    bodyChars += body.length;
  }
  return body;
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
  const body = bodyOf(event);
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

/** Performs one attempt of a claimed delivery and records it. Never throws for HTTP failures. */
export async function performAttempt(db: Db, job: DeliveryJob, now = () => new Date()): Promise<AttemptOutcome> {
  const record = await executeAttempt(job, now);
  await recordAttempts(db, [record]);
  return outcomeOf(record);
}

/** Loads and performs one delivery's next attempt (the QStash route; re-delivery). */
export async function attemptDelivery(db: Db, deliveryId: string): Promise<AttemptOutcome | null> {
  const [job] = await loadJobs(db, [deliveryId]);
  if (!job || job.delivery.status !== "pending") return null;
  return performAttempt(db, job);
}
