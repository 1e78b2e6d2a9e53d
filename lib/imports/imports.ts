import "server-only";
import fs from "node:fs";
import path from "node:path";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { importErrors, imports, organizations, type ImportJob, type Source } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { writeAudit, type Actor } from "@/lib/audit/write";
import { applyMapping, mappingByName, parseMapping, type Mapping } from "@/lib/mapping/mapping";
import { type MatchOptions } from "./match";
import { isRecordType, registry, schemasFor, type RecordType } from "@/lib/records/registry";
import { formatOf, readRows, type FileFormat } from "./readers";
import { cellProblem } from "./messages";
import { fileOf, uploadsDir } from "./files";

/**
 * File import, before and around its run: the upload is streamed to disk and checked, the import
 * recorded (a draft waits for its mapping), its first rows previewed, its failed rows read back.
 * The run itself — batches through the pipeline, each committed with the import's progress so an
 * interrupted import resumes where it stopped — is runner.ts.
 */

export const IMPORT_MAX_BYTES = 100 * 1024 * 1024;
/** Bytes of uploads one organization may have waiting (drafts, pending and running imports). */
export const PENDING_UPLOAD_BYTES_PER_ORG = 300 * 1024 * 1024;

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
  const out = fs.createWriteStream(tmp);
  try {
    await pipeline(file, out);
  } catch (err) {
    // The pipeline fails as soon as the upload does, and may do so before the file has even been
    // opened: deleted then, it would be created again, empty, by the open still under way. So
    // the file goes only once its stream is closed.
    if (!out.closed) await once(out, "close").catch(() => {});
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
