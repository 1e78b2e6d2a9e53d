import "server-only";
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { runAfterResponse } from "@/lib/http/after";
import { errorsCsvStream } from "@/lib/imports/errors-csv";
import { createImport, getImport, importView, startImport } from "@/lib/imports/imports";
import { withUpload } from "@/lib/imports/upload";
import { idParam } from "@/lib/openapi/schemas";
import { RECORD_TYPES } from "@/lib/records/registry";
import { defineRoute } from "./define";

const importSchema = z
  .object({
    id: z.string(),
    object: z.literal("import"),
    type: z.enum(RECORD_TYPES),
    filename: z.string(),
    status: z.enum(["pending", "running", "completed", "failed"]),
    total: z.number().int(),
    processed: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    failed: z.number().int(),
    error: z.string().nullable(),
    error_code: z.string().nullable().meta({ description: "Why a failed import failed: `import_file_rejected` when the file broke a limit (the error names it)." }),
    created_at: z.iso.datetime(),
    finished_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "Import" });

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
      schema: z.object({ file: z.string().meta({ format: "binary" }), type: z.enum(RECORD_TYPES), mapping: z.string().optional().meta({ description: "A mapping as JSON." }) }),
    },
    response: { status: 202, description: "Accepted; processing has started.", schema: importSchema },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, key, req }) {
    const job = await withUpload(req, async (upload) => {
      if (!upload.file) throw new AppError("validation_failed", "No file.", [{ path: "file", message: "is required" }]);
      let mapping: unknown;
      if (upload.fields.mapping) {
        try {
          mapping = JSON.parse(upload.fields.mapping);
        } catch {
          throw new AppError("invalid_json", "The mapping is not valid JSON.");
        }
      }
      return createImport(db, { orgId, actor, source: "api", keyId: key.id }, { uploadPath: upload.file.path, size: upload.file.size, filename: upload.file.filename, type: upload.fields.type ?? "", mapping });
    });
    runAfterResponse(() => startImport(db, job.id));
    return { status: 202, body: importView(job) };
  },
});

const getImportRoute = defineRoute({
  method: "GET",
  path: "/api/v1/imports/{id}",
  scope: "bulk",
  doc: { operationId: "get_import", summary: "An import's progress and result", tags, params, response: { status: 200, description: "The import.", schema: importSchema }, errors: [403, 404] },
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

export const importRoutes = [createImportRoute, getImportRoute, importErrorsRoute];
