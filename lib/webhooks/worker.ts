import "server-only";
import { eq, sql } from "drizzle-orm";
import { webhookDeliveries } from "@/db/schema";
import type { Db } from "@/db/client";
import { logError } from "@/lib/log";
import { rowsOf } from "@/lib/db-utils";
import { executeAttempt, jobColumns, jobFromRow, outcomeOf, recordAttempts, type AttemptOutcome, type AttemptRecord, type DeliveryJob } from "./deliver";
import { outboxSignal } from "./outbox";
import { PROBE_LEASE_S, RESERVE_AHEAD_S, SLOW_ATTEMPT_MS, backsOff, classify, currentRate } from "./controls";
import { ATTEMPT_TIMEOUT_MS, parseRetryAfter } from "./schedule";
import { TOKEN_TIMEOUT_MS } from "./receiver-auth";

/**
 * The local delivery worker: runs in every app instance. It claims due deliveries with
 * FOR UPDATE SKIP LOCKED (so instances share the work), round-robin across endpoints so one
 * org's dead endpoint cannot starve the others, with a cap on requests in flight per endpoint.
 * It wakes as soon as a transaction commits deliveries in this process, and polls as a fallback
 * (retries coming due, deliveries committed by other instances).
 *
 * A claim is a lease (`locked_until`), not a lock held open: if this process dies mid-attempt the
 * lease runs out and another worker — or this one after a restart — delivers it again, with
 * the same webhook-id so receivers can drop the duplicate.
 */

export interface WorkerOptions {
  concurrency?: number;
  perEndpoint?: number;
  /**
   * The slow lane: attempts to endpoints that are slow or failing (an attempt unanswered after
   * SLOW_ATTEMPT_MS, a timeout, a connection error, a 5xx) run here, at most `slowPerEndpoint`
   * per endpoint, so they never take the slots healthy endpoints are served from.
   */
  slowConcurrency?: number;
  slowPerEndpoint?: number;
  /** A hard cap on attempts in flight, both lanes together (default 8 × concurrency). */
  maxInFlight?: number;
  pollMs?: number;
  leaseSeconds?: number;
  onAttempt?: (outcome: AttemptOutcome) => void;
  /** Only these organizations' deliveries: a worker dedicated to some tenants (and tests sharing a database). */
  orgIds?: () => string[];
}

export interface DeliveryWorker {
  /** Claims and runs whatever is due now; resolves when those attempts are done. */
  drain(): Promise<number>;
  stop(): Promise<void>;
  readonly inFlight: number;
}

const pgArray = (ids: string[]) => `{${ids.join(",")}}`;
const CLAIMED_JOB = jobColumns({ delivery: "claimed", event: "ev", endpoint: "ep" });

/**
 * The end of a claim, after a CTE `picked (id, rate)`: leases the picked deliveries and reads
 * each one's job (the delivery as leased, its event, its endpoint) in the same statement.
 */
const leaseAndRead = (leaseSeconds: number) => sql`, claimed as (
      update webhook_deliveries w
         set locked_until = now() + make_interval(secs => ${leaseSeconds}),
             dispatched_at = coalesce(w.dispatched_at, now())
        from picked where w.id = picked.id
      returning w.*, picked.rate as claim_rate
    )
    select claimed.claim_rate as rate, ${CLAIMED_JOB}
      from claimed join webhook_events ev on ev.id = claimed.event_id join webhook_endpoints ep on ep.id = claimed.endpoint_id`;

export interface ClaimOptions {
  limit: number;
  perEndpoint: number;
  leaseSeconds: number;
  /** Endpoints not to claim for (at their in-flight cap, or slow when claiming for the healthy lane). */
  exclude?: string[];
  /**
   * Slow start: endpoints not in `proven` (no quick answer seen yet) get at most this many, so a
   * crowd of endpoints that turn out to hang cannot fill the lane before they are found out.
   */
  unprovenCap?: number;
  proven?: string[];
  /** Only these endpoints (the slow lane). */
  only?: string[];
  orgIds?: string[];
}

export interface Claimed {
  /** What the attempt needs (the delivery as claimed, its event, its endpoint), read by the claim itself. */
  job: DeliveryJob;
  /** Rate-limited endpoints only: when this delivery may be sent (ms since the epoch). */
  sendAt: number | null;
}

/**
 * Claims due deliveries, at most `perEndpoint` per endpoint, endpoints in random order so none
 * is favoured. An endpoint is skipped while its circuit is open or half open, while a receiver's
 * Retry-After pauses it, or while its rate slots are taken; with per-record ordering, only the
 * earliest pending delivery of each record is claimable. Rate-limited endpoints get send slots
 * reserved (`sendAt`), spaced 1/rate apart, about RESERVE_AHEAD_S ahead at most.
 */
export async function claimDue(db: Db, o: ClaimOptions): Promise<Claimed[]> {
  if (o.limit <= 0 || (o.orgIds && o.orgIds.length === 0) || (o.only && o.only.length === 0)) return [];
  const exclude = o.exclude?.length ? sql`and e.id <> all(${pgArray(o.exclude)}::text[])` : sql``;
  const only = o.only ? sql`and e.id = any(${pgArray(o.only)}::text[])` : sql``;
  const orgs = o.orgIds ? sql`and e.org_id = any(${pgArray(o.orgIds)}::text[])` : sql``;
  const cap =
    o.unprovenCap === undefined || o.unprovenCap >= o.perEndpoint
      ? sql`${o.perEndpoint}::int`
      : sql`case when e.id = any(${pgArray(o.proven ?? [])}::text[]) then ${o.perEndpoint}::int else ${o.unprovenCap}::int end`;
  const result = await db.execute(sql`
    with eligible as (
      select e.id, r.rate,
             least(${cap}, case when r.rate is null then ${o.perEndpoint}::int
                  else greatest(1, floor(r.rate * ${RESERVE_AHEAD_S})::int) end) as cap
      from webhook_endpoints e
      cross join lateral (select case when e.rate_limit is null then e.effective_rate
                                      when e.effective_rate is null then e.rate_limit::float8
                                      else least(e.rate_limit::float8, e.effective_rate) end as rate) r
      where (e.status = 'disabled' or (
              e.circuit_state = 'closed'
              and (e.paused_until is null or e.paused_until <= now())
              and (r.rate is null or e.rate_next_at is null or e.rate_next_at <= now() + interval '1 second')))
        ${exclude} ${only} ${orgs}
      order by random()
    ), picked as (
      select d.id, d.endpoint_id, e.rate from eligible e
      cross join lateral (
        select d.id, d.endpoint_id from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending' and d.next_attempt_at <= now()
          and (d.locked_until is null or d.locked_until < now())
          and (d.order_key is null or not exists (
            select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key and p.status = 'pending'
              and (p.order_seq, p.id) < (d.order_seq, d.id)))
        order by d.next_attempt_at
        limit e.cap
        for update of d skip locked
      ) d
      limit ${o.limit}
    )
    ${leaseAndRead(o.leaseSeconds)}`);
  const rows = rowsOf<{ rate: number | string | null } & Record<string, unknown>>(result);
  const claimed: Claimed[] = rows.map((r) => ({ job: jobFromRow(r), sendAt: null }));
  // Reserve send slots for rate-limited endpoints: one row update per endpoint, so concurrent
  // claimers (other instances, the QStash route) queue behind each other's slots.
  const limited = new Map<string, { rate: number; items: Claimed[] }>();
  rows.forEach((r, i) => {
    if (r.rate === null) return;
    const c = claimed[i]!;
    const endpointId = c.job.delivery.endpointId;
    const g = limited.get(endpointId) ?? { rate: Number(r.rate), items: [] };
    g.items.push(c);
    limited.set(endpointId, g);
  });
  for (const [endpointId, g] of limited) {
    const start = await reserveSlots(db, endpointId, g.items.length, g.rate);
    g.items.forEach((c, i) => (c.sendAt = start + (i * 1000) / g.rate));
  }
  return claimed;
}

/** Reserves `n` send slots 1/rate apart; returns the first slot's time (ms since the epoch). */
export async function reserveSlots(db: Db, endpointId: string, n: number, rate: number): Promise<number> {
  const result = await db.execute(sql`
    update webhook_endpoints
       set rate_next_at = greatest(coalesce(rate_next_at, now()), now()) + make_interval(secs => ${n / rate}::float8)
     where id = ${endpointId}
    returning (extract(epoch from rate_next_at) * 1000)::float8 as next_ms`);
  const row = rowsOf<{ next_ms: number | string }>(result)[0];
  return row ? Number(row.next_ms) - (n * 1000) / rate : Date.now();
}

/**
 * Endpoints whose circuit cool-down has run out: this worker takes the probe (open → half open,
 * leased for PROBE_LEASE_S) and claims the endpoint's earliest pending delivery, due or not — one
 * attempt decides whether the circuit closes.
 */
export async function claimProbes(db: Db, limit: number, leaseSeconds: number, orgIds?: string[]): Promise<Claimed[]> {
  if (limit <= 0 || (orgIds && orgIds.length === 0)) return [];
  const orgs = orgIds ? sql`and org_id = any(${pgArray(orgIds)}::text[])` : sql``;
  const result = await db.execute(sql`
    with probing as (
      update webhook_endpoints set circuit_state = 'half_open', circuit_until = now() + make_interval(secs => ${PROBE_LEASE_S})
       where id in (
         select id from webhook_endpoints
          where status = 'enabled' and circuit_state <> 'closed' and circuit_until <= now() ${orgs}
          limit ${limit}
          for update skip locked)
      returning id
    ), picked as (
      select d.id, null::float8 as rate from probing e
      cross join lateral (
        select d.id from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending' and (d.locked_until is null or d.locked_until < now())
          and (d.order_key is null or not exists (
            select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key and p.status = 'pending'
              and (p.order_seq, p.id) < (d.order_seq, d.id)))
        order by d.next_attempt_at
        limit 1
        for update of d skip locked
      ) d
    )
    ${leaseAndRead(leaseSeconds)}`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({ job: jobFromRow(r), sendAt: null }));
}

/**
 * The longest an attempt can hold its delivery: with OAuth, a token request and the POST, and
 * after a 401 a second token request and POST; plus the wait for a rate-limited endpoint's send
 * slot, and a margin for writing the attempt down. Another worker may claim it only after that.
 */
export const LEASE_SECONDS = Math.ceil((2 * (TOKEN_TIMEOUT_MS + ATTEMPT_TIMEOUT_MS)) / 1000) + RESERVE_AHEAD_S + 10;

export function startWorker(db: Db, options: WorkerOptions = {}): DeliveryWorker {
  const concurrency = options.concurrency ?? 128;
  const perEndpoint = options.perEndpoint ?? 8;
  const pollMs = options.pollMs ?? 1000;
  // Longer than an attempt can take, short enough that a crashed worker's deliveries resume soon.
  const leaseSeconds = options.leaseSeconds ?? LEASE_SECONDS;
  const slowConcurrency = options.slowConcurrency ?? Math.max(4, Math.floor(concurrency / 4));
  const slowPerEndpoint = options.slowPerEndpoint ?? 2;
  const inFlightByEndpoint = new Map<string, number>();
  /** Endpoints this worker treats as slow, until when (ms): refreshed by each slow or failed attempt. */
  const slowUntil = new Map<string, number>();
  /** Endpoints that answered quickly lately: they get the full per-endpoint cap (slow start). */
  const proven = new Set<string>();
  /** Retry-After pauses this worker has seen, for attempts already claimed and waiting to go. */
  const pausedLocally = new Map<string, number>();
  /** Rate-limited endpoints: the last slot handed out and the last send made, by this worker. */
  const lastSend = new Map<string, number>();
  const lastSent = new Map<string, number>();
  const unprovenCap = Math.min(perEndpoint, 2);
  // Sockets are cheap but not free: however many endpoints hang at once, this many at most.
  const maxInFlight = options.maxInFlight ?? 8 * concurrency;
  const SLOW_MEMORY_MS = 60_000;
  let healthyInFlight = 0;
  let slowInFlight = 0;
  const isSlow = (ep: string) => {
    const until = slowUntil.get(ep);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    slowUntil.delete(ep);
    return false;
  };
  let stopped = false;
  let ticking: Promise<number> | null = null;
  let again = false;
  const running = new Set<Promise<void>>();

  // Attempts are written down in batches: one transaction for many deliveries. A delivery stays
  // "in flight" until its batch is written, so it cannot be claimed twice by this worker; if the
  // process dies first, its lease runs out and it is sent again.
  let batch: { record: AttemptRecord; done: () => void }[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  // One batch is written at a time; the next one fills meanwhile (fewer, larger transactions
  // measured faster than parallel small ones).
  let flushing = false;
  // Attempts made but not yet written down (a slot is free as soon as the receiver answers): at
  // most this many, so a database slower than the receivers holds the claims back.
  const maxUnwritten = 4 * concurrency;
  let writing = 0;
  let heldByWrites = false;
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (batch.length === 0 || flushing) return;
    const items = batch;
    batch = [];
    flushing = true;
    writing = items.length;
    // A batch that cannot be written (one attempt the database refuses) is written one attempt
    // at a time, so one bad record cannot take the rest of its batch down with it.
    const write = (part: typeof items) =>
      recordAttempts(
        db,
        part.map((i) => i.record),
      ).then(() => {
        for (const i of part) options.onAttempt?.(outcomeOf(i.record));
      });
    write(items)
      .catch(async (err) => {
        logError("webhook worker", err, { batch: items.length });
        if (items.length === 1) return;
        for (const i of items) await write([i]).catch((e) => logError("webhook worker", e, { delivery: i.record.job.delivery.id }));
      })
      .finally(() => {
        flushing = false;
        writing = 0;
        for (const i of items) i.done();
        if (batch.length) flush();
        if (heldByWrites) {
          heldByWrites = false;
          kick();
        }
      });
  };
  const record = (r: AttemptRecord) =>
    new Promise<void>((done) => {
      batch.push({ record: r, done });
      if (batch.length >= 500) flush();
      else flushTimer ??= setTimeout(flush, 5);
    });

  const run = (job: DeliveryJob, slot: number | null) => {
    let sendAt = slot;
    const ep = job.endpoint.id;
    let lane: "healthy" | "slow" | "waiting" = "waiting";
    // An attempt waiting for its rate slot holds no socket: it takes a lane's slot only when it goes.
    const enterLane = () => {
      lane = isSlow(ep) ? "slow" : "healthy";
      if (lane === "slow") slowInFlight++;
      else healthyInFlight++;
    };
    if (slot === null) enterLane();
    inFlightByEndpoint.set(ep, (inFlightByEndpoint.get(ep) ?? 0) + 1);
    let slowTimer: NodeJS.Timeout | null = null;
    // Rate-limited: never closer than 1/rate to this worker's previous send to the endpoint,
    // even when a busy event loop made the earlier one late (late sends must not bunch up).
    const rate = sendAt === null ? null : currentRate(job.endpoint);
    if (sendAt !== null && rate) {
      sendAt = Math.max(sendAt, (lastSend.get(ep) ?? 0) + 1000 / rate);
      lastSend.set(ep, sendAt);
      if (lastSend.size > 10_000) lastSend.clear();
    }
    const attempt = async () => {
      if (sendAt !== null && rate) {
        // Re-check after the timer: a late wake-up still keeps the spacing.
        for (;;) {
          const wait = sendAt - Date.now();
          if (wait <= 0) break;
          await new Promise((r) => setTimeout(r, wait));
        }
        // Claimed synchronously, so two attempts waking together cannot both take the same moment.
        const at = Math.max(Date.now(), (lastSent.get(ep) ?? 0) + 1000 / rate);
        lastSent.set(ep, at);
        if (lastSent.size > 10_000) lastSent.clear();
        if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
      }
      const wait = sendAt === null ? 0 : sendAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (lane === "waiting") enterLane();
      // The receiver asked for a pause while this one waited for its slot: hand it back unsent.
      const pausedUntil = pausedLocally.get(ep) ?? 0;
      if (pausedUntil > Date.now()) {
        await db
          .update(webhookDeliveries)
          .set({ lockedUntil: null, nextAttemptAt: new Date(pausedUntil) })
          .where(eq(webhookDeliveries.id, job.delivery.id));
        return;
      }
      // Still unanswered after SLOW_ATTEMPT_MS: the endpoint is slow, and this attempt's slot
      // goes back to the healthy lane at once.
      if (lane === "healthy") {
        slowTimer = setTimeout(() => {
          slowUntil.set(ep, Date.now() + SLOW_MEMORY_MS);
          if (lane !== "healthy") return;
          lane = "slow";
          healthyInFlight--;
          slowInFlight++;
          kick();
        }, SLOW_ATTEMPT_MS);
      }
      const r = await executeAttempt(job);
      if (slowTimer) clearTimeout(slowTimer);
      const cls = r.result ? classify(r.result.status, r.result.error) : "rejected";
      const retryAfter = backsOff(cls) ? parseRetryAfter(r.result?.headers["retry-after"]) : null;
      if (retryAfter) {
        pausedLocally.set(ep, Date.now() + retryAfter * 1000);
        if (pausedLocally.size > 10_000) pausedLocally.clear();
      }
      if (cls === "failure" || cls === "unavailable" || (r.result?.durationMs ?? 0) >= SLOW_ATTEMPT_MS) {
        slowUntil.set(ep, Date.now() + SLOW_MEMORY_MS);
        proven.delete(ep);
      } else if (cls === "success") {
        slowUntil.delete(ep);
        if (proven.size > 100_000) proven.clear();
        proven.add(ep);
      }
      // The receiver is done with it: the slot goes to the next attempt while this one waits to be
      // written down (its lease keeps any worker from claiming the delivery meanwhile).
      release();
      await record(r);
    };
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (lane === "slow") slowInFlight--;
      else if (lane === "healthy") healthyInFlight--;
      const n = (inFlightByEndpoint.get(ep) ?? 1) - 1;
      if (n <= 0) inFlightByEndpoint.delete(ep);
      else inFlightByEndpoint.set(ep, n);
      // Claim in chunks rather than one query per finished attempt.
      if (!stopped && (concurrency - healthyInFlight >= Math.max(1, concurrency / 4) || healthyInFlight + slowInFlight === 0 || lane === "slow")) kick();
    };
    const p = attempt()
      .catch((err) => logError("webhook worker", err, { delivery: job.delivery.id }))
      .finally(() => {
        release();
        running.delete(p);
      });
    running.add(p);
  };

  const start = (claimed: Claimed[]) => {
    for (const c of claimed) run(c.job, c.sendAt);
    return claimed.length;
  };

  const tick = async (): Promise<number> => {
    let started = 0;
    const orgIds = options.orgIds?.();
    // Circuit probes: one attempt each, in the slow lane.
    if (!stopped && slowConcurrency - slowInFlight > 0) {
      const probes = await claimProbes(db, slowConcurrency - slowInFlight, leaseSeconds, orgIds);
      for (const p of probes) slowUntil.set(p.job.endpoint.id, Date.now() + SLOW_MEMORY_MS);
      started += start(probes);
    }
    // The healthy lane: every endpoint not known to be slow.
    for (;;) {
      const unwritten = batch.length + writing;
      const free = Math.min(concurrency - healthyInFlight, maxInFlight - healthyInFlight - slowInFlight, maxUnwritten - unwritten);
      if (unwritten >= maxUnwritten) heldByWrites = true;
      if (stopped || free <= 0) break;
      const exclude = [...inFlightByEndpoint].filter(([id, n]) => n >= (proven.has(id) ? perEndpoint : unprovenCap) || isSlow(id)).map(([id]) => id);
      for (const id of slowUntil.keys()) if (isSlow(id) && !inFlightByEndpoint.has(id)) exclude.push(id);
      const want = Math.min(free, 200);
      const claimed = await claimDue(db, { limit: want, perEndpoint, leaseSeconds, exclude, orgIds, unprovenCap, proven: [...proven] });
      started += start(claimed);
      if (claimed.length < want) break;
    }
    // The slow lane: slow endpoints, a few attempts each, within their own budget.
    const free = slowConcurrency - slowInFlight;
    if (!stopped && free > 0) {
      const only = [...slowUntil.keys()].filter((id) => isSlow(id) && (inFlightByEndpoint.get(id) ?? 0) < slowPerEndpoint);
      if (only.length) started += start(await claimDue(db, { limit: free, perEndpoint: 1, leaseSeconds, only, orgIds }));
    }
    return started;
  };

  const kick = () => {
    if (stopped) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = tick()
      .catch((err) => {
        logError("webhook worker", err);
        return 0;
      })
      .finally(() => {
        ticking = null;
        if (again) {
          again = false;
          kick();
        }
      });
  };

  const onSignal = () => kick();
  outboxSignal.on("deliveries", onSignal);
  const timer = setInterval(kick, pollMs);
  timer.unref();
  kick();

  return {
    get inFlight() {
      return healthyInFlight + slowInFlight;
    },
    async drain() {
      let total = 0;
      for (;;) {
        const n = await tick();
        total += n;
        await Promise.all([...running]);
        if (n === 0 && running.size === 0) return total;
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      outboxSignal.off("deliveries", onSignal);
      if (ticking) await ticking;
      await Promise.all([...running]);
    },
  };
}
