import "server-only";
import { AppError } from "@/lib/errors";

export const API_BODY_LIMIT = 1024 * 1024;

/**
 * Reads a JSON body with a byte cap, streaming, so an oversized body is refused without being
 * held in memory. Wrong content type → 415, too large → 413, unparseable → 400 invalid_json.
 */
export async function readJson(req: Request, limit = API_BODY_LIMIT): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
  }
  const text = await readText(req, limit);
  if (text.trim() === "") throw new AppError("invalid_json", "The request body is empty; send a JSON object.");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError("invalid_json", `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

export async function readText(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client hung up mid-body (its socket error can look like a database's ECONNRESET).
      throw new AppError("validation_failed", "The request body could not be read: the connection ended before all of it arrived.");
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

function tooLarge(limit: number) {
  return new AppError("payload_too_large", `The request body is larger than ${Math.round(limit / 1024)} KB.`);
}
