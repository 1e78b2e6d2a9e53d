import "server-only";
import { Client, Receiver } from "@upstash/qstash";
import { and, eq, sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, type WebhookDelivery, type WebhookEndpoint } from "@/db/schema";
import type { Db } from "@/db/client";
import { env } from "@/lib/env";
import { logError } from "@/lib/log";
import { rowsOf } from "@/lib/db-utils";
import { loadJobs, performAttempt, type AttemptOutcome } from "./deliver";
import { outboxSignal } from "./outbox";
import { PROBE_LEASE_S, currentRate } from "./controls";
import { reserveSlots } from "./claim";
import { runAfterResponse } from "@/lib/http/after";

/**
 * The QStash driver. Each attempt is a QStash message, delayed for retries, addressed to our own
 * internal route — never to the customer's URL: the route verifies QStash's signature with the
 * official Receiver and then performs the attempt exactly as the local worker does (fresh
 * signature, SSRF guard, attempt log). Flow control keyed by endpoint caps parallel requests to
 * any one receiver.
 */

export const DELIVERY_ROUTE = "/api/internal/deliveries";
export const SWEEP_ROUTE = "/api/internal/sweep";
const PER_ENDPOINT_PARALLELISM = 8;

export function qstashClient(): Client {
  const e = env();
  return new Client({ token: e.QSTASH_TOKEN!, baseUrl: e.QSTASH_URL ?? "https://qstash.upstash.io" });
}

function appUrl(): string {
  const url = env().APP_URL;
  if (!url) throw new Error("APP_URL must be set when QSTASH_TOKEN is: QStash needs a public URL to call back.");
  return url.replace(/\/$/, "");
}

/** Publishes one delivery's next attempt, delayed until it is due. */
export async function publishDelivery(
  client: Client,
  delivery: { id: string; endpointId: string; nextAttemptAt: Date; attemptCount: number },
  deferral?: number,
): Promise<void> {
  const delay = Math.max(0, Math.ceil((delivery.nextAttemptAt.getTime() - Date.now()) / 1000));
  await client.publishJSON({
    url: `${appUrl()}${DELIVERY_ROUTE}`,
    body: { delivery_id: delivery.id, attempt: delivery.attemptCount + 1 },
    delay,
    // QStash retries only a failure of our own route (a crash mid-attempt); the customer's
    // failures are retried by our schedule.
    retries: 3,
    // A deferred attempt (circuit open, paused, rate, ordering) is a new message for the same attempt.
    deduplicationId: `${delivery.id}-${delivery.attemptCount + 1}${deferral ? `-w${deferral}` : ""}`,
    flowControl: { key: `endpoint-${delivery.endpointId}`, parallelism: PER_ENDPOINT_PARALLELISM },
  });
}

/**
 * Hands committed, not-yet-dispatched deliveries to QStash. Rows are marked dispatched in the
 * claiming statement; a publish that fails is un-marked so the sweeper tries again.
 */
export async function dispatchPending(db: Db, client: Client, olderThanSeconds = 0, orgIds?: string[]): Promise<number> {
  const orgs = orgIds ? sql`and org_id = any(${`{${orgIds.join(",")}}`}::text[])` : sql``;
  let total = 0;
  for (;;) {
    const result = await db.execute(sql`
      update webhook_deliveries w set dispatched_at = now()
      from (
        select id from webhook_deliveries
        where status = 'pending' and dispatched_at is null
          and created_at <= now() - make_interval(secs => ${olderThanSeconds}) ${orgs}
        order by created_at limit 100
        for update skip locked
      ) p where w.id = p.id
      returning w.id, w.endpoint_id, w.next_attempt_at, w.attempt_count`);
    const list = rowsOf<{ id: string; endpoint_id: string; next_attempt_at: string | Date; attempt_count: number }>(result);
    if (list.length === 0) return total;
    const results = await Promise.allSettled(
      list.map((r) =>
        publishDelivery(client, { id: r.id, endpointId: r.endpoint_id, nextAttemptAt: new Date(r.next_attempt_at), attemptCount: Number(r.attempt_count) }),
      ),
    );
    const failed = list.filter((_, i) => results[i]!.status === "rejected").map((r) => r.id);
    if (failed.length) {
      logError("qstash publish", (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason, { failed: failed.length });
      await db
        .update(webhookDeliveries)
        .set({ dispatchedAt: null })
        .where(sql`${webhookDeliveries.id} = any(${`{${failed.join(",")}}`}::text[])`);
      return total + list.length - failed.length;
    }
    total += list.length;
  }
}

/** Verifies a request claims to come from QStash, with the official Receiver. */
export async function verifyQstash(req: Request, rawBody: string): Promise<boolean> {
  const e = env();
  const signature = req.headers.get("upstash-signature");
  if (!signature || !e.QSTASH_CURRENT_SIGNING_KEY || !e.QSTASH_NEXT_SIGNING_KEY) return false;
  const receiver = new Receiver({ currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY, nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY, devMode: false });
  const path = new URL(req.url).pathname;
  try {
    return await receiver.verify({ signature, body: rawBody, url: `${appUrl()}${path}`, clockTolerance: 5 });
  } catch {
    return false;
  }
}

/**
 * The attempt QStash asked for: lease the delivery (a duplicate message finds it leased or
 * done and does nothing), perform it, and publish the next attempt if one is due.
 */
export async function runQstashDelivery(db: Db, deliveryId: string): Promise<AttemptOutcome | null> {
  const claimed = await db
    .update(webhookDeliveries)
    .set({ lockedUntil: sql`now() + interval '60 seconds'` })
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.status, "pending"),
        sql`(${webhookDeliveries.lockedUntil} is null or ${webhookDeliveries.lockedUntil} < now())`,
      ),
    )
    .returning({ id: webhookDeliveries.id });
  if (claimed.length === 0) return null;
  const [job] = await loadJobs(db, [deliveryId]);
  if (!job) return null;
  // The same rules as the local worker's claim: wait (without using up an attempt) while the
  // circuit is open, the endpoint is paused, its rate slot is ahead, or an earlier delivery of
  // the same record is pending.
  const waitUntil = await admission(db, job.endpoint, job.delivery);
  if (waitUntil !== null) {
    const at = new Date(Math.max(waitUntil, Date.now() + 1000));
    await db.update(webhookDeliveries).set({ lockedUntil: null }).where(eq(webhookDeliveries.id, deliveryId));
    try {
      await publishDelivery(
        qstashClient(),
        { id: deliveryId, endpointId: job.endpoint.id, nextAttemptAt: at, attemptCount: job.delivery.attemptCount },
        at.getTime(),
      );
    } catch (err) {
      logError("qstash publish", err, { delivery: deliveryId });
      await db.update(webhookDeliveries).set({ dispatchedAt: null }).where(eq(webhookDeliveries.id, deliveryId));
    }
    return null;
  }
  const outcome = await performAttempt(db, job);
  if (outcome.decision.kind === "retry") {
    try {
      await publishDelivery(qstashClient(), {
        id: deliveryId,
        endpointId: job.endpoint.id,
        nextAttemptAt: outcome.decision.at,
        attemptCount: job.delivery.attemptCount + 1,
      });
    } catch (err) {
      logError("qstash publish", err, { delivery: deliveryId });
      await db.update(webhookDeliveries).set({ dispatchedAt: null }).where(eq(webhookDeliveries.id, deliveryId));
    }
  }
  return outcome;
}

/**
 * Null when the attempt may go now (after waiting for its rate slot, if that is under a second
 * away); else when to try again (ms since the epoch).
 */
async function admission(db: Db, endpoint: WebhookEndpoint, delivery: WebhookDelivery): Promise<number | null> {
  if (endpoint.status !== "enabled") return null; // executeAttempt fails it
  const now = Date.now();
  if (endpoint.circuitState !== "closed") {
    if (endpoint.circuitUntil && endpoint.circuitUntil.getTime() > now) return endpoint.circuitUntil.getTime();
    const probe = await db
      .update(webhookEndpoints)
      .set({ circuitState: "half_open", circuitUntil: sql`now() + make_interval(secs => ${PROBE_LEASE_S})` })
      .where(and(eq(webhookEndpoints.id, endpoint.id), sql`${webhookEndpoints.circuitState} <> 'closed'`, sql`${webhookEndpoints.circuitUntil} <= now()`))
      .returning({ id: webhookEndpoints.id });
    if (probe.length === 0) return now + PROBE_LEASE_S * 1000;
  }
  if (endpoint.pausedUntil && endpoint.pausedUntil.getTime() > now) return endpoint.pausedUntil.getTime();
  if (delivery.orderKey !== null) {
    const earlier = await db.execute(sql`
      select 1 from webhook_deliveries p
      where p.endpoint_id = ${endpoint.id} and p.order_key = ${delivery.orderKey} and p.status = 'pending'
        and (p.order_seq, p.id) < (${delivery.orderSeq}::int, ${delivery.id}) limit 1`);
    if (rowsOf(earlier).length > 0) return now + ORDER_RECHECK_MS;
  }
  const rate = currentRate(endpoint);
  if (rate !== null) {
    const slot = await reserveSlots(db, endpoint.id, 1, rate);
    if (slot - now > 1000) return slot;
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now));
  }
  return null;
}

/** How soon a delivery waiting for an earlier one of the same record looks again. */
const ORDER_RECHECK_MS = 2000;

/** Makes sure the sweeper runs every minute as a QStash schedule (idempotent by schedule id). */
export async function ensureSweepSchedule(client: Client): Promise<void> {
  await client.schedules.create({ destination: `${appUrl()}${SWEEP_ROUTE}`, cron: "* * * * *", scheduleId: "smarfle-sweeper", retries: 0 });
}

/** In a long-running server with QStash: publish as soon as deliveries commit. */
export function startQstashDispatcher(db: Db): () => Promise<void> {
  const client = qstashClient();
  let running: Promise<unknown> = Promise.resolve();
  const dispatch = () => (running = running.then(() => dispatchPending(db, client)).catch((err) => logError("qstash dispatch", err)));
  const kick = () => {
    dispatch();
    // A write made inside a larger transaction (a lead with its history, an idempotent request
    // storing its answer) signals before that transaction commits: look again once the request
    // has answered, when it has. Inside a request this also keeps a serverless function alive
    // until the publish is done.
    runAfterResponse(() => dispatch());
  };
  outboxSignal.on("deliveries", kick);
  ensureSweepSchedule(client).catch((err) => logError("qstash schedule", err));
  kick();
  return async () => {
    outboxSignal.off("deliveries", kick);
    await running;
  };
}

/** Deliveries committed but never handed over (a crash between commit and publish). */
export async function sweep(db: Db): Promise<number> {
  return dispatchPending(db, qstashClient(), 30);
}
