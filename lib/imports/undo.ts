import "server-only";
import { and, asc, eq, gt, gte, inArray, lte } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { auditLog, imports, type ImportJob } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { logError } from "@/lib/log";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { runAfterResponse } from "@/lib/http/after";
import { registry, type RecordType } from "@/lib/records/registry";
import { serializeRecord, type ApiRecord } from "@/lib/records/serialize";
import { writeRecords, type WriteOp } from "@/lib/records/pipeline";
import { getImport } from "./imports";

/**
 * Undoing a finished import, within 7 days: the records it created are deleted and the ones it
 * updated get their previous values back, read from the audit trail's before-values — all through
 * the record pipeline, so webhooks, workflows and the audit log see the undo like any change. A
 * record changed since the import (its version moved on, or the fields the import wrote hold
 * other values now) is left alone and reported.
 */

export const UNDO_WINDOW_DAYS = 7;
const PAGE = 500;
const REPORTED_CONFLICTS = 50;

export interface UndoReport {
  deleted: number;
  restored: number;
  not_restored: number;
  conflicts: { id: string; reason: string }[];
}

/** Marks the import as being undone and starts the undo after the response (202). */
export async function requestUndo(db: Db, ctx: ChangeContext, id: string): Promise<ImportJob> {
  const job = await getImport(db, ctx.orgId, id);
  if (job.status !== "completed") throw new AppError("conflict", `Only a completed import can be undone (this one is ${job.status}).`);
  if (!job.finishedAt || job.finishedAt.getTime() < Date.now() - UNDO_WINDOW_DAYS * 86_400_000) {
    throw new AppError("conflict", `An import can be undone for ${UNDO_WINDOW_DAYS} days after it finished.`);
  }
  const [claimed] = await db
    .update(imports)
    .set({ status: "undoing" })
    .where(and(eq(imports.orgId, ctx.orgId), eq(imports.id, id), eq(imports.status, "completed")))
    .returning();
  if (!claimed) throw new AppError("conflict", "This import is already being undone.");
  runAfterResponse(() => runUndo(db, ctx, claimed).catch((err) => logError("import undo", err, { import: id })));
  return claimed;
}

/** The fields an update wrote, as they were before, ready to write back. */
function restorePatch(before: Record<string, unknown>, current: ApiRecord): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(before)) {
    if (k === "custom_fields") {
      // PATCH merges custom fields: keys the import added are removed with null.
      const old = (v ?? {}) as Record<string, unknown>;
      const now = (current.custom_fields ?? {}) as Record<string, unknown>;
      patch.custom_fields = { ...Object.fromEntries(Object.keys(now).map((key) => [key, null])), ...old };
    } else patch[k] = v;
  }
  return patch;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export async function runUndo(db: Db, ctx: ChangeContext, job: ImportJob): Promise<UndoReport> {
  const type = job.recordType as RecordType;
  const def = registry[type];
  const report: UndoReport = { deleted: 0, restored: 0, not_restored: 0, conflicts: [] };
  const conflict = (id: string, reason: string) => {
    report.not_restored++;
    if (report.conflicts.length < REPORTED_CONFLICTS) report.conflicts.push({ id, reason });
  };
  const undoCtx = { orgId: job.orgId, actor: ctx.actor, source: "import" as const };
  let after = "";
  try {
    for (;;) {
      const entries = await db
        .select({ id: auditLog.id, action: auditLog.action, targetId: auditLog.targetId, before: auditLog.before, after: auditLog.after })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.orgId, job.orgId),
            gte(auditLog.createdAt, job.createdAt),
            lte(auditLog.createdAt, job.finishedAt ?? new Date()),
            eq(auditLog.actorType, "import"),
            eq(auditLog.actorId, job.id),
            inArray(auditLog.action, [`${type}.created`, `${type}.updated`]),
            gt(auditLog.id, after),
          ),
        )
        .orderBy(asc(auditLog.id))
        .limit(PAGE);
      if (entries.length === 0) break;
      after = entries[entries.length - 1]!.id;
      const ids = [...new Set(entries.map((e) => e.targetId!))];
      const rows = await db
        .select()
        .from(def.table)
        .where(and(eq(def.table.orgId as PgColumn, job.orgId), inArray(def.table.id as PgColumn, ids)));
      const current = new Map(rows.map((r) => [r.id as string, serializeRecord(def, r as Record<string, unknown>)]));
      const ops: WriteOp[] = [];
      const planned = new Set<string>();
      // Newest first within the page, so a record the import touched twice is judged by its last write.
      for (const e of [...entries].reverse()) {
        const id = e.targetId!;
        if (planned.has(id)) continue;
        planned.add(id);
        const now = current.get(id);
        if (!now) {
          conflict(id, "deleted since the import");
          continue;
        }
        if (e.action.endsWith(".created")) {
          if (now.version !== 1) conflict(id, "changed since the import");
          else ops.push({ kind: "delete", id });
          continue;
        }
        const wrote = e.after ?? {};
        if (!Object.entries(wrote).every(([k, v]) => same(now[k], v))) conflict(id, "changed since the import");
        else ops.push({ kind: "update", id, data: restorePatch(e.before ?? {}, now) });
      }
      const results = ops.length ? await writeRecords(undoCtx, type, ops, { db }) : [];
      results.forEach((r, i) => {
        const op = ops[i]!;
        const id = op.kind === "delete" || op.kind === "update" ? op.id : "";
        if (!r.ok) conflict(id, r.error.message);
        else if (op.kind === "delete") report.deleted++;
        else report.restored++;
      });
      if (entries.length < PAGE) break;
    }
    await db
      .update(imports)
      .set({ status: "undone", undoReport: { ...report } })
      .where(and(eq(imports.orgId, job.orgId), eq(imports.id, job.id)));
    await writeAudit(db, job.orgId, ctx.actor, ctx.source, [
      { action: "import.undone", targetType: "import", targetId: job.id, after: { ...report, conflicts: report.conflicts.length } },
    ]);
  } catch (err) {
    // Back to completed: the undo can be asked for again (what it already reverted stays reverted).
    await db
      .update(imports)
      .set({ status: "completed", undoReport: { ...report, error: (err as Error).message } })
      .where(and(eq(imports.orgId, job.orgId), eq(imports.id, job.id)));
    throw err;
  }
  return report;
}
