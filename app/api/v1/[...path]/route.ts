import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { errorResponse } from "@/lib/http/respond";

/** Unknown /api/v1 paths answer in the API's JSON error shape, not with the app's HTML 404 page. */
function notFound(req: Request): Response {
  const path = new URL(req.url).pathname;
  return errorResponse(new AppError("not_found", `No API route ${req.method} ${path}. See /api/v1/openapi.json.`), newId("req"));
}

export { notFound as GET, notFound as POST, notFound as PATCH, notFound as PUT, notFound as DELETE };
