import "server-only";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { errorResponse } from "./respond";

/** The benchmarks' baseline routes exist only with SMARFLE_BENCH=1; otherwise a plain 404. */
export function benchDisabled(): Response | null {
  if (env().SMARFLE_BENCH) return null;
  return errorResponse(new AppError("not_found", "Not found."), newId("req"));
}
