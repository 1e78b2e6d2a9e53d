import "server-only";
import { Readable } from "node:stream";
import Busboy from "busboy";
import { AppError } from "@/lib/errors";
import { IMPORT_MAX_BYTES, saveUpload } from "./imports";

export interface ParsedUpload {
  fields: Record<string, string>;
  file: { path: string; size: number; filename: string } | null;
}

/**
 * Reads a multipart upload as a stream: the file goes straight to disk (never into memory
 * whole), the small text fields are collected. Whatever order the parts come in.
 */
export async function readMultipart(req: Request): Promise<ParsedUpload> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) throw new AppError("unsupported_media_type", "Send the file as multipart/form-data with a `file` part.");
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > IMPORT_MAX_BYTES + 1024 * 1024) throw new AppError("payload_too_large", `Files up to ${IMPORT_MAX_BYTES / 1024 / 1024} MB can be imported.`);
  if (!req.body) throw new AppError("validation_failed", "The request has no body.");
  const busboy = Busboy({ headers: { "content-type": type }, limits: { files: 1, fields: 20, fieldSize: 256 * 1024, fileSize: IMPORT_MAX_BYTES + 1 } });
  const fields: Record<string, string> = {};
  let saving: Promise<{ path: string; size: number }> | null = null;
  let filename = "";
  let truncated = false;
  const done = new Promise<void>((resolve, reject) => {
    busboy.on("field", (name, value) => (fields[name] = value));
    busboy.on("file", (name, stream, info) => {
      if (name !== "file" || saving) {
        stream.resume();
        return;
      }
      filename = info.filename || "upload";
      stream.on("limit", () => (truncated = true));
      saving = saveUpload(stream);
      saving.catch(() => {});
    });
    busboy.on("close", resolve);
    busboy.on("error", (err) => reject(new AppError("validation_failed", `The multipart body could not be read: ${(err as Error).message}`)));
  });
  Readable.fromWeb(req.body as import("node:stream/web").ReadableStream).pipe(busboy);
  await done;
  const saved = saving ? await (saving as Promise<{ path: string; size: number }>) : null;
  if (truncated) throw new AppError("payload_too_large", `Files up to ${IMPORT_MAX_BYTES / 1024 / 1024} MB can be imported.`);
  return { fields, file: saved ? { ...saved, filename } : null };
}
