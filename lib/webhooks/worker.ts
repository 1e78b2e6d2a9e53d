import "server-only";
import { eq } from "drizzle-orm";
import { webhookDeliveries } from "@/db/schema";
import type { Db } from "@/db/client";
import { logError } from "@/lib/log";
import { executeAttempt, outcomeOf, type AttemptOutcome, type AttemptRecord, type DeliveryJob } from "./deliver";
import { recordAttempts } from "./attempt-writer";
import { LEASE_SECONDS, claimDue, claimProbes, type Claimed } from "./claim";
import { outboxSignal } from "./outbox";
import { SLOW_ATTEMPT_MS, backsOff, classify, currentRate } from "./controls";
import { parseRetryAfter } from "./schedule";

/**
 * The local delivery worker: runs in every app instance. It claims due deliveries (claim.ts:
 * leases taken with FOR UPDATE SKIP LOCKED, so instances share the work), round-robin across endpoints so one
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
