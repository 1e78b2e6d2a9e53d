import "server-only";
import { stringify } from "csv-stringify/sync";
import type { Db } from "@/db/client";
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
        out += stringify([["line", "reason", ...columns]]);
      }
      out += stringify([[e.line, e.reason, ...columns.map((c) => (row.get(c) === null || row.get(c) === undefined ? "" : String(row.get(c))))]]);
      controller.enqueue(encoder.encode(out));
    },
  });
}
