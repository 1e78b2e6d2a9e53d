import "server-only";
import { getDb, type Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { verifyQstash } from "@/lib/webhooks/qstash";
import { readText } from "./body";
import { edge, edgeJson } from "./edge";

/** The most an internal route reads: QStash sends a delivery id or an empty schedule body. */
const INTERNAL_BODY_LIMIT = 16 * 1024;

/**
 * The edge of the routes QStash calls (app/api/internal): the shared skeleton, then the signature
 * over the raw body. Anything not signed by QStash is refused before any work; the handler's
 * result is answered as JSON.
 */
export function qstashRoute(handler: (db: Db, rawBody: string) => Promise<unknown>): (req: Request) => Promise<Response> {
  return edge({ kind: "internal" }, async (ctx) => {
    const raw = await readText(ctx.req, INTERNAL_BODY_LIMIT).catch(() => null);
    if (raw === null || !(await verifyQstash(ctx.req, raw))) throw new AppError("unauthorized", "Invalid QStash signature.");
    return edgeJson(ctx, await handler(await getDb(), raw));
  });
}
