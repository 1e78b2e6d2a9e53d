import "server-only";
import path from "node:path";
import type { ImportJob } from "@/db/schema";

/** Uploads wait here for their import, one file per import named by its id. */
export const uploadsDir = () => path.join(process.cwd(), ".data", "imports");
export const fileOf = (job: Pick<ImportJob, "id" | "format">) => path.join(uploadsDir(), `${job.id}.${job.format}`);
