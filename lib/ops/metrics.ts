import "server-only";
import { timingSafeEqual, createHash } from "node:crypto";
import { and, eq, lte, sql } from "drizzle-orm";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { getDb, getDbHandle, SERVER_APPLICATION_PREFIX } from "@/db/client";
import { rowsOf } from "@/lib/db-utils";
import { webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { env } from "@/lib/env";

/**
 * Prometheus metrics (GET /api/metrics). Labels are low-cardinality by rule: route patterns (ids
 * replaced by `{id}`), methods, status codes, outcomes, channels — never an org id, a key or a
 * URL. Counters live in this process; the queue gauges are read from the database at scrape time
 * and so are the same on every server.
 */

function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "smarfle_" });
  const m = {
    registry,
    httpRequests: new Counter({
      name: "smarfle_http_requests_total",
      help: "API requests answered, by route pattern, method and status.",
      labelNames: ["route", "method", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "smarfle_http_request_duration_seconds",
      help: "Time to answer an API request, by route pattern and method.",
      labelNames: ["route", "method"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "smarfle_rate_limit_rejections_total",
      help: "Requests refused with 429, by limit.",
      labelNames: ["limit"] as const,
      registers: [registry],
    }),
    leads: new Counter({ name: "smarfle_leads_captured_total", help: "Leads captured, by channel.", labelNames: ["channel"] as const, registers: [registry] }),
    deliveries: new Counter({
      name: "smarfle_webhook_attempts_total",
      help: "Webhook delivery attempts, by outcome.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: "smarfle_webhook_attempt_duration_seconds",
      help: "Time a receiver took to answer a delivery attempt.",
      labelNames: ["outcome"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
      registers: [registry],
    }),
    connectorRuns: new Counter({
      name: "smarfle_connector_runs_total",
      help: "Connector runs finished, by outcome.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    importRows: new Counter({ name: "smarfle_import_rows_total", help: "Imported rows, by outcome.", labelNames: ["outcome"] as const, registers: [registry] }),
  };
  new Gauge({
    name: "smarfle_webhook_deliveries_due",
    help: "Pending webhook deliveries whose next attempt is due now (all servers).",
    registers: [registry],
    async collect() {
      this.set((await queueState()).due);
    },
  });
  new Gauge({
    name: "smarfle_webhook_oldest_due_seconds",
    help: "How long the oldest due webhook delivery has been waiting past its due time (all servers).",
    registers: [registry],
    async collect() {
      this.set((await queueState()).oldestSeconds);
    },
  });
  new Gauge({
    name: "smarfle_webhook_endpoints",
    help: "Enabled webhook endpoints by circuit state (closed, open, half_open), all servers.",
    labelNames: ["circuit"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await circuitStates()) this.set({ circuit: row.state }, row.n);
    },
  });
  new Gauge({
    name: "smarfle_db_connections",
    help: "This server's PostgreSQL connections by state (active: running a statement; idle: free in the pool).",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await poolUse()) this.set({ state: row.state }, row.n);
    },
  });
  return m;
}

async function circuitStates(): Promise<{ state: string; n: number }[]> {
  try {
    const db = await getDb();
    return await db
      .select({ state: webhookEndpoints.circuitState, n: sql<number>`count(*)::int` })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.status, "enabled"))
      .groupBy(webhookEndpoints.circuitState);
  } catch {
    return [];
  }
}

async function poolUse(): Promise<{ state: string; n: number }[]> {
  try {
    const handle = await getDbHandle();
    if (handle.driver !== "postgres") return [];
    const rows = await handle.db.execute(sql`
      select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
      where application_name = ${`${SERVER_APPLICATION_PREFIX}${process.pid}`} group by 1`);
    return rowsOf<{ state: string; n: number }>(rows);
  } catch {
    return [];
  }
}

type Metrics = ReturnType<typeof createMetrics>;
const holder = globalThis as unknown as {
  __smarfleMetrics?: Metrics;
  __smarfleQueueState?: { at: number; value: Promise<{ due: number; oldestSeconds: number }> };
};

export function metrics(): Metrics {
  return (holder.__smarfleMetrics ??= createMetrics());
}

/** One query for both queue gauges, shared within a scrape. */
function queueState(): Promise<{ due: number; oldestSeconds: number }> {
  const cached = holder.__smarfleQueueState;
  if (cached && Date.now() - cached.at < 1_000) return cached.value;
  const value = (async () => {
    try {
      const db = await getDb();
      const [row] = await db
        .select({ due: sql<number>`count(*)::int`, oldest: sql<number | null>`extract(epoch from now() - min(${webhookDeliveries.nextAttemptAt}))::float8` })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, sql`now()`)));
      return { due: row?.due ?? 0, oldestSeconds: Math.max(0, row?.oldest ?? 0) };
    } catch {
      return { due: Number.NaN, oldestSeconds: Number.NaN };
    }
  })();
  holder.__smarfleQueueState = { at: Date.now(), value };
  return value;
}

const ID_SEGMENT = /^[a-z]{2,5}_[0-9A-Za-z]{8,}$/;

/** `/api/v1/records/client/cli_8Hx…` → `/api/v1/records/client/{id}`: a label that stays small. */
export function routePattern(pathname: string): string {
  const parts = pathname.split("/").slice(0, 8);
  return parts.map((p) => (ID_SEGMENT.test(p) ? "{id}" : p.length > 40 ? "{value}" : p)).join("/");
}

export function observeHttp(pathname: string, method: string, status: number, seconds: number): void {
  const m = metrics();
  const route = routePattern(pathname);
  m.httpRequests.inc({ route, method, status: String(status) });
  m.httpDuration.observe({ route, method }, seconds);
}

/** Whether `authorization` carries METRICS_TOKEN; without METRICS_TOKEN the metrics are off. */
export function metricsAuthorized(authorization: string | null): "off" | "ok" | "refused" {
  const token = env().METRICS_TOKEN;
  if (!token) return "off";
  const presented = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? "")?.[1] ?? "";
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(presented), digest(token)) ? "ok" : "refused";
}
