import "server-only";
import { stringify } from "csv-stringify/sync";
import type { Db } from "@/db/client";
import { spreadsheetSafe } from "@/lib/csv";
import { errorRows, getImport } from "./imports";

/** The failed rows as CSV — line, reason, then the row's own columns — streamed page by page. */
export async function errorsCsvStream(db: Db, orgId: string, id: string): Promise<ReadableStream<Uint8Array>> {
  await getImport(db, orgId, id);
  const rows = errorRows(db, orgId, id);
  const encoder = new TextEncoder();
  let columns: string[] | null = null;
  return new ReadableStream({
    async pull(controller) {
      const next = await rows.next();
      if (next.done) {
        if (!columns) controller.enqueue(encoder.encode(stringify([["line", "reason"]])));
        controller.close();
        return;
      }
      const e = next.value;
      const row = new Map(e.row ?? []);
      let out = "";
      if (!columns) {
        columns = (e.row ?? []).map(([k]) => k);
        out += stringify([["line", "reason", ...columns.map(spreadsheetSafe)]]);
      }
      // The rows are what a tenant uploaded: no cell may run as a formula in the admin's spreadsheet.
      const cells = [e.reason, ...columns.map((c) => (row.get(c) === null || row.get(c) === undefined ? "" : String(row.get(c))))].map(spreadsheetSafe);
      out += stringify([[e.line, ...cells]]);
      controller.enqueue(encoder.encode(out));
    },
  });
}
