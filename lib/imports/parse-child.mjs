// The import file reader, run as its own Node process (see lib/imports/readers.ts): whatever a file
// does to the parser — a zip bomb, millions of columns, one endless cell — costs this process's
// heap, never the server's. Plain JavaScript so that it runs as-is in development, tests and a
// production build alike.
//
// Protocol (process IPC): the parent sends {type: "open", path, format, limits}, then
// {type: "next", count} for each batch of rows it wants, or {type: "skip", count} to read rows
// without sending them (counting). The child answers {type: "rows", headers, rows: [{line, cells}],
// done}, {type: "skipped", count, done}, or {type: "rejected" | "unreadable", message}.
import fs from "node:fs";
import zlib from "node:zlib";
import { parse } from "csv-parse";
import ExcelJS from "exceljs";

class Rejected extends Error {}

const mb = (bytes) => `${Math.round(bytes / 1024 / 1024).toLocaleString("en-US")} MB`;

function uniqueHeaders(raw) {
  const seen = new Map();
  return raw.map((h, i) => {
    const base = String(h ?? "").trim() || `column_${i + 1}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}_${n + 1}` : base;
  });
}

/** An Excel cell as plain data: rich text joined, formulas by their result, midnight dates as dates. */
function cellValue(v) {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
  }
  if (typeof v === "object") {
    if (v.richText) return v.richText.map((t) => t.text).join("");
    if ("result" in v) return cellValue(v.result);
    if (v.error !== undefined) return "";
    if (v.text !== undefined) return cellValue(v.text);
    return JSON.stringify(v);
  }
  return v;
}

function checkRow(cells, line, limits) {
  if (cells.length > limits.maxColumns)
    throw new Rejected(`Line ${line} has ${cells.length.toLocaleString("en-US")} columns; the limit is ${limits.maxColumns.toLocaleString("en-US")} columns.`);
  let size = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (typeof c !== "string") continue;
    if (c.length > limits.maxCellChars)
      throw new Rejected(
        `Line ${line}, column ${i + 1} has ${c.length.toLocaleString("en-US")} characters; the limit is ${limits.maxCellChars.toLocaleString("en-US")} characters per cell.`,
      );
    size += c.length;
  }
  if (size > limits.maxRowBytes) throw new Rejected(`Line ${line} is longer than ${mb(limits.maxRowBytes)}, the limit for one row.`);
}

async function* csvRows(path, limits) {
  const parser = fs.createReadStream(path).pipe(
    // max_record_size stops a single row (or an unclosed quote) from growing without end.
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, trim: false, max_record_size: limits.maxRowBytes }),
  );
  let bytesBefore = 0;
  try {
    for await (const { record, info } of parser) {
      const rowBytes = info.bytes - bytesBefore;
      bytesBefore = info.bytes;
      checkRow(record, info.lines, limits);
      if (rowBytes > limits.maxRowBytes) throw new Rejected(`Line ${info.lines} is longer than ${mb(limits.maxRowBytes)}, the limit for one row.`);
      yield { line: info.lines, cells: record };
    }
  } catch (err) {
    if (err && err.code === "CSV_MAX_RECORD_SIZE") throw new Rejected(`A row is longer than ${mb(limits.maxRowBytes)}, the limit for one row.`);
    throw err;
  }
}

/**
 * Inflates every part of the workbook once, counting bytes and keeping none, before any XML
 * parser sees it: a part that decompresses past the limit is refused after reading at most the
 * limit. The zip's own size fields can lie, so they only serve to refuse early.
 */
async function checkZip(path, limits) {
  const size = fs.statSync(path).size;
  const limit = Math.min(limits.maxUnzippedBytes, limits.maxUnzipRatio * size);
  const refuse = () =>
    new Rejected(
      `The workbook decompresses to more than ${mb(limit)}; the limit is ${mb(limits.maxUnzippedBytes)} or ${limits.maxUnzipRatio} times the file's size, whichever is smaller.`,
    );
  const fd = fs.openSync(path, "r");
  try {
    const tailLen = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLen);
    fs.readSync(fd, tail, 0, tailLen, size - tailLen);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Rejected("The file is not an Excel workbook (.xlsx): it is not a zip archive.");
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset + cdSize > size || entries === 0xffff) throw new Rejected("The workbook's zip directory is not valid.");
    const cd = Buffer.alloc(cdSize);
    fs.readSync(fd, cd, 0, cdSize, cdOffset);
    const parts = [];
    let declared = 0;
    for (let p = 0, i = 0; i < entries; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new Rejected("The workbook's zip directory is not valid.");
      const method = cd.readUInt16LE(p + 10);
      const compressed = cd.readUInt32LE(p + 20);
      const uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const local = cd.readUInt32LE(p + 42);
      // A file this size never needs zip64: its sizes and offsets fit in 32 bits, except the
      // uncompressed size of a part that inflates past 4 GB — which is refused either way.
      if (compressed === 0xffffffff || local === 0xffffffff) throw new Rejected("The workbook's zip directory is not valid.");
      declared += uncompressed;
      if (declared > limit) throw refuse();
      parts.push({ method, compressed, local });
      p += 46 + nameLen + extraLen + commentLen;
    }
    let total = 0;
    for (const part of parts) {
      const header = Buffer.alloc(30);
      fs.readSync(fd, header, 0, 30, part.local);
      if (header.readUInt32LE(0) !== 0x04034b50) throw new Rejected("The workbook's zip directory is not valid.");
      const start = part.local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
      if (part.compressed === 0) continue;
      if (part.method === 0) {
        total += part.compressed;
        if (total > limit) throw refuse();
        continue;
      }
      if (part.method !== 8) throw new Rejected("The workbook uses a compression method Excel files do not use.");
      await new Promise((resolve, reject) => {
        const inflate = zlib.createInflateRaw();
        const input = fs.createReadStream(path, { start, end: start + part.compressed - 1 });
        let over = false;
        inflate.on("data", (chunk) => {
          total += chunk.length;
          if (total > limit && !over) {
            over = true;
            input.destroy();
            inflate.destroy();
            reject(refuse());
          }
        });
        inflate.on("end", resolve);
        inflate.on("error", (err) => (over ? undefined : reject(new Rejected(`A part of the workbook could not be decompressed: ${err.message}`))));
        input.on("error", reject);
        input.pipe(inflate);
      });
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function* xlsxRows(path, limits) {
  await checkZip(path, limits);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    sharedStrings: "cache",
    worksheets: "emit",
    hyperlinks: "ignore",
    styles: "cache",
    entries: "ignore",
  });
  for await (const sheet of reader) {
    for await (const row of sheet) {
      const raw = row.values;
      if (raw.length - 1 > limits.maxColumns)
        throw new Rejected(
          `Line ${row.number} has ${(raw.length - 1).toLocaleString("en-US")} columns; the limit is ${limits.maxColumns.toLocaleString("en-US")} columns.`,
        );
      const cells = [];
      for (let i = 1; i < raw.length; i++) cells.push(cellValue(raw[i]));
      checkRow(cells, row.number, limits);
      yield { line: row.number, cells };
    }
    return; // the first worksheet is the data
  }
}

/** Data rows with the header row's names; blank rows skipped. */
async function* dataRows(path, format, limits) {
  let headers = null;
  for await (const row of format === "csv" ? csvRows(path, limits) : xlsxRows(path, limits)) {
    if (!headers) {
      headers = uniqueHeaders(row.cells);
      yield { headers };
      continue;
    }
    if (format === "xlsx" && row.cells.every((c) => c === "")) continue;
    yield { line: row.line, cells: row.cells };
  }
}

/** This process's peak resident memory, in bytes (reported with the last batch, for benchmarks). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

let rows = null;
let headers = [];

const REPLY_MAX_CHARS = 8 * 1024 * 1024;

function cellChars(row) {
  let n = 0;
  for (const v of row.cells) if (typeof v === "string") n += v.length;
  return n;
}

async function answer(msg) {
  if (msg.type === "open") {
    rows = dataRows(msg.path, msg.format, msg.limits);
    return null;
  }
  if (msg.type === "skip") {
    let count = 0;
    for (;;) {
      if (count >= msg.count) return { type: "skipped", count, done: false };
      const next = await rows.next();
      if (next.done) return { type: "skipped", count, done: true, peakRss: peakRss() };
      if (next.value.headers) headers = next.value.headers;
      else count++;
    }
  }
  if (msg.type === "next") {
    // A reply ends at `count` rows or REPLY_MAX_CHARS of cell text, whichever comes first: rows
    // may be up to a megabyte each (shared strings make that cheap to build), and the parent
    // holds the reply in the server's own heap.
    const batch = [];
    let chars = 0;
    for (;;) {
      if (batch.length >= msg.count || (batch.length > 0 && chars >= REPLY_MAX_CHARS)) return { type: "rows", headers, rows: batch, done: false };
      const next = await rows.next();
      if (next.done) return { type: "rows", headers, rows: batch, done: true, peakRss: peakRss() };
      if (next.value.headers) headers = next.value.headers;
      else {
        batch.push(next.value);
        chars += cellChars(next.value);
      }
    }
  }
  return null;
}

// One message at a time, in order.
let queue = Promise.resolve();
process.on("message", (msg) => {
  queue = queue.then(async () => {
    try {
      const reply = await answer(msg);
      if (reply) process.send(reply);
    } catch (err) {
      process.send({ type: err instanceof Rejected ? "rejected" : "unreadable", message: err instanceof Error ? err.message : String(err) });
    }
  });
});
process.on("disconnect", () => process.exit(0));
