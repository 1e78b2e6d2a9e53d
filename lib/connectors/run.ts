import "server-only";
import { metrics } from "@/lib/ops/metrics";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
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
import { runAfterResponse } from "@/lib/http/after";
import { env } from "@/lib/env";
import { limitOutbound } from "@/lib/rate-limit/outbound";
import { fetchJson } from "./fetch";
import { getConnector, paginationSchema } from "./connectors";
import { emitOperationalEvent } from "@/lib/webhooks/operational";
import { shutdownSignal, shuttingDown } from "@/lib/ops/lifecycle";

/**
 * One connector run: fetch page after page from the source, map each record, write them through
 * the pipeline's batch path (upsert by external id), and keep the cursor so the next run only
 * fetches what changed. Every run is logged; 5 failures in a row pause the connector.
 *
 * Scheduled and manual runs go through one queue (connector_runs rows in status queued): at most
 * 2 running per organization, round-robin across organizations, 6 at once per server. A run has a
 * 5-minute budget and a 100-page cap; a partial unique index keeps each connector to one queued or
 * running run, whichever server claims it.
 */

export const MAX_PAGES = 100;
export const PAUSE_AFTER_FAILURES = 5;
/** Runs of one organization at once, across servers. */
export const MAX_RUNS_PER_ORG = 2;
/** Runs one server executes at once, whoever they belong to. */
export const MAX_RUNS_PER_SERVER = 6;
/** A run's wall-clock budget (CONNECTOR_RUN_BUDGET_SECONDS, default 5 minutes): shorter than its lease. */
const runBudgetMs = () => env().CONNECTOR_RUN_BUDGET_SECONDS * 1000;
const runLeaseMs = () => runBudgetMs() + 2 * 60_000;
const CLAIM_LOCK = 7_240_011; // pg advisory lock key of the run queue

/** Runs a claimed run (status running, under its lease) of `connector`, within the time budget. */
async function runConnector(db: Db, connector: Connector, runId: string) {
  const started = new Date();
  await db.update(connectorRuns).set({ cursorBefore: connector.cursor }).where(eq(connectorRuns.id, runId));
  const budget = new AbortController();
  const budgetMs = runBudgetMs();
  const budgetTimer = setTimeout(
    () => budget.abort(new AppError("unavailable", `The run took longer than its budget of ${budgetMs / 1000} s and was stopped.`)),
    budgetMs,
  );
  budgetTimer.unref();
  // A shutdown stops the run at its next step; it is handed back rather than counted as failed.
  const signal = AbortSignal.any([budget.signal, shutdownSignal()]);
  const counts = { pages: 0, fetched: 0, created: 0, updated: 0, failed: 0 };
  let cursor = connector.cursor;
  let error: string | null = null;
  try {
    const pagination = paginationSchema.parse(connector.pagination);
    const mapping = parseMapping(connector.mapping);
    const headers = connector.headersCiphertext
      ? (JSON.parse(decrypt(connector.headersCiphertext, { orgId: connector.orgId, column: "connectors.headers" })) as Record<string, string>)
      : {};
    const ctx = { orgId: connector.orgId, actor: { type: "connector" as const, id: connector.id, label: connector.name }, source: "connector" as const };

    let url: string | null = connector.url;
    if ((pagination.type === "cursor" || pagination.type === "updated_since") && cursor) {
      const u = new URL(connector.url);
      u.searchParams.set(pagination.param, cursor);
      url = u.toString();
    }
    let highest = pagination.type === "updated_since" ? cursor : null;
    // At most MAX_PAGES a run; with a cursor, the next run carries on from there.
    while (url && counts.pages < MAX_PAGES) {
      signal.throwIfAborted();
      const body = await fetchJson(url, headers, signal);
      counts.pages++;
      const list = connector.recordsPath ? getPath(body, connector.recordsPath) : body;
      if (!Array.isArray(list))
        throw new AppError("validation_failed", `No list of records at ${connector.recordsPath ? `"${connector.recordsPath}"` : "the top of the response"}.`);
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
        if (typeof next === "string" && next) url = sameOriginNextUrl(next, connector.url);
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
    if (!(err instanceof AppError) && !/answered|timed out|refused|not JSON|larger than|resolve|private|not allowed|budget|hang up|reset/i.test(error))
      logError("connector run", err, { connector: connector.id });
  } finally {
    clearTimeout(budgetTimer);
  }

  const finished = new Date();
  const interrupted = error !== null && shuttingDown();
  if (interrupted) error = "The run was interrupted by a server shutdown; the connector runs again at once on another server.";
  const ok = error === null;
  await db.transaction(async (tx) => {
    await tx
      .update(connectorRuns)
      .set({
        status: ok ? "succeeded" : "failed",
        finishedAt: finished,
        durationMs: finished.getTime() - started.getTime(),
        ...counts,
        error,
        cursorAfter: ok ? cursor : connector.cursor,
        leaseUntil: null,
      })
      .where(eq(connectorRuns.id, runId));
    const failures = ok ? 0 : interrupted ? connector.consecutiveFailures : connector.consecutiveFailures + 1;
    const pause = failures >= PAUSE_AFTER_FAILURES;
    await tx
      .update(connectors)
      .set({
        // A failed run keeps the old cursor: the next one fetches the same changes again.
        cursor: ok ? cursor : connector.cursor,
        consecutiveFailures: failures,
        lastRunAt: finished,
        nextRunAt: interrupted ? finished : new Date(finished.getTime() + connector.intervalMinutes * 60_000),
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
        [
          {
            kind: "connector_paused",
            title: `Connector paused: ${connector.name}`,
            body: `${failures} runs in a row failed (last: ${error}). Fix the source, then resume it in Settings → Connectors.`,
            link: `settings/connectors/${connector.id}`,
          },
        ],
        ["owner", "admin"],
      );
      await emitOperationalEvent(
        tx,
        connector.orgId,
        "connector.paused",
        {
          id: connector.id,
          name: connector.name,
          reason: `${failures} runs failed in a row; last error: ${error}`,
          link: `settings/connectors/${connector.id}`,
        },
        { noBell: true },
      );
    }
  });
  metrics().connectorRuns.inc({ outcome: ok ? "succeeded" : interrupted ? "interrupted" : "failed" });
  const [run] = await db.select().from(connectorRuns).where(eq(connectorRuns.id, runId));
  return run!;
}

/**
 * The next page's URL, resolved against the connector's: it must stay on the connector's origin,
 * since the stored headers (credentials) go with every request. Another origin fails the run
 * before anything is sent there.
 */
export function sameOriginNextUrl(next: string, base: string): string {
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    throw new AppError("validation_failed", `The next page's URL is not a URL: ${next.slice(0, 200)}`);
  }
  const origin = new URL(base).origin;
  if (url.origin !== origin)
    throw new AppError(
      "validation_failed",
      `The next page's URL is on ${url.origin}, not on the connector's origin ${origin}; the connector's headers are only sent to its own origin, so the run stopped.`,
    );
  return url.toString();
}

/**
 * "Run now" from the UI or API: queues a run and answers at once with it (status queued). A
 * connector with a run already queued or running is refused with 409.
 */
export async function runConnectorNow(db: Db, orgId: string, id: string) {
  const connector = await getConnector(db, orgId, id);
  await limitOutbound(orgId, "connector_run");
  const run = await enqueueRun(db, connector, "manual");
  if (!run) throw new AppError("conflict", "This connector already has a run queued or running.");
  return run;
}

async function enqueueRun(db: Db, connector: Pick<Connector, "id" | "orgId" | "cursor">, trigger: "schedule" | "manual") {
  const [run] = await db
    .insert(connectorRuns)
    .values({
      id: newId("run"),
      orgId: connector.orgId,
      connectorId: connector.id,
      status: "queued",
      trigger,
      startedAt: new Date(),
      cursorBefore: connector.cursor,
    })
    .onConflictDoNothing()
    .returning();
  return run ?? null;
}

/** Queues a run for every active connector whose next run is due and has none queued or running. */
export async function enqueueDueConnectors(db: Db, options: { orgIds?: string[] } = {}): Promise<number> {
  const orgs = options.orgIds ? sql`and c.org_id = any(${`{${options.orgIds.join(",")}}`}::text[])` : sql``;
  const due = rowsOf<Pick<Connector, "id" | "orgId" | "cursor">>(
    await db.execute(sql`
      select c.id, c.org_id as "orgId", c.cursor from connectors c
      where c.status = 'active' and c.next_run_at <= now() ${orgs}
        and not exists (select 1 from connector_runs r where r.connector_id = c.id and r.status in ('queued', 'running'))
      order by c.next_run_at limit 500`),
  );
  let queued = 0;
  for (const c of due) if (await enqueueRun(db, c, "schedule")) queued++;
  return queued;
}

/** Fails runs whose lease ran out (their server stopped mid-run), freeing their slots. */
async function expireLeases(db: Db): Promise<void> {
  await db
    .update(connectorRuns)
    .set({ status: "failed", finishedAt: new Date(), error: "The run was interrupted (its server stopped) and did not finish.", leaseUntil: null })
    .where(and(eq(connectorRuns.status, "running"), lt(connectorRuns.leaseUntil, new Date())));
}

/**
 * Claims up to `slots` queued runs, fairly: at most MAX_RUNS_PER_ORG running per organization,
 * and round-robin — every organization's oldest queued run before anyone's second. Claims are
 * serialized across servers by a transaction-scoped advisory lock, so the per-organization cap
 * holds with several app servers.
 */
async function claimRuns(db: Db, slots: number, orgIds?: string[]): Promise<{ id: string; connectorId: string }[]> {
  if (slots <= 0) return [];
  const orgs = orgIds ? sql`and org_id = any(${`{${orgIds.join(",")}}`}::text[])` : sql``;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
    const picked = rowsOf<{ id: string }>(
      await tx.execute(sql`
        with busy as (
          select org_id, count(*)::int as n from connector_runs where status = 'running' group by org_id
        ), queued as (
          select id, org_id, started_at, row_number() over (partition by org_id order by started_at, id) as rn
          from connector_runs where status = 'queued' ${orgs}
        )
        select q.id from queued q left join busy b on b.org_id = q.org_id
        where coalesce(b.n, 0) + q.rn <= ${MAX_RUNS_PER_ORG}
        order by q.rn, q.started_at, q.id
        limit ${slots}`),
    ).map((r) => r.id);
    if (picked.length === 0) return [];
    return tx
      .update(connectorRuns)
      .set({ status: "running", startedAt: new Date(), leaseUntil: new Date(Date.now() + runLeaseMs()) })
      .where(and(inArray(connectorRuns.id, picked), eq(connectorRuns.status, "queued")))
      .returning({ id: connectorRuns.id, connectorId: connectorRuns.connectorId });
  });
}

const executing = new Map<string, Promise<void>>();

/**
 * Starts as many queued runs as this server has room for (MAX_RUNS_PER_SERVER at once), each in
 * the background; every run that ends makes room for the next. Resolves once the claimed runs
 * have started; `settled()` waits for them to end.
 */
export async function pumpConnectorRuns(db: Db, options: { orgIds?: string[] } = {}): Promise<number> {
  if (shuttingDown()) return 0;
  await expireLeases(db);
  const claimed = await claimRuns(db, MAX_RUNS_PER_SERVER - executing.size, options.orgIds);
  for (const { id, connectorId } of claimed) {
    const task = (async () => {
      const [c] = await db.select().from(connectors).where(eq(connectors.id, connectorId));
      if (c) await runConnector(db, c, id);
    })()
      .catch((err) => logError("connector run", err, { run: id }))
      .finally(() => {
        executing.delete(id);
        void pumpConnectorRuns(db, options).catch((err) => logError("connector scheduler", err));
      });
    executing.set(id, task);
  }
  return claimed.length;
}

/** Starts queued runs after the response, and (serverless) keeps the function alive until they end. */
export function kickConnectorRuns(db: Db): void {
  runAfterResponse(async () => {
    await pumpConnectorRuns(db);
    await connectorRunsSettled();
  });
}

/** Waits until this server runs no connector run (tests, and the serverless sweep). */
export async function connectorRunsSettled(): Promise<void> {
  while (executing.size > 0) await Promise.all(executing.values());
}

/** One scheduler step: queue what is due, then start what there is room for. */
export async function runDueConnectors(db: Db, options: { orgIds?: string[] } = {}): Promise<number> {
  const queued = await enqueueDueConnectors(db, options);
  await pumpConnectorRuns(db, options);
  return queued;
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
