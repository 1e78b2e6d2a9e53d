import "server-only";
import fs from "node:fs";
import path from "node:path";
import { and, eq, inArray, lt } from "drizzle-orm";
import { imports } from "@/db/schema";
import type { Db } from "@/db/client";
import { uploadsDir } from "./files";

/** A draft nobody started is deleted, with its file, after this long. */
export const DRAFT_TTL_HOURS = 24;
/** Finished imports, with their error rows, are kept this long. */
export const FINISHED_IMPORT_RETENTION_DAYS = 30;

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
