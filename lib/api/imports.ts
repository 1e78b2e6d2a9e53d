import "server-only";
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { runAfterResponse } from "@/lib/http/after";
import { errorsCsvStream } from "@/lib/imports/errors-csv";
import { createImport, getImport, importView } from "@/lib/imports/imports";
import { startImport } from "@/lib/imports/runner";
import { withUpload } from "@/lib/imports/upload";
import { idParam } from "@/lib/openapi/schemas";
import { isRecordType, RECORD_TYPES } from "@/lib/records/registry";
import { MATCH_ON, ON_MATCH, parseMatchOptions } from "@/lib/imports/match";
import { dryRunImport } from "@/lib/imports/dry-run";
import { requestUndo, UNDO_WINDOW_DAYS } from "@/lib/imports/undo";
import { defineRoute } from "./define";

const importSchema = z
  .object({
    id: z.string(),
    object: z.literal("import"),
    type: z.enum(RECORD_TYPES),
    filename: z.string(),
    status: z.enum(["pending", "running", "completed", "failed", "undoing", "undone"]),
    total: z.number().int(),
    processed: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int().meta({ description: "Rows that matched an existing record under `on_match: skip`." }),
    match_on: z.enum(MATCH_ON).nullable(),
    on_match: z.enum(ON_MATCH).nullable(),
    undo: z.record(z.string(), z.unknown()).nullable().meta({
      description:
        "After an undo: `deleted` (records the import created), `restored` (records it updated), `not_restored` and up to 50 `conflicts` ({id, reason}: changed since the import).",
    }),
    error: z.string().nullable(),
    error_code: z
      .string()
      .nullable()
      .meta({ description: "Why a failed import failed: `import_file_rejected` when the file broke a limit (the error names it)." }),
    created_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "Import" });

const previewExamples = z.array(z.record(z.string(), z.unknown()));
const previewSchema = z
  .object({
    object: z.literal("import_preview"),
    type: z.enum(RECORD_TYPES),
    total: z.number().int(),
    match_on: z.enum(MATCH_ON).nullable(),
    on_match: z.enum(ON_MATCH).nullable(),
    new: z.number().int(),
    updates: z.number().int(),
    unchanged: z.number().int(),
    skipped: z.number().int(),
    errors: z.number().int(),
    examples: z
      .object({ new: previewExamples, updates: previewExamples, unchanged: previewExamples, skipped: previewExamples, errors: previewExamples })
      .meta({ description: "Up to 5 rows of each kind, with their line numbers." }),
  })
  .meta({ id: "ImportPreview" });

const tags = ["Imports"];
const params = idParam("imp");

/** multipart: `file` (.csv or .xlsx), `type`, optional `mapping` (JSON). Answers 202 {id}. */
const createImportRoute = defineRoute({
  method: "POST",
  path: "/api/v1/imports",
  scope: "bulk",
  doc: {
    operationId: "create_import",
    summary: "Import a CSV or Excel file",
    description:
      'Multipart upload (up to 100 MB): `file` (.csv or .xlsx, header row first), `type`, optional `mapping` (JSON; without it columns match fields by name). Runs in the background: poll the import. A file beyond a limit (an .xlsx decompressing past 1 GB or 100× its size, more than 1,000 columns, a cell over 32,767 characters, a row over 1 MB) ends `failed` with `error_code: "import_file_rejected"`. One import runs at a time per organization; others wait as `pending`.',
    tags,
    body: {
      type: "multipart/form-data",
      schema: z.object({
        file: z.string().meta({ format: "binary" }),
        type: z.enum(RECORD_TYPES),
        mapping: z.string().optional().meta({ description: "A mapping as JSON." }),
        match_on: z.enum(MATCH_ON).optional().meta({
          description:
            "Find existing records by `external_id`, or (clients) by `email` (case-insensitive) or `phone` (E.164 with the organization's default country).",
        }),
        on_match: z.enum(ON_MATCH).optional().meta({ description: "What a row that matches does: `update` (default), `skip`, or `create` anyway." }),
        dry_run: z.enum(["true", "false"]).optional().meta({ description: "`true`: nothing is written or kept; answers 200 with an `import_preview`." }),
      }),
    },
    response: {
      status: 202,
      description: "Accepted; processing has started. (With `dry_run=true`: 200 and an `import_preview`.)",
      schema: z.union([importSchema, previewSchema]),
    },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, key, req }) {
    const result = await withUpload(req, async (upload) => {
      if (!upload.file) throw new AppError("validation_failed", "No file.", [{ path: "file", message: "is required" }]);
      const { mapping: mappingJson, match_on, on_match, dry_run, type = "" } = upload.fields;
      let mapping: unknown;
      if (mappingJson) {
        try {
          mapping = JSON.parse(mappingJson);
        } catch {
          throw new AppError("invalid_json", "The mapping is not valid JSON.");
        }
      }
      if (dry_run !== undefined && dry_run !== "true" && dry_run !== "false")
        throw new AppError("validation_failed", "dry_run is true or false.", [{ path: "dry_run", message: "must be true or false" }]);
      const match = isRecordType(type) ? parseMatchOptions(type, { match_on, on_match }) : null;
      const input = { uploadPath: upload.file.path, size: upload.file.size, filename: upload.file.filename, type, mapping, match };
      if (dry_run === "true") return { preview: await dryRunImport(db, orgId, input) };
      return { job: await createImport(db, { orgId, actor, source: "api", keyId: key.id }, input) };
    });
    if ("preview" in result) return { status: 200, body: result.preview };
    const job = result.job;
    runAfterResponse(() => startImport(db, job.id));
    return { status: 202, body: importView(job) };
  },
});

const getImportRoute = defineRoute({
  method: "GET",
  path: "/api/v1/imports/{id}",
  scope: "bulk",
  doc: {
    operationId: "get_import",
    summary: "An import's progress and result",
    tags,
    params,
    response: { status: 200, description: "The import.", schema: importSchema },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    return { body: importView(await getImport(db, orgId, id)) };
  },
});

const importErrorsRoute = defineRoute({
  method: "GET",
  path: "/api/v1/imports/{id}/errors.csv",
  scope: "bulk",
  doc: {
    operationId: "get_import_errors",
    summary: "The rows that failed, as CSV",
    description: "Columns: line, reason, then the row's own columns.",
    tags,
    params,
    response: { status: 200, description: "CSV.", schema: z.string(), type: "text/csv" },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    const stream = await errorsCsvStream(db, orgId, id);
    return new Response(stream, { headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${id}-errors.csv"` } });
  },
});

const undoImportRoute = defineRoute({
  method: "POST",
  path: "/api/v1/imports/{id}/undo",
  // It deletes records (any import's, whoever made it): an admin's call, as in the app.
  scope: "admin",
  doc: {
    operationId: "undo_import",
    summary: "Undo a finished import",
    description: `Within ${UNDO_WINDOW_DAYS} days of a completed import: deletes the records it created and gives the records it updated their previous values back (from the audit trail), through the record pipeline, so webhooks and workflows see the undo. Runs in the background: the import's \`status\` is \`undoing\`, then \`undone\` with \`undo\` counting what was reverted and what could not be (changed since).`,
    tags,
    params,
    response: { status: 202, description: "Accepted; the undo has started.", schema: importSchema },
    errors: [403, 404, 409],
  },
  async handler({ db, orgId, actor }, { id }) {
    return { status: 202, body: importView(await requestUndo(db, { orgId, actor, source: "api" }, id)) };
  },
});

export const importRoutes = [createImportRoute, getImportRoute, importErrorsRoute, undoImportRoute];
