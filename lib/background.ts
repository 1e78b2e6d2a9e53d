import "server-only";
import { getDbHandle } from "@/db/client";
import { env } from "@/lib/env";
import { logError } from "@/lib/log";
import { flushUsage } from "@/lib/api-keys/usage";
import { startWorker, type DeliveryWorker } from "@/lib/webhooks/worker";
import { startQstashDispatcher } from "@/lib/webhooks/qstash";
import { connectorRunsSettled, startConnectorScheduler } from "@/lib/connectors/run";
import { importsSettled, resumeImports } from "@/lib/imports/runner";
import { flushRequestLog } from "@/lib/audit/request-log";
import { startRetentionSchedule } from "@/lib/audit/retention";
import { watchForPerServerLimits } from "@/lib/ops/fleet";
import { onShutdown } from "@/lib/ops/lifecycle";
import { startDatabaseHealthMonitor, stopDatabaseHealthMonitor } from "@/lib/ops/db-health";
import { startOperationalMailer } from "@/lib/webhooks/operational-email";
import { announceExpiringKeys } from "@/lib/api-keys/expiring";
import { startMetaFetcher } from "@/lib/leads/meta";

/**
 * The server's background work. Without QStash: the local delivery worker (which also covers
 * committed-but-undispatched deliveries, being a poller of the table). With QStash: a dispatcher
 * that publishes committed deliveries, plus a sweeper for any left undispatched.
 */
const IMPORT_SWEEP_MS = 60_000;
const holder = globalThis as unknown as { __smarfleBackground?: { stop(): Promise<void> } };

export async function startBackground(): Promise<void> {
  if (holder.__smarfleBackground) return;
  let worker: DeliveryWorker | undefined;
  let stopQstash: (() => Promise<void>) | undefined;
  let stopScheduler: (() => Promise<void>) | undefined;
  let stopRetention: (() => Promise<void>) | undefined;
  let stopMailer: (() => Promise<void>) | undefined;
  let stopImportSweep: (() => void) | undefined;
  let stopMetaFetcher: (() => void) | undefined;
  let keyTimers: NodeJS.Timeout[] = [];
  try {
    const handle = await getDbHandle();
    const db = handle.db;
    // With QStash, connector runs and retention come from its every-minute schedule (/api/internal/sweep).
    if (env().QSTASH_TOKEN) stopQstash = startQstashDispatcher(db);
    else {
      worker = startWorker(db);
      stopScheduler = startConnectorScheduler(db);
      stopRetention = startRetentionSchedule(db);
      stopMailer = startOperationalMailer(db);
      // api_key.expiring: shortly after start, then hourly (each key is announced once).
      const announce = () => void announceExpiringKeys(db).catch((err) => logError("api key expiry", err));
      keyTimers = [setTimeout(announce, 60_000), setInterval(announce, 60 * 60_000)];
      for (const t of keyTimers) t.unref();
    }
    if (handle.driver === "postgres") {
      watchForPerServerLimits(db);
      await startDatabaseHealthMonitor();
    }
    // Imports interrupted by a restart carry on from their last committed batch; waiting ones
    // start when their organization's turn comes.
    await resumeImports(db);
    // Meta leads whose Graph fetch failed are retried from their table (with QStash: by the sweep).
    if (!env().QSTASH_TOKEN) stopMetaFetcher = startMetaFetcher(db);
    const importSweep = setInterval(() => void resumeImports(db).catch((err) => logError("import", err)), IMPORT_SWEEP_MS);
    importSweep.unref();
    stopImportSweep = () => clearInterval(importSweep);
  } catch (err) {
    logError("background", err);
    return;
  }
  const stop = async () => {
    stopImportSweep?.();
    stopMetaFetcher?.();
    for (const t of keyTimers) clearTimeout(t);
    // In parallel: in-flight webhook attempts finish; connector runs and imports stop at their
    // next step (the shutdown signal) and hand their work back for another server to take.
    await Promise.all([worker?.stop(), stopQstash?.(), stopScheduler?.(), stopRetention?.(), stopMailer?.(), connectorRunsSettled(), importsSettled()]);
    await Promise.all([flushUsage().catch(() => {}), flushRequestLog().catch(() => {})]);
    await stopDatabaseHealthMonitor();
  };
  holder.__smarfleBackground = { stop };
  // `npm start` (server.mjs) calls the shutdown hook on SIGTERM, once it has stopped accepting
  // requests: in-flight attempts finish, the logs are flushed, then the process exits 0.
  onShutdown(stop);
}
