import "server-only";
import { env } from "@/lib/env";

/** The public base URL: APP_URL when set, else the origin the request came to. */
export function baseUrl(req: Request): string {
  return (env().APP_URL ?? new URL(req.url).origin).replace(/\/$/, "");
}
