import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { connectorRuns, connectors, type Connector } from "@/db/schema";
import type { Db } from "@/db/client";
import { newId } from "@/lib/ids";
import { logError } from "@/lib/log";
import { rowsOf } from "@/lib/db-utils";
import { decrypt } from "@/lib/crypto/encryption";
import { writeAudit } from "@/lib/audit/write";
import { notifyMembers } from "@/lib/notifications/notify";
import { applyMapping, getPath, parseMapping } from "@/lib/mapping/mapping";
import { writeRecords, type WriteOp } from "@/lib/records/pipeline";
import { AppError } from "@/lib/errors";
import { fetchJson } from "./fetch";
import { getConnector, paginationSchema } from "./connectors";
import { emitOperationalEvent } from "@/lib/webhooks/operational";

/**
 * One connector run: fetch page after page from the source, map each record, write them through
 * the pipeline's batch path (upsert by external id), and keep the cursor so the next run only
 * fetches what changed. Every run is logged; 5 failures in a row pause the connector.
 */

export const MAX_PAGES = 100;
export const PAUSE_AFTER_FAILURES = 5;

export async function runConnector(db: Db, connector: Connector, trigger: "schedule" | "manual") {
  const started = new Date();
  const runId = newId("run");
  await db.insert(connectorRuns).values({ id: runId, orgId: connector.orgId, connectorId: connector.id, status: "running", trigger, startedAt: started, cursorBefore: connector.cursor });
  const counts = { pages: 0, fetched: 0, created: 0, updated: 0, failed: 0 };
  let cursor = connector.cursor;
  let error: string | null = null;
  try {
    const pagination = paginationSchema.parse(connector.pagination);
    const mapping = parseMapping(connector.mapping);
    const headers = connector.headersCiphertext ? (JSON.parse(decrypt(connector.headersCiphertext)) as Record<string, string>) : {};
    const ctx = { orgId: connector.orgId, actor: { type: "connector" as const, id: connector.id, label: connector.name }, source: "connector" as const };

    let url: string | null = connector.url;
    if ((pagination.type === "cursor" || pagination.type === "updated_since") && cursor) {
      const u = new URL(connector.url);
      u.searchParams.set(pagination.param, cursor);
      url = u.toString();
    }
    let highest = pagination.type === "updated_since" ? cursor : null;
    while (url && counts.pages < MAX_PAGES) {
      const body = await fetchJson(url, headers);
      counts.pages++;
      const list = connector.recordsPath ? getPath(body, connector.recordsPath) : body;
      if (!Array.isArray(list)) throw new AppError("validation_failed", `No list of records at ${connector.recordsPath ? `"${connector.recordsPath}"` : "the top of the response"}.`);
      counts.fetched += list.length;
      for (let i = 0; i < list.length; i += 1000) {
        const ops: WriteOp[] = list.slice(i, i + 1000).map((item) => {
          const m = applyMapping(mapping, item);
          return m.externalId ? { kind: "upsert", data: m.data } : { kind: "create", data: m.data };
        });
        for (const r of await writeRecords(ctx, mapping.target, ops, { db })) {
          if (!r.ok) counts.failed++;
          else if (r.outcome === "created") counts.created++;
          else if (r.outcome === "updated") counts.updated++;
        }
      }
      if (pagination.type === "updated_since") {
        for (const item of list) {
          const v = getPath(item, pagination.field);
          if (v !== undefined && v !== null && (highest === null || String(v) > highest)) highest = String(v);
        }
      }
      // The next page, if the source says there is one.
      url = null;
      if (pagination.type === "next_url") {
        const next = getPath(body, pagination.path);
        if (typeof next === "string" && next) url = new URL(next, connector.url).toString();
      } else if (pagination.type === "cursor") {
        const next = getPath(body, pagination.path);
        if ((typeof next === "string" || typeof next === "number") && String(next) !== "" && list.length > 0) {
          cursor = String(next);
          const u = new URL(connector.url);
          u.searchParams.set(pagination.param, cursor);
          url = u.toString();
        }
      }
    }
    if (pagination.type === "updated_since") cursor = highest;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    if (!(err instanceof AppError) && !/answered|timed out|refused|not JSON|larger than|resolve|private|not allowed/i.test(error)) logError("connector run", err, { connector: connector.id });
  }

  const finished = new Date();
  const ok = error === null;
  await db.transaction(async (tx) => {
    await tx
      .update(connectorRuns)
      .set({ status: ok ? "succeeded" : "failed", finishedAt: finished, durationMs: finished.getTime() - started.getTime(), ...counts, error, cursorAfter: ok ? cursor : connector.cursor })
      .where(eq(connectorRuns.id, runId));
    const failures = ok ? 0 : connector.consecutiveFailures + 1;
    const pause = failures >= PAUSE_AFTER_FAILURES;
    await tx
      .update(connectors)
      .set({
        // A failed run keeps the old cursor: the next one fetches the same changes again.
        cursor: ok ? cursor : connector.cursor,
        consecutiveFailures: failures,
        lastRunAt: finished,
        nextRunAt: new Date(finished.getTime() + connector.intervalMinutes * 60_000),
        lockedUntil: null,
        ...(pause ? { status: "paused" as const, pausedReason: `${failures} runs failed in a row; last error: ${error}` } : {}),
      })
      .where(eq(connectors.id, connector.id));
    if (pause && connector.status === "active") {
      await writeAudit(tx, connector.orgId, { type: "system", id: null, label: "connector scheduler" }, "system", [
        { action: "connector.paused", targetType: "connector", targetId: connector.id, after: { reason: `${failures} failed runs`, error } },
      ]);
      await notifyMembers(
        tx,
        connector.orgId,
        [{ kind: "connector_paused", title: `Connector paused: ${connector.name}`, body: `${failures} runs in a row failed (last: ${error}). Fix the source, then resume it in Settings → Connectors.`, link: `settings/connectors/${connector.id}` }],
        ["owner", "admin"],
      );
      await emitOperationalEvent(tx, connector.orgId, "connector.paused", { id: connector.id, name: connector.name, reason: `${failures} runs failed in a row; last error: ${error}`, link: `settings/connectors/${connector.id}` }, { noBell: true });
    }
  });
  const [run] = await db.select().from(connectorRuns).where(eq(connectorRuns.id, runId));
  return run!;
}

/** "Run now" from the UI or API: runs at once (refused while a scheduled run holds it). */
export async function runConnectorNow(db: Db, orgId: string, id: string) {
  const connector = await getConnector(db, orgId, id);
  const claimed = await db
    .update(connectors)
    .set({ lockedUntil: sql`now() + interval '10 minutes'` })
    .where(and(eq(connectors.id, id), sql`(${connectors.lockedUntil} is null or ${connectors.lockedUntil} < now())`))
    .returning({ id: connectors.id });
  if (claimed.length === 0) throw new AppError("conflict", "This connector is running right now.");
  return runConnector(db, connector, "manual");
}

/** Claims and runs the active connectors whose next run is due. */
export async function runDueConnectors(db: Db, options: { orgIds?: string[] } = {}): Promise<number> {
  const orgs = options.orgIds ? sql`and org_id = any(${`{${options.orgIds.join(",")}}`}::text[])` : sql``;
  const result = await db.execute(sql`
    update connectors c set locked_until = now() + interval '10 minutes'
    from (
      select id from connectors
      where status = 'active' and next_run_at <= now() and (locked_until is null or locked_until < now()) ${orgs}
      order by next_run_at limit 20
      for update skip locked
    ) due where c.id = due.id
    returning c.id`);
  const ids = rowsOf<{ id: string }>(result).map((r) => r.id);
  for (const id of ids) {
    const [c] = await db.select().from(connectors).where(eq(connectors.id, id));
    if (c) await runConnector(db, c, "schedule").catch((err) => logError("connector run", err, { connector: id }));
  }
  return ids.length;
}

/** The in-process scheduler: checks for due connectors every 30 s. */
export function startConnectorScheduler(db: Db, everyMs = 30_000): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(() => runDueConnectors(db)).catch((err) => logError("connector scheduler", err));
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
