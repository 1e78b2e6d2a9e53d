/**
 * Webhook delivery throughput of the local worker against a local receiver (every attempt
 * signed and logged), next to a bare keep-alive HTTP loop with the same concurrency; then the
 * latency from record commit to receipt. Real PostgreSQL. Targets on a 2-core machine:
 * >= 1,500 deliveries/s and >= 70 % of the bare loop; commit-to-receipt p50 < 50 ms, p99 < 250 ms.
 *
 *   npm run bench:deliveries      (DELIVERIES=20000, CONCURRENCY=128, ENDPOINTS=16)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import { openScratchDatabase, run } from "./scratch-db";
import { webhookDeliveries } from "@/db/schema";
import { resetEnvCache } from "@/lib/env";
import { createOrganization } from "@/lib/orgs/service";
import { writeRecords, createRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { startWorker } from "@/lib/webhooks/worker";

const TOTAL = Number(process.env.DELIVERIES ?? 20_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 128);
const ENDPOINTS = Number(process.env.ENDPOINTS ?? 16);

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main() {
  process.env.SMARFLE_ALLOW_PRIVATE_URLS = "1";
  process.env.SMARFLE_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString("base64");
  resetEnvCache();
  const handle = await openScratchDatabase("dlv", 20);
  const db = handle.db;

  let received = 0;
  const latencies: number[] = [];
  let measureLatency = false;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received++;
      if (measureLatency) {
        const created = Date.parse(JSON.parse(Buffer.concat(chunks).toString()).created_at);
        latencies.push(Date.now() - created);
      }
      res.end("ok");
    });
  });
  receiver.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const port = (receiver.address() as AddressInfo).port;

  try {
    const org = await createOrganization(db, { name: "Delivery bench", plan: "business" });
    const ctx = { orgId: org.id, actor: { type: "system" as const, id: null }, source: "system" as const };
    for (let i = 0; i < ENDPOINTS; i++) await createEndpoint(db, ctx, { url: `http://127.0.0.1:${port}/hook/${i}`, event_types: ["client_created"] });

    // 1. The bare loops: the same POSTs at the same concurrency, nothing else — with global
    //    fetch, and with a keep-alive node:http agent (what the worker uses).
    const body = JSON.stringify({ id: "evt_x", type: "client_created", data: { id: "cli_x", name: "Bench", email: "b@bench.test" } });
    const loop = async (send: () => Promise<void>) => {
      let done = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (done < TOTAL) {
            done++;
            await send();
          }
        }),
      );
      return TOTAL / ((performance.now() - start) / 1000);
    };
    const fetchRate = await loop(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/hook/bare`, { method: "POST", headers: { "content-type": "application/json" }, body });
      await res.text();
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const bareRate = await loop(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port, path: "/hook/bare", method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
            res.resume();
            res.on("end", resolve);
          });
          req.on("error", reject);
          req.end(body);
        }),
    );
    received = 0;

    // 2. The worker: TOTAL deliveries committed first, then drained.
    const perRecord = ENDPOINTS;
    const records = Math.ceil(TOTAL / perRecord);
    for (let i = 0; i < records; i += 1000) {
      const n = Math.min(1000, records - i);
      await writeRecords(ctx, "client", Array.from({ length: n }, (_, j) => ({ kind: "create" as const, data: { name: `Bench ${i + j}`, email: `b${i + j}@bench.test` } })));
    }
    const expected = records * perRecord;
    const workerStart = performance.now();
    const worker = startWorker(db, { concurrency: CONCURRENCY, pollMs: 50 });
    while (received < expected) await new Promise((r) => setTimeout(r, 10));
    const workerSeconds = (performance.now() - workerStart) / 1000;
    await new Promise((r) => setTimeout(r, 200)); // the last batch of attempt logs
    const workerRate = expected / workerSeconds;
    const [pending] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending"));
    const [attempts] = await db.execute(sql`select count(*)::int as n from webhook_attempts`).then((r) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { n: number }[]);

    // 3. Commit → receipt latency at a steady trickle (one endpoint: one delivery per record).
    await db.execute(sql`update webhook_endpoints set status = 'disabled' where url not like '%/hook/0'`);
    measureLatency = true;
    const trickleStart = Date.now();
    let created = 0;
    while (Date.now() - trickleStart < 10_000) {
      await createRecord(ctx, "client", { name: `Latency ${created++}` });
      await new Promise((r) => setTimeout(r, 20));
    }
    while (latencies.length < created) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    latencies.sort((a, b) => a - b);

    console.log(`\nWebhook delivery — ${expected} deliveries to ${ENDPOINTS} endpoints on 127.0.0.1, concurrency ${CONCURRENCY}, PostgreSQL\n`);
    console.log("what                               rate/s   notes");
    console.log("---------------------------------  -------  -----------------------------------------");
    console.log(`bare fetch loop                    ${fetchRate.toFixed(0).padStart(7)}  global fetch: no signing, no logging, no database`);
    console.log(`bare keep-alive node:http loop     ${bareRate.toFixed(0).padStart(7)}  the agent type the worker uses`);
    console.log(`local worker (every attempt logged)${workerRate.toFixed(0).padStart(7)}  ${attempts?.n} attempts logged, ${pending?.n} left pending`);
    console.log(`\nworker / bare fetch loop: ${((workerRate / fetchRate) * 100).toFixed(1)} %   (targets: >= 1500/s and >= 70 %)`);
    console.log(`worker / bare node:http loop: ${((workerRate / bareRate) * 100).toFixed(1)} %`);
    console.log(`commit → receipt over ${latencies.length} records: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms   (targets: p50 < 50, p99 < 250)`);
  } finally {
    receiver.closeAllConnections();
    receiver.close();
    await handle.drop();
  }
}

run(main);
