import "server-only";
import { NextRequest } from "next/server";
import { AppError } from "@/lib/errors";
import { readText } from "@/lib/http/body";
import { errorResponse } from "@/lib/http/respond";
import { newId } from "@/lib/ids";

/** A sign-in form is an email, a password and a token: 16 KB is generous. */
export const AUTH_BODY_LIMIT = 16 * 1024;

/**
 * Reads the body with a byte cap (413 in the documented envelope past it) and hands the handler
 * an identical request carrying the bytes read.
 */
export async function capAuthBody(req: Request, limit: number, handler: (req: NextRequest) => Promise<Response>): Promise<Response> {
  let body: string;
  try {
    body = await readText(req, limit);
  } catch (err) {
    if (err instanceof AppError) return errorResponse(err, newId("req"));
    throw err;
  }
  return handler(new NextRequest(req.url, { method: req.method, headers: req.headers, body }));
}
