import "server-only";
import { metrics } from "@/lib/ops/metrics";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { and, asc, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { importErrors, imports, organizations, type ImportJob, type Source } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, type ErrorCode } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { logError } from "@/lib/log";
import { writeAudit, type Actor } from "@/lib/audit/write";
import { applyMapping, mappingByName, parseMapping, type Mapping } from "@/lib/mapping/mapping";
import { planBatch, type MatchOptions } from "./match";
import { isRecordType, registry, schemasFor, type RecordType } from "@/lib/records/registry";
import { writeRecords, type WriteOp } from "@/lib/records/pipeline";
import { pgErrorCode } from "@/lib/db-utils";
import { countRows, formatOf, readRows, type FileFormat } from "./readers";
import { cellProblem, rowProblem } from "./messages";
import { emitOperationalEvent } from "@/lib/webhooks/operational";
import { ShutdownError, shuttingDown } from "@/lib/ops/lifecycle";

/**
 * File import: the upload is streamed to disk, then read row by row and written in batches of
 * 1,000 through the pipeline's batch path — each record with its audit row and webhooks. Each
 * batch and the import's progress commit together, so an interrupted import resumes exactly
 * where it stopped.
 */

export const IMPORT_MAX_BYTES = 100 * 1024 * 1024;
/** Bytes of uploads one organization may have waiting (drafts, pending and running imports). */
export const PENDING_UPLOAD_BYTES_PER_ORG = 300 * 1024 * 1024;
/** A draft nobody started is deleted, with its file, after this long. */
export const DRAFT_TTL_HOURS = 24;
/** Finished imports, with their error rows, are kept this long. */
export const FINISHED_IMPORT_RETENTION_DAYS = 30;
const BATCH = 1000;
/** A batch is also written once its cells hold this much text: rows can be up to 1 MB each. */
const BATCH_MAX_CHARS = 16 * 1024 * 1024;

function cellChars(values: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(values)) if (typeof v === "string") n += v.length;
  return n;
}

export const uploadsDir = () => path.join(process.cwd(), ".data", "imports");
export const fileOf = (job: Pick<ImportJob, "id" | "format">) => path.join(uploadsDir(), `${job.id}.${job.format}`);

export interface ImportContext {
  orgId: string;
  actor: Actor;
  source: Source;
  userId?: string | null;
  keyId?: string | null;
}

/** Streams an upload to a temporary file under the uploads folder, refusing oversized files. */
export async function saveUpload(file: Readable): Promise<{ path: string; size: number }> {
  fs.mkdirSync(uploadsDir(), { recursive: true });
  const tmp = path.join(uploadsDir(), `upload-${newId("imp")}.tmp`);
  let size = 0;
  file.on("data", (c: Buffer) => {
    size += c.length;
    if (size > IMPORT_MAX_BYTES) file.destroy(new AppError("payload_too_large", `Files up to ${IMPORT_MAX_BYTES / 1024 / 1024} MB can be imported.`));
  });
  try {
    await pipeline(file, fs.createWriteStream(tmp));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return { path: tmp, size };
}

/** The upload's type, format and mapping, checked before anything is written. */
export function checkImportInput(input: { size: number; filename: string; type: string; mapping?: unknown }): {
  type: RecordType;
  format: FileFormat;
  mapping: Mapping | null;
} {
  if (!isRecordType(input.type))
    throw new AppError("validation_failed", "Unknown record type.", [{ path: "type", message: `must be one of: ${Object.keys(registry).join(", ")}` }]);
  const format = formatOf(input.filename);
  if (!format) throw new AppError("unsupported_media_type", "Upload a .csv or .xlsx file.");
  if (input.size === 0) throw new AppError("validation_failed", "The file is empty.", [{ path: "file", message: "is empty" }]);
  const mapping = input.mapping !== undefined && input.mapping !== null && input.mapping !== "" ? parseMapping(input.mapping) : null;
  if (mapping && mapping.target !== input.type)
    throw new AppError("validation_failed", "The mapping's target must be the import's type.", [{ path: "mapping.target", message: `must be ${input.type}` }]);
  return { type: input.type, format, mapping };
}

/** Records an import for a saved upload; the caller starts it with `startImport`. */
export async function createImport(
  db: Db,
  ctx: ImportContext,
  input: { uploadPath: string; size: number; filename: string; type: string; mapping?: unknown; draft?: boolean; match?: MatchOptions | null },
): Promise<ImportJob> {
  try {
    const { format, mapping } = checkImportInput(input);
    const id = newId("imp");
    const kept = fileOf({ id, format });
    // One transaction, the organization's row locked: concurrent uploads are counted against the
    // cap one after the other, and the import row and its audit entry commit together.
    return await db.transaction(async (tx) => {
      await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
      const [waiting] = await tx
        .select({ bytes: sql<number>`coalesce(sum(${imports.sizeBytes}), 0)::bigint` })
        .from(imports)
        .where(and(eq(imports.orgId, ctx.orgId), inArray(imports.status, ["draft", "pending", "running"])));
      if (Number(waiting?.bytes ?? 0) + input.size > PENDING_UPLOAD_BYTES_PER_ORG)
        throw new AppError(
          "payload_too_large",
          `This organization's uploads waiting to be imported would exceed ${PENDING_UPLOAD_BYTES_PER_ORG / 1024 / 1024} MB; wait for them to finish or discard drafts first.`,
        );
      const [job] = await tx
        .insert(imports)
        .values({
          id,
          orgId: ctx.orgId,
          recordType: input.type,
          filename: input.filename.slice(0, 255),
          format,
          mapping,
          matchOn: input.match?.on ?? null,
          onMatch: input.match?.policy ?? null,
          status: input.draft ? "draft" : "pending",
          sizeBytes: input.size,
          createdByUserId: ctx.userId ?? null,
          createdByKeyId: ctx.keyId ?? null,
        })
        .returning();
      await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
        { action: "import.created", targetType: "import", targetId: id, after: { filename: job!.filename, type: input.type } },
      ]);
      // The file moves last: if anything above failed, nothing is left behind.
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      try {
        fs.renameSync(input.uploadPath, kept);
      } catch (err) {
        // The upload may sit on another filesystem (a temp directory): copy it instead.
        if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
        fs.copyFileSync(input.uploadPath, kept);
      }
      return job!;
    });
  } finally {
    fs.rmSync(input.uploadPath, { force: true });
  }
}

export async function getImport(db: Db, orgId: string, id: string): Promise<ImportJob> {
  const [job] = await db
    .select()
    .from(imports)
    .where(and(eq(imports.orgId, orgId), eq(imports.id, id)));
  if (!job) throw new AppError("not_found", `No import with id ${id}.`);
  return job;
}

export async function listImports(db: Db, orgId: string, limit = 20) {
  return db.select().from(imports).where(eq(imports.orgId, orgId)).orderBy(desc(imports.createdAt)).limit(limit);
}

export function importView(j: ImportJob) {
  return {
    id: j.id,
    object: "import" as const,
    type: j.recordType,
    filename: j.filename,
    status: j.status,
    total: j.total,
    processed: j.processed,
    created: j.created,
    updated: j.updated,
    failed: j.failed,
    skipped: j.skipped,
    match_on: j.matchOn,
    on_match: j.onMatch,
    undo: j.undoReport,
    error: j.error,
    error_code: j.errorCode,
    created_at: j.createdAt.toISOString(),
    finished_at: j.finishedAt?.toISOString() ?? null,
  };
}

/**
 * A row as jsonb can hold it. JSON.stringify escapes NUL as \u0000 and writes only lone
 * surrogates as \udXXX escapes (pairs stay raw), so both are easy to find in its output.
 */
/** A failed row keeps at most this much of each cell: enough to find it, not a copy of a hostile file. */
export const ERROR_CELL_MAX_CHARS = 1_000;

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

/** A draft (uploaded in settings) gets its final mapping and starts. */
export async function confirmDraft(
  db: Db,
  orgId: string,
  id: string,
  mappingInput: unknown,
  match: MatchOptions | null = null,
  options: { countsAsLeads?: boolean } = {},
): Promise<ImportJob> {
  const job = await getImport(db, orgId, id);
  if (job.status !== "draft") throw new AppError("conflict", "This import has already started.");
  const mapping = parseMapping(mappingInput);
  if (mapping.target !== job.recordType)
    throw new AppError("validation_failed", "The mapping's target must be the import's type.", [
      { path: "mapping.target", message: `must be ${job.recordType}` },
    ]);
  const [updated] = await db
    .update(imports)
    .set({ mapping, status: "pending", matchOn: match?.on ?? null, onMatch: match?.policy ?? null, countsAsLeads: options.countsAsLeads ?? false })
    .where(and(eq(imports.id, id), eq(imports.status, "draft")))
    .returning();
  if (!updated) throw new AppError("conflict", "This import has already started.");
  return updated;
}

/**
 * The preview of a draft with a given mapping (the file stays on disk until the import runs). A
 * file that breaks a limit fails the draft and is deleted at once.
 */
export async function previewDraft(db: Db, orgId: string, id: string, mappingInput?: unknown) {
  const job = await getImport(db, orgId, id);
  const file = fileOf(job);
  if (!fs.existsSync(file)) throw new AppError("not_found", "The uploaded file is no longer available; upload it again.");
  try {
    return await previewFile(file, job.format as FileFormat, job.recordType as RecordType, mappingInput);
  } catch (err) {
    if (err instanceof AppError && err.code === "import_file_rejected") {
      await db
        .update(imports)
        .set({ status: "failed", error: err.message, errorCode: err.code, finishedAt: new Date() })
        .where(and(eq(imports.id, id), eq(imports.status, "draft")));
      fs.rmSync(file, { force: true });
    }
    throw err;
  }
}

/**
 * Import housekeeping, run with retention: drafts nobody started are deleted after a day,
 * finished imports (and their error rows) after 30 days, and upload files that no waiting
 * import owns — left by a crash mid-upload, or by an import that ended — are removed.
 */
export async function importRetention(db: Db): Promise<{ drafts: number; finished: number; files: number }> {
  const drafts = await db
    .delete(imports)
    .where(and(eq(imports.status, "draft"), lt(imports.createdAt, new Date(Date.now() - DRAFT_TTL_HOURS * 3600_000))))
    .returning({ id: imports.id });
  const finished = await db
    .delete(imports)
    .where(
      and(
        inArray(imports.status, ["completed", "failed", "undone"]),
        lt(imports.finishedAt, new Date(Date.now() - FINISHED_IMPORT_RETENTION_DAYS * 86_400_000)),
      ),
    )
    .returning({ id: imports.id });
  let files = 0;
  const dir = uploadsDir();
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const ids = names.map((n) => /^(imp_[A-Za-z0-9]+)\.(csv|xlsx)$/.exec(n)?.[1]).filter((id): id is string => Boolean(id));
  const live = new Set(
    ids.length
      ? (
          await db
            .select({ id: imports.id })
            .from(imports)
            .where(and(inArray(imports.id, ids), inArray(imports.status, ["draft", "pending", "running"])))
        ).map((r) => r.id)
      : [],
  );
  for (const name of names) {
    const file = path.join(dir, name);
    const id = /^(imp_[A-Za-z0-9]+)\.(csv|xlsx)$/.exec(name)?.[1];
    // Anything younger than an hour may be an upload still being written or recorded.
    const old = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (old < Date.now() - 3600_000 && (id ? !live.has(id) : true)) {
      fs.rmSync(file, { force: true });
      files++;
    }
  }
  return { drafts: drafts.length, finished: finished.length, files };
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

/** The failed rows, for the errors.csv download: line, reason, then the row's own columns. */
export async function* errorRows(db: Db, orgId: string, id: string): AsyncGenerator<{ line: number; reason: string; row: [string, unknown][] | null }> {
  await getImport(db, orgId, id);
  let after = 0;
  for (;;) {
    const page = await db
      .select()
      .from(importErrors)
      .where(and(eq(importErrors.importId, id), sql`${importErrors.line} > ${after}`))
      .orderBy(asc(importErrors.line))
      .limit(1000);
    for (const e of page) yield e;
    if (page.length < 1000) return;
    after = page[page.length - 1]!.line;
  }
}

/**
 * The first rows as they will be imported, with each cell's validation error — what the
 * settings page shows before an import starts.
 */
export async function previewFile(filePath: string, format: FileFormat, type: RecordType, mappingInput?: unknown, limit = 20) {
  let mapping = mappingInput ? parseMapping(mappingInput) : null;
  let headers: string[] = [];
  const rows: { line: number; data: Record<string, unknown>; errors: { path: string; message: string }[] }[] = [];
  const schema = schemasFor(registry[type]);
  for await (const row of readRows(filePath, format)) {
    headers = row.headers;
    mapping ??= mappingByName(type, row.headers);
    const m = applyMapping(mapping, row.values);
    const parsed = (m.externalId ? schema.update : schema.create).safeParse(m.data);
    rows.push({
      line: row.line,
      data: m.data,
      errors: parsed.success
        ? []
        : parsed.error.issues.map((i) => ({ path: i.path.join("."), message: cellProblem(type, i.path.join("."), m.data[i.path.join(".")], i.message) })),
    });
    if (rows.length >= limit) break;
  }
  return { headers, mapping: mapping ?? { target: type, fields: {} }, rows };
}
