import "server-only";
import { stringify } from "csv-stringify/sync";
import type { Executor } from "@/db/client";
import { describeEntry, queryAuditStream, type AuditFilter } from "./query";
import { spreadsheetSafe } from "@/lib/csv";

/** The most rows one export holds; narrow the filter for more. */
export const EXPORT_MAX_ROWS = 100_000;
const PAGE = 1_000;
const HEADER = ["time", "kind", "actor_type", "actor_id", "actor", "source", "action", "target_type", "target_id", "summary", "before", "after"];

/** The filtered audit stream as CSV, produced page by page (never the whole log in memory). */
export function auditCsvStream(db: Executor, orgId: string, filter: AuditFilter): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | null = null;
  let written = 0;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(stringify([HEADER])));
      }
      const page = await queryAuditStream(db, orgId, filter, { cursor, limit: Math.min(PAGE, EXPORT_MAX_ROWS - written) });
      written += page.entries.length;
      if (page.entries.length) {
        const rows = page.entries.map((e) => [
          e.createdAt.toISOString(),
          e.kind,
          e.actorType,
          e.actorId ?? "",
          e.actorLabel ?? "",
          e.source,
          e.action,
          e.targetType,
          e.targetId ?? "",
          describeEntry(e),
          e.before ? JSON.stringify(e.before) : "",
          e.after ? JSON.stringify(e.after) : "",
        ]);
        controller.enqueue(encoder.encode(stringify(rows.map((r) => r.map(spreadsheetSafe)))));
      }
      cursor = page.nextCursor;
      if (!cursor || written >= EXPORT_MAX_ROWS) controller.close();
    },
  });
}

export async function auditCsv(db: Executor, orgId: string, filter: AuditFilter): Promise<string> {
  return new Response(auditCsvStream(db, orgId, filter)).text();
}
