import "server-only";
import fs from "node:fs";
import type { Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { parseMapping, type Mapping } from "@/lib/mapping/mapping";
import type { RecordType } from "@/lib/records/registry";
import { countRows, type FileFormat } from "./readers";
import { checkImportInput, getImport } from "./imports";
import { fileOf } from "./files";
import { fileBatches } from "./runner";
import { emptyPreview, planBatch, previewBatch, type MatchOptions } from "./match";

/**
 * A dry run of an import: the file read, mapped, matched and validated batch by batch exactly as
 * the import would, counting what it would create, update, leave unchanged, skip and refuse —
 * with examples of each. Nothing is written.
 */
async function dryRunFile(db: Db, orgId: string, file: string, format: FileFormat, type: RecordType, mapping: Mapping | null, match: MatchOptions | null) {
  // Every limit of the file is checked before the rows are looked at (as the import does).
  const total = await countRows(file, format);
  const counts = emptyPreview();
  for await (const batch of fileBatches(file, format, type, mapping)) {
    const planned = await planBatch(
      db,
      orgId,
      type,
      batch.mapping,
      batch.rows.map((r) => r.values),
      match,
    );
    await previewBatch(
      db,
      orgId,
      type,
      planned,
      batch.rows.map((r) => r.line),
      counts,
    );
  }
  return { object: "import_preview" as const, type, total, match_on: match?.on ?? null, on_match: match?.policy ?? null, ...counts };
}

/** `dry_run=true` on the API: the upload is not kept. */
export async function dryRunImport(
  db: Db,
  orgId: string,
  input: { uploadPath: string; size: number; filename: string; type: string; mapping?: unknown; match: MatchOptions | null },
) {
  const { type, format, mapping } = checkImportInput(input);
  return dryRunFile(db, orgId, input.uploadPath, format, type, mapping, input.match);
}

/** The import wizard's dry run of a draft, with the mapping and match options on screen. */
export async function dryRunDraft(db: Db, orgId: string, id: string, mappingInput: unknown, match: MatchOptions | null) {
  const job = await getImport(db, orgId, id);
  if (job.status !== "draft") throw new AppError("conflict", "This import has already started.");
  const file = fileOf(job);
  if (!fs.existsSync(file)) throw new AppError("not_found", "The uploaded file is no longer available; upload it again.");
  return dryRunFile(db, orgId, file, job.format as FileFormat, job.recordType as RecordType, parseMapping(mappingInput), match);
}
