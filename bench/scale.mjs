// Scaling out: 1 and then 2 servers of the same production build on one PostgreSQL and one
// Redis, behind a small round-robin load balancer on 127.0.0.1. For each: lead-capture
// throughput (autocannon through the balancer, bounded in time) and webhook delivery throughput
// (records created through the balancer, every client_created event delivered to a local
// receiver by whichever server's worker claims it), then the 2-server / 1-server ratio.
//
//   npm run bench:scale     (BENCH_SKIP_BUILD=1 reuses .next; DURATION, CONNECTIONS, DELIVERIES, ENDPOINTS)
//
// Everything here shares the machine: servers, balancer, load generator, receiver, PostgreSQL
// and Redis. On 2 cores the second server adds no cores, so the ratio shows the cost of
// coordination rather than the gain a machine with cores to spare would see.
import http from "node:http";
import os from "node:os";
import { benchServer } from "./setup.mjs";
import { measure, printTable } from "./run-load.mjs";

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 50);
const deliveries = Number(process.env.DELIVERIES ?? 10_000);
// Several endpoints (paths of the one receiver): a server sends at most 8 at a time to any one.
const endpoints = Number(process.env.ENDPOINTS ?? 8);
const BULK = 1000;
const DELIVERY_TIMEOUT_MS = 180_000;

process.env.SMARFLE_ALLOW_PRIVATE_URLS = "1"; // the receiver listens on 127.0.0.1

/** A round-robin HTTP proxy over `targets` (mutable: servers join while it runs). */
async function startBalancer(targets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 10_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

/** The webhook receiver: counts deliveries by webhook-id and endpoint, answers 200 at once. */
async function startReceiver() {
  const seen = new Map();
  let last = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      // One event goes to every endpoint under one webhook-id: a delivery is (endpoint, event).
      const id = `${req.url} ${req.headers["webhook-id"]}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      last = Date.now();
      res.end("ok");
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: (n) => `http://127.0.0.1:${server.address().port}/hook/${n}`,
    seen,
    lastAt: () => last,
    reset: () => seen.clear(),
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

async function post(url, key, body) {
  const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Creates clients through the balancer, 1,000 per bulk call, and times the delivery of their events to every endpoint. */
async function deliveryRun(balancerUrl, key, receiver, label) {
  receiver.reset();
  const started = Date.now();
  const calls = [];
  const clients = Math.ceil(deliveries / endpoints);
  for (let i = 0; i < clients; i += BULK) {
    const records = Array.from({ length: Math.min(BULK, clients - i) }, (_, j) => ({ name: `Scale ${label} ${i + j}` }));
    calls.push(post(`${balancerUrl}/api/v1/records/client/bulk`, key, { records }));
  }
  await Promise.all(calls);
  const committed = Date.now();
  const deadline = started + DELIVERY_TIMEOUT_MS;
  const expected = clients * endpoints;
  while (receiver.seen.size < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const arrived = receiver.seen.size;
  const seconds = (receiver.lastAt() - started) / 1000;
  const duplicates = [...receiver.seen.values()].filter((n) => n > 1).length;
  return { expected, arrived, seconds, perSecond: arrived / seconds, commitSeconds: (committed - started) / 1000, duplicates };
}

const bench = await benchServer({ scopes: "admin,leads,bulk" });
const targets = [bench.url];
const balancer = await startBalancer(targets);
const receiver = await startReceiver();
try {
  // A fresh email per request: every lead is a new client (a repeated one only joins a client's lead history).
  const lead = JSON.stringify({ name: "Scale Lead", email: "lead-[<id>]@scale.test", message: "Quote please", utm_source: "bench" });
  const leadLoad = {
    url: `${balancer.url}/api/webhook/leads`,
    method: "POST",
    body: lead,
    idReplacement: true,
    connections,
    headers: { "content-type": "application/json", "x-api-key": bench.key },
  };
  const results = [];
  for (const servers of [1, 2]) {
    if (servers === 2) targets.push((await bench.startExtra()).url);
    const leads = await measure(`POST /api/webhook/leads, ${servers} server${servers > 1 ? "s" : ""}`, leadLoad, { duration });
    // Subscribed only for the delivery run, so lead capture above measured capture alone.
    const subscribed = [];
    for (let n = 0; n < endpoints; n++)
      subscribed.push(await post(`${balancer.url}/api/v1/webhooks`, bench.key, { url: receiver.url(n), event_types: ["client_created"] }));
    const dlv = await deliveryRun(balancer.url, bench.key, receiver, String(servers));
    for (const e of subscribed) await fetch(`${balancer.url}/api/v1/webhooks/${e.id}`, { method: "DELETE", headers: { authorization: `Bearer ${bench.key}` } });
    results.push({ servers, leads, dlv });
  }

  console.log(
    `\nLead capture through a round-robin balancer — ${connections} connections, ${duration} s after a warm-up; PostgreSQL + Redis; ${os.cpus().length} cores\n`,
  );
  printTable(results.map((r) => r.leads));
  console.log(
    `\nWebhook deliveries — ${results[0].dlv.expected} client_created deliveries (${endpoints} endpoints on one local receiver; clients bulk-created through the balancer, ${BULK} per call)\n`,
  );
  const head = ["servers", "distinct delivered", "seconds", "deliveries/s", "records committed in s", "duplicates"];
  const rows = results.map((r) => [
    String(r.servers),
    String(r.dlv.arrived),
    r.dlv.seconds.toFixed(1),
    r.dlv.perSecond.toFixed(0),
    r.dlv.commitSeconds.toFixed(1),
    String(r.dlv.duplicates),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  console.log(head.map((h, i) => h.padStart(widths[i])).join("  "));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(row.map((v, i) => v.padStart(widths[i])).join("  "));

  const [one, two] = results;
  console.log(
    `\n2 servers / 1 server: lead capture ${(two.leads.rps / one.leads.rps).toFixed(2)}×, deliveries ${(two.dlv.perSecond / one.dlv.perSecond).toFixed(2)}×`,
  );
  if (results.some((r) => r.dlv.arrived < r.dlv.expected)) {
    console.error(`not every delivery arrived within ${DELIVERY_TIMEOUT_MS / 1000} s`);
    process.exitCode = 1;
  }
} finally {
  await balancer.close();
  await receiver.close();
  await bench.cleanup();
}
