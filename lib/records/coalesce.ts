import "server-only";
import type { RecordType } from "./registry";
import type { ApiRecord } from "./serialize";
import { createRecord, writeRecords, type WriteContext } from "./pipeline";

/**
 * Group commit for single-record creates that arrive concurrently from the same writer (lead
 * capture under load): instead of one transaction per record, the creates queued while earlier
 * ones are being written go through `writeRecords` together, as one batch in one transaction.
 * Every record still gets its own audit row, notifications and outbox events in the transaction
 * that writes it, and the plan limit is applied by the pipeline as for any batch (exactly near
 * the limit).
 *
 * No timer: a create that finds a free slot is written at the end of the current event-loop turn,
 * with whatever else arrived in that turn; only while `MAX_IN_FLIGHT` batches of the same writer
 * are being written do later ones wait, and the next batch takes all of them. So an idle server
 * adds no latency.
 *
 * If a whole batch fails (a database error, or the exact plan-limit re-check refusing the batch
 * as a whole), each of its records is retried on its own, so one record's failure never becomes
 * another's: the outcome per record is the one a lone `createRecord` would have had.
 */

const MAX_IN_FLIGHT = 2;
const MAX_BATCH = 100;

interface Waiter {
  data: unknown;
  resolve(record: ApiRecord): void;
  reject(err: unknown): void;
}

interface Lane {
  ctx: WriteContext;
  type: RecordType;
  queue: Waiter[];
  inFlight: number;
  /** A drain is about to start (at the end of this event-loop turn). */
  starting: boolean;
}

const holder = globalThis as unknown as { __smarfleCoalesce?: Map<string, Lane> };
const lanes = (holder.__smarfleCoalesce ??= new Map());

export function createRecordCoalesced(ctx: WriteContext, type: RecordType, data: unknown): Promise<ApiRecord> {
  const key = JSON.stringify([ctx.orgId, ctx.source, ctx.actor.type, ctx.actor.id, ctx.actor.label ?? null, type]);
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { ctx, type, queue: [], inFlight: 0, starting: false }));
  const l = lane;
  return new Promise<ApiRecord>((resolve, reject) => {
    l.queue.push({ data, resolve, reject });
    if (l.inFlight < MAX_IN_FLIGHT && !l.starting) {
      // Start at the end of this turn of the event loop, so that the creates that arrive in the
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
    await createRecord(lane.ctx, lane.type, w!.data).then(w!.resolve, w!.reject);
    return;
  }
  let results;
  try {
    results = await writeRecords(
      lane.ctx,
      lane.type,
      batch.map((w) => ({ kind: "create" as const, data: w.data })),
      { notifyEach: true },
    );
  } catch {
    // The batch as a whole failed: give every record its own attempt.
    await Promise.all(batch.map((w) => createRecord(lane.ctx, lane.type, w.data).then(w.resolve, w.reject)));
    return;
  }
  results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.record) : batch[i]!.reject(r.error)));
}
