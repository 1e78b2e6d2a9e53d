import { getDb } from "@/db/client";
import { AppError } from "@/lib/errors";
import { memberForRoute } from "@/lib/auth/session";
import { createImport, importView, previewDraft } from "@/lib/imports/imports";
import { withUpload } from "@/lib/imports/upload";
import { toActionError } from "@/lib/auth/action";

/**
 * The settings page's upload: streamed to disk (files up to 100 MB), kept as a draft import,
 * answered with the header row, a suggested mapping and the first rows as they would import.
 */
export async function POST(req: Request, { params }: { params: Promise<{ org: string }> }): Promise<Response> {
  try {
    const membership = await memberForRoute((await params).org, "admin");
    const db = await getDb();
    const job = await withUpload(req, async (upload) => {
      if (!upload.file) throw new AppError("validation_failed", "Choose a file.", [{ path: "file", message: "is required" }]);
      return createImport(
        db,
        { orgId: membership.org.id, actor: { type: "user", id: membership.userId, label: membership.email }, source: "ui", userId: membership.userId },
        { uploadPath: upload.file.path, size: upload.file.size, filename: upload.file.filename, type: upload.fields.type ?? "", draft: true },
      );
    });
    const preview = await previewDraft(db, membership.org.id, job.id);
    return Response.json({ ok: true, data: { import: importView(job), ...preview } });
  } catch (err) {
    const error = toActionError(err, "imports.upload");
    return Response.json({ ok: false, error }, { status: err instanceof AppError ? err.status : 500 });
  }
}
