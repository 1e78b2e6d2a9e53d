import { openApiDocument } from "@/lib/openapi/document";
import { env } from "@/lib/env";

/** Public: the OpenAPI document needs no key. */
export function GET(req: Request): Response {
  const base = env().APP_URL ?? new URL(req.url).origin;
  return Response.json(openApiDocument(base), { headers: { "cache-control": "public, max-age=300" } });
}
