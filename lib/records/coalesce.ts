import "server-only";
import type { RecordType } from "./registry";
import type { ApiRecord } from "./serialize";
import { createRecord, writeRecords, type WriteContext } from "./pipeline";

/**
 * Group commit for single writes that arrive concurrently from the same writer (lead capture under
 * load): instead of one transaction per write, the writes queued while earlier ones are being
 * written are handed to `run` together, as one batch. Every record still gets its own audit row,
 * notifications and outbox events in the transaction that writes it.
 *
 * No timer: a write that finds a free slot is started at the end of the current event-loop turn,
 * with whatever else arrived in that turn; only while `MAX_IN_FLIGHT` batches of the same writer
 * are being written do later ones wait, and the next batch takes all of them. So an idle server
 * adds no latency.
 *
 * If a whole batch fails (a database error, or the exact plan-limit re-check refusing the batch
 * as a whole), each of its items is retried on its own with `single`, so one item's failure never
 * becomes another's.
 */

const MAX_IN_FLIGHT = 2;
const MAX_BATCH = 100;

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Waiter {
  item: unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Lane {
  run(items: unknown[]): Promise<Settled<unknown>[]>;
  single(item: unknown): Promise<unknown>;
  queue: Waiter[];
  inFlight: number;
  /** A drain is about to start (at the end of this event-loop turn). */
  starting: boolean;
}

const holder = globalThis as unknown as { __smarfleCoalesce?: Map<string, Lane> };
const lanes = (holder.__smarfleCoalesce ??= new Map());

/** Writes `item` in a batch with the other items of the same `key` that arrive meanwhile. */
export function coalesce<T, R>(key: string, item: T, run: (items: T[]) => Promise<Settled<R>[]>, single: (item: T) => Promise<R>): Promise<R> {
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { run: run as Lane["run"], single: single as Lane["single"], queue: [], inFlight: 0, starting: false }));
  const l = lane;
  return new Promise<R>((resolve, reject) => {
    l.queue.push({ item, resolve: resolve as (v: unknown) => void, reject });
    if (l.inFlight < MAX_IN_FLIGHT && !l.starting) {
      // Start at the end of this turn of the event loop, so that the writes that arrive in the
      // same turn (several requests read from the network at once) share the batch instead of
      // the first one going alone.
      l.starting = true;
      setImmediate(() => {
        l.starting = false;
        void drain(key, l);
      });
    }
  });
}

async function drain(key: string, lane: Lane): Promise<void> {
  lane.inFlight++;
  try {
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, MAX_BATCH);
      await writeBatch(lane, batch);
    }
  } finally {
    lane.inFlight--;
    if (lane.inFlight === 0 && lane.queue.length === 0 && !lane.starting) lanes.delete(key);
  }
}

async function writeBatch(lane: Lane, batch: Waiter[]): Promise<void> {
  if (batch.length === 1) {
    const [w] = batch;
    await lane.single(w!.item).then(w!.resolve, w!.reject);
    return;
  }
  let results: Settled<unknown>[];
  try {
    results = await lane.run(batch.map((w) => w.item));
  } catch {
    // The batch as a whole failed: give every item its own attempt.
    await Promise.all(batch.map((w) => lane.single(w.item).then(w.resolve, w.reject)));
    return;
  }
  results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.error)));
}

export function createRecordCoalesced(ctx: WriteContext, type: RecordType, data: unknown): Promise<ApiRecord> {
  const key = JSON.stringify(["create", ctx.orgId, ctx.source, ctx.actor.type, ctx.actor.id, ctx.actor.label ?? null, type]);
  return coalesce(
    key,
    data,
    async (items) =>
      (
        await writeRecords(
          ctx,
          type,
          items.map((d) => ({ kind: "create" as const, data: d })),
          { notifyEach: true },
        )
      ).map((r) => (r.ok ? { ok: true as const, value: r.record } : { ok: false as const, error: r.error })),
    (d) => createRecord(ctx, type, d),
  );
}
