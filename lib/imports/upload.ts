import "server-only";
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
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
  if (!type.toLowerCase().startsWith("multipart/form-data"))
    throw new AppError("unsupported_media_type", "Send the file as multipart/form-data with a `file` part.");
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > IMPORT_MAX_BYTES + 1024 * 1024)
    throw new AppError("payload_too_large", `Files up to ${IMPORT_MAX_BYTES / 1024 / 1024} MB can be imported.`);
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
  // Not `.pipe()`: a client that hangs up mid-upload errors the body, and only a pipeline hands that
  // on to busboy (and through it to the file being written). Piped, the request would wait forever
  // with its partial file on disk, and the unhandled stream error would reach the process.
  pipeline(Readable.fromWeb(req.body as import("node:stream/web").ReadableStream), busboy).catch(() => {});
  let saved: { path: string; size: number } | null = null;
  try {
    await done;
    saved = saving ? await (saving as Promise<{ path: string; size: number }>) : null;
    if (truncated) throw new AppError("payload_too_large", `Files up to ${IMPORT_MAX_BYTES / 1024 / 1024} MB can be imported.`);
  } catch (err) {
    // Whatever part of the file reached the disk goes.
    const partial = saved ?? (saving ? await (saving as Promise<{ path: string; size: number }>).catch(() => null) : null);
    if (partial) fs.rmSync(partial.path, { force: true });
    throw err;
  }
  return { fields, file: saved ? { ...saved, filename } : null };
}

/**
 * Reads a multipart upload and hands it to `handle`; the temporary file is deleted when it ends,
 * however it ends (an import that keeps the file has moved it by then).
 */
export async function withUpload<T>(req: Request, handle: (upload: ParsedUpload) => Promise<T>): Promise<T> {
  const upload = await readMultipart(req);
  try {
    return await handle(upload);
  } finally {
    if (upload.file) fs.rmSync(upload.file.path, { force: true });
  }
}
