import "server-only";
import fs from "node:fs";
import { parse } from "csv-parse";
import ExcelJS from "exceljs";

/**
 * Streaming readers for CSV and Excel files: rows come out one at a time as
 * {header → value} objects with their line number; no file is ever held in memory whole.
 */

export type FileFormat = "csv" | "xlsx";

export interface SheetRow {
  /** The row's line in the file (1 is the header row). */
  line: number;
  values: Record<string, unknown>;
}

export function formatOf(filename: string): FileFormat | null {
  const ext = filename.toLowerCase().split(".").pop();
  return ext === "csv" || ext === "txt" ? "csv" : ext === "xlsx" ? "xlsx" : null;
}

function uniqueHeaders(raw: unknown[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((h, i) => {
    const base = String(h ?? "").trim() || `column_${i + 1}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}_${n + 1}` : base;
  });
}

async function* csvRows(path: string): AsyncGenerator<SheetRow & { headers: string[] }> {
  const parser = fs.createReadStream(path).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, trim: false, max_record_size: 1_000_000 }),
  );
  let headers: string[] | null = null;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (!headers) {
      headers = uniqueHeaders(record);
      continue;
    }
    const values: Record<string, unknown> = {};
    headers.forEach((h, i) => (values[h] = record[i] ?? ""));
    yield { line: info.lines, values, headers };
  }
}

/** An Excel cell as plain data: rich text joined, formulas by their result, midnight dates as dates. */
export function cellValue(v: unknown): unknown {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) {
    const iso = v.toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
  }
  if (typeof v === "object") {
    const o = v as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: unknown; hyperlink?: string };
    if (o.richText) return o.richText.map((t) => t.text).join("");
    if ("result" in o) return cellValue(o.result);
    if (o.error !== undefined) return "";
    if (o.text !== undefined) return cellValue(o.text);
    return JSON.stringify(v);
  }
  return v;
}

async function* xlsxRows(path: string): AsyncGenerator<SheetRow & { headers: string[] }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { sharedStrings: "cache", worksheets: "emit", hyperlinks: "ignore", styles: "cache", entries: "ignore" });
  for await (const sheet of reader) {
    let headers: string[] | null = null;
    for await (const row of sheet) {
      const cells = (row.values as unknown[]).slice(1).map(cellValue);
      if (!headers) {
        headers = uniqueHeaders(cells);
        continue;
      }
      if (cells.every((c) => c === "")) continue;
      const values: Record<string, unknown> = {};
      headers.forEach((h, i) => (values[h] = cells[i] ?? ""));
      yield { line: row.number, values, headers };
    }
    return; // the first worksheet is the data
  }
}

export function readRows(path: string, format: FileFormat) {
  return format === "csv" ? csvRows(path) : xlsxRows(path);
}

/** The header row alone (for suggesting a mapping). */
export async function readHeaders(path: string, format: FileFormat): Promise<string[]> {
  for await (const row of readRows(path, format)) return row.headers;
  return [];
}
