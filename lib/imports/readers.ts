import "server-only";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/errors";

/**
 * Readers for CSV and Excel files. The parsing happens in a child process with its own heap limit
 * (lib/imports/parse-child.mjs), so a hostile file costs that process, never the server: it is
 * refused by the limits below, or the child runs out of its own memory or time and is killed.
 * Rows come back in batches, on request, so no file is ever held in memory whole.
 */

export type FileFormat = "csv" | "xlsx";

export const IMPORT_LIMITS = {
  /** The most an .xlsx may decompress to, whatever its size… */
  maxUnzippedBytes: 1024 * 1024 * 1024,
  /** …and relative to its size (a real workbook compresses 5–20 times). */
  maxUnzipRatio: 100,
  maxColumns: 1_000,
  /** Excel's own limit for the text of one cell. */
  maxCellChars: 32_767,
  maxRowBytes: 1024 * 1024,
} as const;

/** The parser process's heap: a file that needs more is refused. */
export const PARSER_HEAP_MB = 384;
/** The longest the parser may take to produce one batch of rows. */
export const PARSER_STEP_TIMEOUT_MS = 60_000;
/** At most this many parser processes at once in one server. */
export const MAX_PARSERS = 4;
const ROWS_PER_MESSAGE = 500;
const ROWS_PER_COUNT_STEP = 20_000;

export interface SheetRow {
  /** The row's line in the file (1 is the header row). */
  line: number;
  values: Record<string, unknown>;
  headers: string[];
}

export function formatOf(filename: string): FileFormat | null {
  const ext = filename.toLowerCase().split(".").pop();
  return ext === "csv" || ext === "txt" ? "csv" : ext === "xlsx" ? "xlsx" : null;
}

export const fileRejected = (message: string) => new AppError("import_file_rejected", message);

let parserPeak = 0;
/** The highest peak memory a parser process reported since the last call (for benchmarks). */
export function takeParserPeakRss(): number {
  const peak = parserPeak;
  parserPeak = 0;
  return peak;
}

let parsers = 0;
const waiting: (() => void)[] = [];
async function parserSlot(): Promise<() => void> {
  if (parsers >= MAX_PARSERS) await new Promise<void>((resolve) => waiting.push(resolve));
  else parsers++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = waiting.shift();
    if (next) next();
    else parsers--;
  };
}

type Reply =
  | { type: "rows"; headers: string[]; rows: { line: number; cells: unknown[] }[]; done: boolean; peakRss?: number }
  | { type: "skipped"; count: number; done: boolean; peakRss?: number }
  | { type: "rejected"; message: string }
  | { type: "unreadable"; message: string };

/**
 * The parser's script, found at run time in the app's directory. (Resolved through the file
 * system on purpose: the bundler must leave it a separate plain Node program, not bundle it.)
 */
function parserScript(): string {
  return path.join(fs.realpathSync(process.cwd()), "lib", "imports", "parse-child.mjs");
}

/** One parser process reading one file. */
class Parser {
  private child: ChildProcess;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;

  constructor(file: string, format: FileFormat) {
    this.child = spawn(process.execPath, [`--max-old-space-size=${PARSER_HEAP_MB}`, parserScript()], {
      // The parser needs no configuration, and gets none of the server's secrets.
      env: { NODE_ENV: "production" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    // Keep only the tail of what the child prints (a V8 out-of-memory report), for the log.
    this.child.stderr?.resume();
    this.child.on("message", (msg: Reply) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(msg);
    });
    this.child.on("exit", (code, signal) => {
      this.exited =
        code === 0 && !signal
          ? new Error("The file reader stopped.")
          : fileRejected(`The file needs more than ${PARSER_HEAP_MB} MB of memory to read; split it into smaller files.`);
      const p = this.pending;
      this.pending = null;
      p?.reject(this.exited);
    });
    this.child.on("error", (err) => {
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
    });
    this.child.send({ type: "open", path: file, format, limits: IMPORT_LIMITS });
  }

  async ask(msg: { type: "next" | "skip"; count: number }): Promise<Exclude<Reply, { type: "rejected" | "unreadable" }>> {
    if (this.exited) throw this.exited;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.close();
        reject(
          fileRejected(
            `The file took longer than ${PARSER_STEP_TIMEOUT_MS / 1000} s to read ${msg.count.toLocaleString("en-US")} rows; the limit is ${PARSER_STEP_TIMEOUT_MS / 1000} s.`,
          ),
        );
      }, PARSER_STEP_TIMEOUT_MS);
      this.pending = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.child.send(msg);
    });
    if (reply.type === "rejected") throw fileRejected(reply.message);
    if (reply.type === "unreadable") throw fileRejected(`The file could not be read: ${reply.message}`);
    if (reply.peakRss) parserPeak = Math.max(parserPeak, reply.peakRss);
    return reply;
  }

  close() {
    if (this.child.exitCode === null && !this.child.killed) this.child.kill("SIGKILL");
  }
}

/** Reads a file's data rows, as {header → value} objects with their line number. */
export async function* readRows(file: string, format: FileFormat): AsyncGenerator<SheetRow> {
  const release = await parserSlot();
  const parser = new Parser(file, format);
  try {
    for (;;) {
      const reply = (await parser.ask({ type: "next", count: ROWS_PER_MESSAGE })) as Extract<Reply, { type: "rows" }>;
      const headers = reply.headers;
      for (const row of reply.rows) {
        const values: Record<string, unknown> = {};
        headers.forEach((h, i) => (values[h] = row.cells[i] ?? ""));
        yield { line: row.line, values, headers };
      }
      if (reply.done) return;
    }
  } finally {
    parser.close();
    release();
  }
}

/** Counts a file's data rows, checking every limit on the way, without sending them over. */
export async function countRows(file: string, format: FileFormat): Promise<number> {
  const release = await parserSlot();
  const parser = new Parser(file, format);
  try {
    let total = 0;
    for (;;) {
      const reply = (await parser.ask({ type: "skip", count: ROWS_PER_COUNT_STEP })) as Extract<Reply, { type: "skipped" }>;
      total += reply.count;
      if (reply.done) return total;
    }
  } finally {
    parser.close();
    release();
  }
}

/** The header row alone (for suggesting a mapping). */
export async function readHeaders(file: string, format: FileFormat): Promise<string[]> {
  for await (const row of readRows(file, format)) return row.headers;
  return [];
}
