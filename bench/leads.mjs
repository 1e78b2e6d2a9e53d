// Lead capture on a production build with PostgreSQL and Redis, next to a bare route returning
// JSON, plus a 1,000-record bulk upsert. Each lead is a client with its audit row, notifications
// and outbox events, written in one transaction. Targets: >= 60 % of the bare route's
// throughput, p99 < 100 ms; the bulk upsert under 1 s. Then the cost of the API request log:
// lead capture with it on and off (SMARFLE_REQUEST_LOG=0), alternating rounds on the same
// build and database. Target: it costs under 5 % of lead-capture throughput.
//
//   node bench/leads.mjs     (BENCH_SKIP_BUILD=1 reuses .next; DURATION, CONNECTIONS, ROUNDS)
import { spawnSync } from "node:child_process";
import { benchServer } from "./setup.mjs";
import { measure, printTable } from "./run-load.mjs";

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 50);
const rounds = Number(process.env.ROUNDS ?? 3);
const bench = await benchServer({ scopes: "leads,bulk,write,read" });

function count(table) {
  const r = spawnSync("psql", [bench.databaseUrl, "-tAq", "-c", `select count(*) from ${table}`], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const lead = JSON.stringify({ name: "Bench Lead", email: "lead@bench.test", phone: "+1 555 0100", message: "Quote please", utm_source: "bench" });
  const bare = await measure("bare route (/api/bench/static)", { url: `${bench.url}/api/bench/static`, connections }, { duration });
  const leadLoad = { url: `${bench.url}/api/webhook/leads`, method: "POST", body: lead, connections, headers: { "content-type": "application/json", "x-api-key": bench.key } };
  const leads = await measure("POST /api/webhook/leads", leadLoad, { duration });
  console.log(`\nLead capture vs bare route — ${connections} connections, ${duration} s each after a warm-up, PostgreSQL + Redis\n`);
  printTable([bare, leads]);
  console.log(`\nthroughput ratio (leads / bare): ${((leads.rps / bare.rps) * 100).toFixed(1)} %   (target >= 60 %)`);
  console.log(`lead capture p99:                ${leads.p99} ms   (target < 100 ms)`);
  const clients = count("clients");
  console.log(`rows: clients ${clients}, audit ${count("audit_log")}, notifications ${count("notifications")}, events ${count("webhook_events")} (2 per lead)`);

  // The request log's cost: the same load with the log on and off, alternating, medians compared.
  const on = [];
  const off = [];
  for (let i = 0; i < rounds; i++) {
    await bench.restart({ SMARFLE_REQUEST_LOG: "0" });
    off.push(await measure(`leads, request log off (${i + 1})`, leadLoad, { duration }));
    await bench.restart({ SMARFLE_REQUEST_LOG: "1" });
    on.push(await measure(`leads, request log on (${i + 1})`, leadLoad, { duration }));
  }
  await new Promise((r) => setTimeout(r, 1500)); // the last batch of the log
  console.log(`\nAPI request log on vs off — ${rounds} alternating rounds, ${connections} connections, ${duration} s each after a warm-up\n`);
  printTable([...off, ...on]);
  const onRps = median(on.map((r) => r.rps));
  const offRps = median(off.map((r) => r.rps));
  console.log(`\nmedian req/s: off ${offRps.toFixed(1)}, on ${onRps.toFixed(1)}; cost of the request log: ${(((offRps - onRps) / offRps) * 100).toFixed(1)} %   (target < 5 %)`);
  console.log(`rows: api_requests ${count("api_requests")} (one per request made with the log on)`);

  const records = Array.from({ length: 1000 }, (_, i) => ({ external_id: `bulk-${i}`, name: `Bulk ${i}`, email: `b${i}@bench.test` }));
  const timings = [];
  for (const round of ["create", "update"]) {
    if (round === "update") records.forEach((r) => (r.phone = "555"));
    const started = performance.now();
    const res = await fetch(`${bench.url}/api/v1/records/client/bulk`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bench.key}` },
      body: JSON.stringify({ records }),
    });
    const body = await res.json();
    timings.push({ name: `bulk upsert 1,000 (${round})`, ms: performance.now() - started, created: body.created, updated: body.updated, failed: body.failed });
  }
  console.log("\n1,000-record bulk upsert (target < 1000 ms)\n");
  for (const t of timings) console.log(`${t.name.padEnd(28)} ${t.ms.toFixed(0).padStart(6)} ms   created ${t.created}, updated ${t.updated}, failed ${t.failed}`);
} finally {
  await bench.cleanup();
}
