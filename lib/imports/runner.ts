import "server-only";
import { metrics } from "@/lib/ops/metrics";
import fs from "node:fs";
import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { importErrors, imports, type ImportJob } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, type ErrorCode } from "@/lib/errors";
import { logError } from "@/lib/log";
import { writeAudit } from "@/lib/audit/write";
import { mappingByName, parseMapping, type Mapping } from "@/lib/mapping/mapping";
import { planBatch, type MatchOptions } from "./match";
import { type RecordType } from "@/lib/records/registry";
import { writeRecords, type WriteOp } from "@/lib/records/pipeline";
import { pgErrorCode } from "@/lib/db-utils";
import { countRows, readRows, type FileFormat } from "./readers";
import { rowProblem } from "./messages";
import { emitOperationalEvent } from "@/lib/webhooks/operational";
import { ShutdownError, shuttingDown } from "@/lib/ops/lifecycle";
import { fileOf } from "./files";

/**
 * Running imports: a queue per server (an organization's imports one at a time, at most
 * MAX_RUNNING_IMPORTS at once), each import read from its file in batches of 1,000 rows and written
 * through the pipeline's batch path, each batch committed with the import's progress so an
 * interrupted import resumes exactly where it stopped; a heartbeat tells live imports from
 * interrupted ones.
 */

const BATCH = 1000;
/** A batch is also written once its cells hold this much text: rows can be up to 1 MB each. */
const BATCH_MAX_CHARS = 16 * 1024 * 1024;

function cellChars(values: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(values)) if (typeof v === "string") n += v.length;
  return n;
}

/** A failed row keeps at most this much of each cell: enough to find it, not a copy of a hostile file. */
export const ERROR_CELL_MAX_CHARS = 1_000;

/**
 * A row as jsonb can hold it, each cell cut to ERROR_CELL_MAX_CHARS. JSON.stringify escapes NUL as
 * \u0000 and writes only lone surrogates as \udXXX escapes (pairs stay raw), so both are easy to
 * find in its output.
 */
function storable(values: Record<string, unknown>): Record<string, unknown> {
  const cut = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, typeof v === "string" && v.length > ERROR_CELL_MAX_CHARS ? `${v.slice(0, ERROR_CELL_MAX_CHARS)}…` : v]),
  );
  return JSON.parse(
    JSON.stringify(cut)
      .replace(/\\u0000/g, "")
      .replace(/\\ud[89a-f][0-9a-f]{2}/gi, "\\ufffd"),
  );
}

function describe(err: AppError): string {
  const details = err.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
  return details ? `${err.message} ${details}` : err.message;
}

/** A running import whose server has not reported for this long was interrupted, and may be resumed. */
export const IMPORT_STALE_AFTER_MS = 2 * 60_000;
const HEARTBEAT_MS = 20_000;
/** Import runs at once in one server (each also holds a parser process). */
export const MAX_RUNNING_IMPORTS = 2;
/** Runs an import may start: one interrupted this many times is failed rather than resumed. */
export const MAX_IMPORT_ATTEMPTS = 2;

const running = new Set<string>();
/** Imports asked to run in this process, oldest first; each waits for its organization's turn. */
const queue: string[] = [];
const waiters = new Map<string, (() => void)[]>();
let pumping: Promise<void> | null = null;
let pumpAgain = false;

/**
 * Runs an import in the background of this process (resuming where it stopped, if it had
 * started) once its organization has no other import running and a slot is free. Resolves when
 * the import has finished, or cannot run.
 */
export function startImport(db: Db, id: string): Promise<void> {
  return new Promise<void>((resolve) => {
    waiters.set(id, [...(waiters.get(id) ?? []), resolve]);
    if (!queue.includes(id) && !running.has(id)) queue.push(id);
    void pump(db);
  });
}

function settle(id: string) {
  for (const resolve of waiters.get(id) ?? []) resolve();
  waiters.delete(id);
}

/** Waits until this server runs no import (graceful shutdown, tests). */
export async function importsSettled(): Promise<void> {
  while (running.size > 0) await new Promise((r) => setTimeout(r, 50));
}

function pump(db: Db): Promise<void> {
  if (shuttingDown()) return Promise.resolve();
  if (pumping) {
    pumpAgain = true;
    return pumping;
  }
  pumping = (async () => {
    do {
      pumpAgain = false;
      for (const id of [...queue]) {
        if (running.size >= MAX_RUNNING_IMPORTS) break;
        const claim = await claimImport(db, id).catch((err) => {
          logError("import", err, { import: id });
          return "gone" as const;
        });
        if (claim === "busy") continue;
        queue.splice(queue.indexOf(id), 1);
        if (claim === "gone") {
          settle(id);
          continue;
        }
        running.add(id);
        void runImport(db, claim)
          .catch((err) => logError("import", err, { import: id }))
          .finally(() => {
            running.delete(id);
            settle(id);
            void pump(db);
          });
      }
    } while (pumpAgain);
  })().finally(() => (pumping = null));
  return pumping;
}

/**
 * Marks an import running, counting the attempt. The partial unique index on running imports
 * makes this fail while another import of the organization runs (here or on another server).
 */
async function claimImport(db: Db, id: string): Promise<ImportJob | "busy" | "gone"> {
  try {
    const stale = new Date(Date.now() - IMPORT_STALE_AFTER_MS);
    const [job] = await db
      .update(imports)
      .set({ status: "running", attempts: sql`${imports.attempts} + 1`, heartbeatAt: new Date() })
      .where(
        and(
          eq(imports.id, id),
          or(eq(imports.status, "pending"), and(eq(imports.status, "running"), or(isNull(imports.heartbeatAt), lt(imports.heartbeatAt, stale)))),
        ),
      )
      .returning();
    return job ?? "gone";
  } catch (err) {
    if (pgErrorCode(err) === "23505") return "busy";
    throw err;
  }
}

async function runImport(db: Db, job: ImportJob): Promise<void> {
  const id = job.id;
  const file = fileOf(job);
  const fail = async (code: ErrorCode, message: string) => {
    await db.update(imports).set({ status: "failed", error: message, errorCode: code, finishedAt: new Date() }).where(eq(imports.id, id));
    fs.rmSync(file, { force: true });
  };
  if (job.attempts > MAX_IMPORT_ATTEMPTS)
    return fail(
      "internal_error",
      `This import was interrupted ${MAX_IMPORT_ATTEMPTS} times (the server stopped while it ran), so it is not resumed again; upload the file again to retry.`,
    );
  if (!fs.existsSync(file)) return fail("not_found", "The uploaded file is no longer available; upload it again.");
  const type = job.recordType as RecordType;
  const format = job.format as FileFormat;
  const ctx = { orgId: job.orgId, actor: { type: "import" as const, id: job.id, label: job.filename }, source: "import" as const };
  const heartbeat = setInterval(() => {
    db.update(imports)
      .set({ heartbeatAt: new Date() })
      .where(and(eq(imports.id, id), eq(imports.status, "running")))
      .catch((err: unknown) => logError("import", err, { import: id }));
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    // Pass 1: count rows for the progress bar, checking every limit of the file before any write.
    if (job.processed === 0) {
      const total = await countRows(file, format);
      await db.update(imports).set({ total }).where(eq(imports.id, id));
    }
    // Pass 2: write in batches, skipping what an earlier run of this import already committed.
    const match = job.matchOn ? { on: job.matchOn, policy: job.onMatch ?? "update" } : null;
    for await (const batch of fileBatches(file, format, type, job.mapping ? parseMapping(job.mapping) : null, job.processed)) {
      await writeBatch(db, job, type, batch.mapping, batch.rows, ctx, match);
      // A shutdown stops between two committed batches; the import is handed back (below).
      if (shuttingDown()) throw new ShutdownError();
    }
    const [done] = await db.update(imports).set({ status: "completed", finishedAt: new Date() }).where(eq(imports.id, id)).returning();
    await writeAudit(db, job.orgId, ctx.actor, "import", [
      { action: "import.completed", targetType: "import", targetId: id, after: { created: done!.created, updated: done!.updated, failed: done!.failed } },
    ]);
    await emitOperationalEvent(db, job.orgId, "import.completed", {
      id,
      file_name: done!.filename,
      record_type: done!.recordType,
      total: done!.total,
      created: done!.created,
      updated: done!.updated,
      failed: done!.failed,
      link: `settings/imports/${id}`,
    });
    fs.rmSync(file, { force: true });
  } catch (err) {
    if (err instanceof ShutdownError) {
      // Not an interruption that counts: another server (or this one, restarted) carries on from
      // the last committed batch at once.
      await db
        .update(imports)
        .set({ status: "pending", heartbeatAt: null, attempts: sql`greatest(${imports.attempts} - 1, 0)` })
        .where(eq(imports.id, id));
    } else if (err instanceof AppError) await fail(err.code, describe(err));
    else {
      await fail("internal_error", `The file could not be read: ${(err as Error).message}`);
      logError("import", err, { import: id });
    }
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * The file's rows in the batches an import writes them in (1,000 rows, or fewer when their cells
 * hold much text), after skipping `skip` rows already committed; without a mapping, columns
 * match fields by name.
 */
export async function* fileBatches(file: string, format: FileFormat, type: RecordType, mapping: Mapping | null, skip = 0) {
  let batch: ImportRow[] = [];
  let batchChars = 0;
  for await (const row of readRows(file, format)) {
    mapping ??= mappingByName(type, row.headers);
    if (skip > 0) {
      skip--;
      continue;
    }
    batch.push({ line: row.line, values: row.values });
    batchChars += cellChars(row.values);
    if (batch.length >= BATCH || batchChars >= BATCH_MAX_CHARS) {
      yield { mapping, rows: batch };
      batch = [];
      batchChars = 0;
    }
  }
  if (batch.length) yield { mapping: mapping!, rows: batch };
}

type ImportRow = { line: number; values: Record<string, unknown> };
const dataOf = (op: WriteOp) => ("data" in op ? (op.data as Record<string, unknown>) : {});

async function writeBatch(
  db: Db,
  job: Pick<ImportJob, "id" | "countsAsLeads">,
  type: RecordType,
  mapping: Mapping,
  rows: ImportRow[],
  ctx: { orgId: string; actor: { type: "import"; id: string; label: string }; source: "import" },
  match: MatchOptions | null,
) {
  const importId = job.id;
  const counts = await db.transaction(async (tx) => {
    const planned = await planBatch(
      tx,
      ctx.orgId,
      type,
      mapping,
      rows.map((r) => r.values),
      match,
    );
    const toWrite = planned.map((p, i) => ("op" in p ? i : -1)).filter((i) => i >= 0);
    const written = await writeRecords(
      ctx,
      type,
      toWrite.map((i) => (planned[i] as { op: WriteOp }).op),
      { db: tx, silent: !job.countsAsLeads },
    );
    const results = toWrite.map((i, n) => ({ row: rows[i]!, data: dataOf((planned[i] as { op: WriteOp }).op), result: written[n]! }));
    const skipped = rows.length - toWrite.length;
    const errors = results
      .map(({ row, data, result: r }) =>
        r.ok ? null : { importId, line: row.line, reason: rowProblem(type, row.line, data, r.error), row: Object.entries(storable(row.values)) },
      )
      .filter((e): e is NonNullable<typeof e> => e !== null);
    if (errors.length) await tx.insert(importErrors).values(errors);
    const created = results.filter(({ result: r }) => r.ok && r.outcome === "created").length;
    const updated = results.filter(({ result: r }) => r.ok && r.outcome === "updated").length;
    await tx
      .update(imports)
      .set({
        processed: sql`${imports.processed} + ${rows.length}`,
        created: sql`${imports.created} + ${created}`,
        updated: sql`${imports.updated} + ${updated}`,
        failed: sql`${imports.failed} + ${errors.length}`,
        skipped: sql`${imports.skipped} + ${skipped}`,
      })
      .where(eq(imports.id, importId));
    return { created, updated, failed: errors.length, skipped, unchanged: rows.length - created - updated - errors.length - skipped };
  });
  const m = metrics();
  for (const [outcome, n] of Object.entries(counts)) if (n > 0) m.importRows.inc({ outcome }, n);
}

/**
 * Imports waiting for their turn, or interrupted when a server stopped: picked up at start-up and
 * then every minute (a running import whose heartbeat is fresh belongs to a live server and is left alone).
 */
export async function resumeImports(db: Db): Promise<number> {
  const open = await db
    .select({ id: imports.id, format: imports.format })
    .from(imports)
    .where(inArray(imports.status, ["pending", "running"]));
  const here = open.filter((j) => fs.existsSync(fileOf(j)));
  for (const j of here) void startImport(db, j.id);
  return here.length;
}
