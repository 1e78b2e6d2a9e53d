import { runAfterResponse } from "@/lib/http/after";
import { apiRoute } from "@/lib/http/gate";
import { AppError } from "@/lib/errors";
import { createImport, importView, startImport } from "@/lib/imports/imports";
import { withUpload } from "@/lib/imports/upload";

/** multipart: `file` (.csv or .xlsx), `type`, optional `mapping` (JSON). Answers 202 {id}. */
export const POST = apiRoute({ scope: "bulk" }, async ({ db, orgId, actor, key, req }) => {
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
});
