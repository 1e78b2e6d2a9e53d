import "server-only";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { logError } from "@/lib/log";
import { rowsOf } from "@/lib/db-utils";
import { executeAttempt, loadJobs, outcomeOf, recordAttempts, type AttemptOutcome, type AttemptRecord } from "./deliver";
import { outboxSignal } from "./outbox";

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

export async function claimDue(db: Db, limit: number, perEndpoint: number, leaseSeconds: number, busyEndpoints: string[] = [], orgIds?: string[]): Promise<string[]> {
  if (limit <= 0 || (orgIds && orgIds.length === 0)) return [];
  const busy = busyEndpoints.length ? sql`and endpoint_id <> all(${pgArray(busyEndpoints)}::text[])` : sql``;
  const orgs = orgIds ? sql`and org_id = any(${pgArray(orgIds)}::text[])` : sql``;
  const result = await db.execute(sql`
    with candidates as (
      select id, endpoint_id, next_attempt_at from webhook_deliveries
      where status = 'pending' and next_attempt_at <= now()
        and (locked_until is null or locked_until < now()) ${busy} ${orgs}
      order by next_attempt_at
      limit ${limit * 20}
    ), due as (
      -- Round-robin across endpoints: each endpoint's oldest first, then its second, …
      select id, row_number() over (partition by endpoint_id order by next_attempt_at, id) as rn
      from candidates
    ), picked as (
      -- The candidates come from the statement's snapshot; another server may have leased or
      -- finished one of them since. Conditions on d itself are checked again on the row's
      -- current version once it is locked (a join condition alone would not be), so such a row
      -- drops out instead of being leased twice.
      select d.id from webhook_deliveries d join due on due.id = d.id
      where due.rn <= ${perEndpoint}
        and d.status = 'pending' and (d.locked_until is null or d.locked_until < now())
      order by due.rn, d.next_attempt_at
      limit ${limit}
      for update of d skip locked
    )
    update webhook_deliveries w
       set locked_until = now() + make_interval(secs => ${leaseSeconds}),
           dispatched_at = coalesce(w.dispatched_at, now())
      from picked where w.id = picked.id
        and w.status = 'pending' and (w.locked_until is null or w.locked_until < now())
    returning w.id`);
  return rowsOf<{ id: string }>(result).map((r) => r.id);
}

export function startWorker(db: Db, options: WorkerOptions = {}): DeliveryWorker {
  const concurrency = options.concurrency ?? 128;
  const perEndpoint = options.perEndpoint ?? 8;
  const pollMs = options.pollMs ?? 1000;
  // Longer than an attempt can take (15 s), short enough that a crashed worker's deliveries resume soon.
  const leaseSeconds = options.leaseSeconds ?? 30;
  const inFlightByEndpoint = new Map<string, number>();
  let inFlight = 0;
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
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (batch.length === 0 || flushing) return;
    const items = batch;
    batch = [];
    flushing = true;
    recordAttempts(db, items.map((i) => i.record))
      .then(() => {
        for (const i of items) options.onAttempt?.(outcomeOf(i.record));
      })
      .catch((err) => logError("webhook worker", err, { batch: items.length }))
      .finally(() => {
        flushing = false;
        for (const i of items) i.done();
        if (batch.length) flush();
      });
  };
  const record = (r: AttemptRecord) =>
    new Promise<void>((done) => {
      batch.push({ record: r, done });
      if (batch.length >= 200) flush();
      else flushTimer ??= setTimeout(flush, 5);
    });

  const run = (job: Awaited<ReturnType<typeof loadJobs>>[number]) => {
    const ep = job.endpoint.id;
    inFlight++;
    inFlightByEndpoint.set(ep, (inFlightByEndpoint.get(ep) ?? 0) + 1);
    const p = executeAttempt(job)
      .then(record)
      .catch((err) => logError("webhook worker", err, { delivery: job.delivery.id }))
      .finally(() => {
        inFlight--;
        const n = (inFlightByEndpoint.get(ep) ?? 1) - 1;
        if (n <= 0) inFlightByEndpoint.delete(ep);
        else inFlightByEndpoint.set(ep, n);
        running.delete(p);
        // Claim in chunks rather than one query per finished attempt.
        if (!stopped && (concurrency - inFlight >= Math.max(1, concurrency / 4) || inFlight === 0)) kick();
      });
    running.add(p);
  };

  const tick = async (): Promise<number> => {
    let started = 0;
    for (;;) {
      const free = concurrency - inFlight;
      if (stopped || free <= 0) break;
      const busy = [...inFlightByEndpoint].filter(([, n]) => n >= perEndpoint).map(([id]) => id);
      const ids = await claimDue(db, Math.min(free, 200), perEndpoint, leaseSeconds, busy, options.orgIds?.());
      if (ids.length === 0) break;
      const jobs = await loadJobs(db, ids);
      for (const job of jobs) run(job);
      started += jobs.length;
      if (ids.length < Math.min(free, 200)) break;
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
      return inFlight;
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
