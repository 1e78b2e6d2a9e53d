import { afterAll, beforeAll, describe, expect, it } from "vitest";
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- the package ships no types: it returns the metric families below
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { DbHandle } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { GET as me } from "@/app/api/v1/me/route";
import { POST as lead } from "@/app/api/webhook/leads/route";
import { call, makeKey } from "../helpers/api";
import { createTestOrg, dropTestOrgs, useTestDb, usingPostgres, type TestOrg } from "../helpers/db";

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }[];
}

const TOKEN = "metrics-token-for-tests-only-0123456789";
let handle: DbHandle;
let org: TestOrg;
let key: string;
let leadsKey: string;

async function scrape(token: string | null = TOKEN): Promise<Response> {
  return metricsRoute(new Request("http://127.0.0.1/api/metrics", { headers: token ? { authorization: `Bearer ${token}` } : {} }));
}

async function families(): Promise<Map<string, Family>> {
  const res = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parsePrometheusTextFormat(await res.text()) as Family[];
  return new Map(parsed.map((f) => [f.name, f]));
}

function value(fams: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const fam = fams.get(name);
  const m = fam?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m ? Number(m.value ?? m.count ?? 0) : 0;
}

beforeAll(async () => {
  handle = await useTestDb();
  org = await createTestOrg(handle.db);
  key = (await makeKey(handle.db, org, ["read"])).key;
  leadsKey = (await makeKey(handle.db, org, ["leads"], "form")).key;
});

afterAll(async () => {
  delete process.env.METRICS_TOKEN;
  resetEnvCache();
  await dropTestOrgs(handle.db, [org]);
  await handle.close();
});

describe(`GET /api/metrics (${usingPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("is off (404) without METRICS_TOKEN", async () => {
    delete process.env.METRICS_TOKEN;
    resetEnvCache();
    expect((await scrape()).status).toBe(404);
  });

  it("refuses a wrong token with the error envelope", async () => {
    process.env.METRICS_TOKEN = TOKEN;
    resetEnvCache();
    const res = await scrape("not-the-token");
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.request_id).toMatch(/^req_/);
    expect((await scrape(null)).status).toBe(401);
  });

  it("serves Prometheus text whose counters move with traffic, with low-cardinality labels only", async () => {
    process.env.METRICS_TOKEN = TOKEN;
    resetEnvCache();
    const before = await families();
    const ok = { route: "/api/v1/me", method: "GET", status: "200" };
    const unauthorized = { route: "/api/v1/me", method: "GET", status: "401" };
    const start = { ok: value(before, "smarfle_http_requests_total", ok), unauthorized: value(before, "smarfle_http_requests_total", unauthorized) };

    for (let i = 0; i < 3; i++) expect((await call(me, { key })).status).toBe(200);
    expect((await call(me, { key: "sk_live_not-a-real-key" })).status).toBe(401);

    const after = await families();
    expect(value(after, "smarfle_http_requests_total", ok) - start.ok).toBe(3);
    expect(value(after, "smarfle_http_requests_total", unauthorized) - start.unauthorized).toBe(1);
    expect(after.get("smarfle_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(after.get("smarfle_webhook_deliveries_due")?.type).toBe("GAUGE");
    expect(Number.isFinite(value(after, "smarfle_webhook_deliveries_due", {}))).toBe(true);
    expect(after.has("smarfle_process_resident_memory_bytes")).toBe(true);
    for (const name of [
      "smarfle_leads_captured_total",
      "smarfle_webhook_attempts_total",
      "smarfle_connector_runs_total",
      "smarfle_import_rows_total",
      "smarfle_webhook_endpoints",
      "smarfle_db_connections",
    ]) {
      expect(after.has(name), name).toBe(true);
    }

    // A lead captured over the API moves its channel's counter.
    const leadsBefore = value(after, "smarfle_leads_captured_total", { channel: "api" });
    const captured = await call(lead, {
      method: "POST",
      path: "/api/webhook/leads",
      key: leadsKey,
      body: { name: "Metric Lead", email: "metric@example.test" },
    });
    expect(captured.status).toBe(201);
    expect(value(await families(), "smarfle_leads_captured_total", { channel: "api" }) - leadsBefore).toBe(1);

    // No org ids, key material or full URLs in any label.
    const text = await (await scrape()).text();
    expect(text).not.toContain(org.org.id);
    expect(text).not.toContain("sk_live_");
  });
});
