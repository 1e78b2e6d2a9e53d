/**
 * Webhook delivery throughput of the local worker against a receiver in another process (every attempt
 * signed and logged), next to a bare keep-alive HTTP loop with the same concurrency; then the
 * latency from record commit to receipt. Real PostgreSQL. Targets on a 2-core machine:
 * >= 4,000 deliveries/s and >= 70 % of the bare loop; commit-to-receipt p50 < 50 ms, p99 < 250 ms.
 * Then two rows for receivers that need care: deliveries/s to ONE endpoint over 200 records, with
 * and without per-record ordering in alternating rounds (target: the median per-round ratio, ordered
 * >= 90 % of unordered), and the healthy
 * endpoint's commit-to-receipt p95 with 50 hanging endpoints of 10 other organizations beside it,
 * each with 1,000 deliveries queued (target: within 10 % of the run without them).
 *
 * The worker runs in this process, under the V8 flag the production server starts with
 * (`npm start`: --max-semi-space-size=32), as it runs inside every server.
 *
 *   npm run bench:deliveries      (DELIVERIES=20000 a round, WORKER_ROUNDS=3, CONCURRENCY=128, ENDPOINTS=16)
 */
import http from "node:http";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { eq, sql } from "drizzle-orm";
import { openScratchDatabase, run } from "./scratch-db";
import { median } from "./run-load.mjs";
import { webhookDeliveries } from "@/db/schema";
import { resetEnvCache } from "@/lib/env";
import { createOrganization } from "@/lib/orgs/service";
import { writeRecords, createRecord } from "@/lib/records/pipeline";
import { createEndpoint } from "@/lib/webhooks/endpoints";
import { startWorker } from "@/lib/webhooks/worker";

const TOTAL = Number(process.env.DELIVERIES ?? 20_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 128);
const ENDPOINTS = Number(process.env.ENDPOINTS ?? 16);
const ORDER_RECORDS = 200;
const ORDER_VERSIONS = Number(process.env.ORDER_VERSIONS ?? 40);
const ORDER_ROUNDS = Number(process.env.ORDER_ROUNDS ?? 3);
const WORKER_ROUNDS = Number(process.env.WORKER_ROUNDS ?? 3);
const HANGING_ENDPOINTS = 50;
const HANGING_BACKLOG = 1000;

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main() {
  process.env.SMARFLE_ALLOW_PRIVATE_URLS = "1";
  process.env.SMARFLE_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString("base64");
  resetEnvCache();
  const handle = await openScratchDatabase("dlv", 20);
  const db = handle.db;

  // The receiver runs in a process of its own (bench/receiver.mjs), as a receiver would.
  let received = 0;
  const latencies: number[] = [];
  let orderReceived = 0;
  let orderViolations = 0;
  const child = fork(fileURLToPath(new URL("./receiver.mjs", import.meta.url)));
  const acks = new Map<number, () => void>();
  const port = await new Promise<number>((resolve) => {
    child.on("message", (m: { port?: number; ack?: number; received?: number; orderReceived?: number; orderViolations?: number; latencies?: number[] }) => {
      if (m.port !== undefined) resolve(m.port);
      if (m.received !== undefined) {
        received = m.received;
        orderReceived = m.orderReceived!;
        orderViolations = m.orderViolations!;
        latencies.push(...m.latencies!);
      }
      if (m.ack !== undefined) acks.get(m.ack)?.();
    });
  });
  let nextAck = 0;
  const tell = (command: { cmd: "reset" } | { cmd: "latency"; on: boolean }) =>
    new Promise<void>((resolve) => {
      const id = nextAck++;
      acks.set(id, resolve);
      child.send({ ...command, id });
    });

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
          const req = http.request(
            { host: "127.0.0.1", port, path: "/hook/bare", method: "POST", agent, headers: { "content-type": "application/json" } },
            (res) => {
              res.resume();
              res.on("end", resolve);
            },
          );
          req.on("error", reject);
          req.end(body);
        }),
    );
    await tell({ cmd: "reset" });

    // 2. The worker: TOTAL deliveries committed first, then drained; WORKER_ROUNDS rounds, the
    //    median rate reported (one round lasts a few seconds, and this machine's speed drifts).
    const perRecord = ENDPOINTS;
    const records = Math.ceil(TOTAL / perRecord);
    const expected = records * perRecord;
    const workerRates: number[] = [];
    for (let round = 0; round < WORKER_ROUNDS; round++) {
      for (let i = 0; i < records; i += 1000) {
        const n = Math.min(1000, records - i);
        await writeRecords(
          ctx,
          "client",
          Array.from({ length: n }, (_, j) => ({ kind: "create" as const, data: { name: `Bench ${round}-${i + j}`, email: `b${round}-${i + j}@bench.test` } })),
        );
      }
      await tell({ cmd: "reset" });
      const workerStart = performance.now();
      const roundWorker = startWorker(db, { concurrency: CONCURRENCY, pollMs: 50 });
      while (received < expected) await new Promise((r) => setTimeout(r, 10));
      workerRates.push(expected / ((performance.now() - workerStart) / 1000));
      await new Promise((r) => setTimeout(r, 200)); // the last batch of attempt logs
      await roundWorker.stop();
    }
    const workerRate = median(workerRates);
    const worker = startWorker(db, { concurrency: CONCURRENCY, pollMs: 50 });
    const [pending] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, "pending"));
    const [attempts] = await db
      .execute(sql`select count(*)::int as n from webhook_attempts`)
      .then((r) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { n: number }[]);

    // 3. Commit → receipt latency at a steady trickle (one endpoint: one delivery per record).
    await db.execute(sql`update webhook_endpoints set status = 'disabled' where url not like '%/hook/0'`);
    await tell({ cmd: "latency", on: true });
    const trickleStart = Date.now();
    let created = 0;
    while (Date.now() - trickleStart < 10_000) {
      await createRecord(ctx, "client", { name: `Latency ${created++}` });
      await new Promise((r) => setTimeout(r, 20));
    }
    while (latencies.length < created) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    latencies.sort((a, b) => a - b);
    const baselineP95 = percentile(latencies, 95);
    const [baselineP50, baselineP99, baselineCount] = [percentile(latencies, 50), percentile(latencies, 99), latencies.length];

    // 4. One endpoint, 200 records × ORDER_VERSIONS versions: unordered and per_record, in
    //    alternating rounds, the ratio taken per round (one run lasts about a second, and this
    //    machine's speed drifts by more than the difference being measured between two of them).
    let violations = 0;
    const orderRun = async (ordering: "none" | "per_record", round: number) => {
      const ep = await createEndpoint(db, ctx, { url: `http://127.0.0.1:${port}/order/${ordering}`, event_types: ["client_updated"], ordering });
      await db.execute(sql`update webhook_endpoints set status = 'disabled' where id <> ${ep.endpoint.id}`);
      const tag = `${ordering === "none" ? "u" : "o"}${round}_`;
      await db.execute(sql`
        insert into webhook_events (id, org_id, type, record_type, record_id, data, created_at)
        select 'evt_b' || ${tag} || r || '_' || v, ${org.id}, 'client_updated', 'client', 'cli_b' || ${tag} || r,
               jsonb_build_object('object', 'client', 'id', 'cli_b' || ${tag} || r, 'version', v), now()
        from generate_series(1, ${ORDER_RECORDS}) r, generate_series(1, ${ORDER_VERSIONS}) v`);
      await db.execute(sql`
        insert into webhook_deliveries (id, org_id, event_id, endpoint_id, status, order_key, order_seq, next_attempt_at, created_at, updated_at)
        select 'dlv_b' || ${tag} || r || '_' || v, ${org.id}, 'evt_b' || ${tag} || r || '_' || v, ${ep.endpoint.id}, 'pending',
               case when ${ordering} = 'per_record' then 'cli_b' || ${tag} || r end, case when ${ordering} = 'per_record' then v end, now(), now(), now()
        from generate_series(1, ${ORDER_RECORDS}) r, generate_series(1, ${ORDER_VERSIONS}) v`);
      await tell({ cmd: "reset" });
      const total = ORDER_RECORDS * ORDER_VERSIONS;
      const start = performance.now();
      const w = startWorker(db, { concurrency: CONCURRENCY, pollMs: 50 });
      while (orderReceived < total) await new Promise((r) => setTimeout(r, 10));
      const rate = total / ((performance.now() - start) / 1000);
      await w.stop();
      violations += orderViolations;
      return rate;
    };
    const unorderedRates: number[] = [];
    const orderedRates: number[] = [];
    const orderRatios: number[] = [];
    for (let round = 0; round < ORDER_ROUNDS; round++) {
      unorderedRates.push(await orderRun("none", round));
      orderedRates.push(await orderRun("per_record", round));
      orderRatios.push(orderedRates[round]! / unorderedRates[round]!);
    }
    const [unorderedRate, orderedRate, orderRatio] = [median(unorderedRates), median(orderedRates), median(orderRatios)];

    // 5. The latency trickle again, with 50 hanging endpoints of 10 other organizations beside it.
    const hanging: { server: net.Server; sockets: Set<net.Socket> }[] = [];
    for (let o = 0; o < 10; o++) {
      const sockets = new Set<net.Socket>();
      const server = net.createServer((sock) => {
        sockets.add(sock);
        sock.on("error", () => {});
        sock.on("close", () => sockets.delete(sock));
        sock.resume();
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      hanging.push({ server, sockets });
      const other = await createOrganization(db, { name: `Hanging ${o}`, plan: "business" });
      const otherCtx = { orgId: other.id, actor: { type: "system" as const, id: null }, source: "system" as const };
      for (let e = 0; e < HANGING_ENDPOINTS / 10; e++) {
        const ep = await createEndpoint(db, otherCtx, {
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hang/${e}`,
          event_types: ["client_created"],
        });
        const eventId = `evt_hang_${o}_${e}`;
        await db.execute(
          sql`insert into webhook_events (id, org_id, type, record_type, record_id, data) values (${eventId}, ${other.id}, 'client_created', 'client', ${`cli_hang_${o}_${e}`}, '{"object":"client"}'::jsonb)`,
        );
        await db.execute(sql`
          insert into webhook_deliveries (id, org_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
          select 'dlv_hang_' || ${o} || '_' || ${e} || '_' || g, ${other.id}, ${eventId}, ${ep.endpoint.id}, 'pending', now(), now(), now()
          from generate_series(1, ${HANGING_BACKLOG}) g`);
      }
    }
    await db.execute(sql`update webhook_endpoints set status = 'enabled' where url like '%/hook/0'`);
    latencies.length = 0;
    const hangWorker = startWorker(db, { concurrency: CONCURRENCY, pollMs: 50 });
    const hangStart = Date.now();
    let hangCreated = 0;
    while (Date.now() - hangStart < 10_000) {
      await createRecord(ctx, "client", { name: `Beside hanging ${hangCreated++}` });
      await new Promise((r) => setTimeout(r, 20));
    }
    const waitUntil = Date.now() + 15_000;
    while (latencies.length < hangCreated && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
    const heldSockets = hanging.reduce((n, h) => n + h.sockets.size, 0);
    const hangingLatencies = [...latencies].sort((a, b) => a - b);
    for (const h of hanging) {
      for (const sock of h.sockets) sock.destroy();
      h.server.close();
    }
    await hangWorker.stop();
    const hangingP95 = percentile(hangingLatencies, 95);

    console.log(`\nWebhook delivery — ${expected} deliveries to ${ENDPOINTS} endpoints on 127.0.0.1, concurrency ${CONCURRENCY}, PostgreSQL\n`);
    console.log("what                               rate/s   notes");
    console.log("---------------------------------  -------  -----------------------------------------");
    console.log(`bare fetch loop                    ${fetchRate.toFixed(0).padStart(7)}  global fetch: no signing, no logging, no database`);
    console.log(`bare keep-alive node:http loop     ${bareRate.toFixed(0).padStart(7)}  the agent type the worker uses`);
    console.log(
      `local worker (every attempt logged)${workerRate.toFixed(0).padStart(7)}  median of ${WORKER_ROUNDS} rounds (${workerRates.map((r) => r.toFixed(0)).join(", ")}); ${attempts?.n} attempts logged, ${pending?.n} left pending`,
    );
    console.log(`\nworker / bare fetch loop: ${((workerRate / fetchRate) * 100).toFixed(1)} %   (targets: >= 4000/s and >= 70 %)`);
    console.log(`worker / bare node:http loop: ${((workerRate / bareRate) * 100).toFixed(1)} %`);
    console.log(
      `commit → receipt over ${baselineCount} records: p50 ${baselineP50} ms, p95 ${baselineP95} ms, p99 ${baselineP99} ms   (targets: p50 < 50, p99 < 250)`,
    );
    console.log(`\nReceivers that need care\n`);
    console.log("what                                                  value     target");
    console.log("----------------------------------------------------  --------  ---------------------------");
    console.log(
      `one endpoint, 200 records, unordered (deliveries/s)    ${unorderedRate.toFixed(0).padStart(8)}  (the reference; median of ${ORDER_ROUNDS} rounds)`,
    );
    console.log(
      `one endpoint, 200 records, per_record (deliveries/s)   ${orderedRate.toFixed(0).padStart(8)}  >= 90 % of unordered: ${(orderRatio * 100).toFixed(1)} % (median ratio; rounds: ${orderRatios.map((r) => (r * 100).toFixed(0)).join(", ")} %)`,
    );
    console.log(`  order violations seen by the receiver                ${String(violations).padStart(8)}  0`);
    console.log(`healthy commit → receipt p95, alone (ms)               ${String(baselineP95).padStart(8)}`);
    console.log(
      `healthy commit → receipt p95, 50 hanging beside (ms)   ${String(hangingP95).padStart(8)}  within 10 % of alone (${hangingLatencies.length}/${hangCreated} received, ${heldSockets} sockets held)`,
    );
  } finally {
    child.disconnect();
    await handle.drop();
  }
}

run(main);
