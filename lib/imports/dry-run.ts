import "server-only";
import type { Db } from "@/db/client";
import { countRows } from "./readers";
import { checkImportInput, fileBatches } from "./imports";
import { emptyPreview, planBatch, previewBatch, type MatchOptions } from "./match";

/**
 * A dry run of an import: the uploaded file read, mapped, matched and validated batch by batch
 * exactly as the import would, counting what it would create, update, leave unchanged, skip and
 * refuse — with examples of each. Nothing is written and the file is not kept.
 */
export async function dryRunImport(db: Db, orgId: string, input: { uploadPath: string; size: number; filename: string; type: string; mapping?: unknown; match: MatchOptions | null }) {
  const { type, format, mapping } = checkImportInput(input);
  // Every limit of the file is checked before the rows are looked at (as the import does).
  const total = await countRows(input.uploadPath, format);
  const counts = emptyPreview();
  for await (const batch of fileBatches(input.uploadPath, format, type, mapping)) {
    const planned = await planBatch(db, orgId, type, batch.mapping, batch.rows.map((r) => r.values), input.match);
    await previewBatch(db, orgId, type, planned, batch.rows.map((r) => r.line), counts);
  }
  return { object: "import_preview" as const, type, total, match_on: input.match?.on ?? null, on_match: input.match?.policy ?? null, ...counts };
}
