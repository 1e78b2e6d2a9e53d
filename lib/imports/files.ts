import "server-only";
import path from "node:path";
import type { ImportJob } from "@/db/schema";
import { env } from "@/lib/env";

/** Uploads wait here for their import, one file per import named by its id. */
export const uploadsDir = () => {
  const dir = env().UPLOADS_DIR;
  return dir ? path.resolve(dir) : path.join(process.cwd(), ".data", "imports");
};
export const fileOf = (job: Pick<ImportJob, "id" | "format">) => path.join(uploadsDir(), `${job.id}.${job.format}`);
