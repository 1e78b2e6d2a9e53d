import { AppError } from "@/lib/errors";
import { edge } from "@/lib/http/edge";

/** Unknown /api/v1 paths answer in the API's JSON error shape, not with the app's HTML 404 page. */
const notFound = edge({ kind: "api", route: "/api/v1/{unknown}" }, async ({ req }) => {
  throw new AppError("not_found", `No API route ${req.method} ${new URL(req.url).pathname}. See /api/v1/openapi.json.`);
});

export { notFound as GET, notFound as POST, notFound as PATCH, notFound as PUT, notFound as DELETE };
