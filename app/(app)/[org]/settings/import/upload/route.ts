import { AppError } from "@/lib/errors";
import { sessionRoute } from "@/lib/http/session-route";
import { createImport, importView, previewDraft } from "@/lib/imports/imports";
import { withUpload } from "@/lib/imports/upload";

/**
 * The settings page's upload: streamed to disk (files up to 100 MB), kept as a draft import,
 * answered with the header row, a suggested mapping and the first rows as they would import.
 */
export const POST = sessionRoute({ role: "admin", route: "/{org}/settings/import/upload" }, async ({ db, member, req }) => {
  const job = await withUpload(req, async (upload) => {
    if (!upload.file) throw new AppError("validation_failed", "Choose a file.", [{ path: "file", message: "is required" }]);
    return createImport(
      db,
      { orgId: member.org.id, actor: { type: "user", id: member.userId, label: member.email }, source: "ui", userId: member.userId },
      { uploadPath: upload.file.path, size: upload.file.size, filename: upload.file.filename, type: upload.fields.type ?? "", draft: true },
    );
  });
  return { import: importView(job), ...(await previewDraft(db, member.org.id, job.id)) };
});
