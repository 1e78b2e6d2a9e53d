// Serverless mode, end to end: the production build runs against local stand-ins of Upstash
// Redis (REST, in front of the real Redis) and QStash (publish with delays, signed callbacks,
// schedules on their cron), beside a self-hosted server of the same build on the same database.
// Both go through the same story — leads, the API's limit, webhook deliveries with a retry, a
// connector run by the schedule — and must end with the same results. PostgreSQL only: an
// embedded database is never serverless. Each mode gets a database of its own, made for the run:
// a self-hosted worker sharing a database would pick up the serverless mode's deliveries.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import postgres from "postgres";
import { Webhook } from "standardwebhooks";
import { freePort, root, startServer } from "../../scripts/prod-server.mjs";
import { startQstash } from "../stand-ins/qstash.mjs";
import { startUpstashRedis } from "../stand-ins/upstash-redis.mjs";

const LEADS = 5;
const CONNECTOR_RECORDS = 3;
const STARTER_LIMIT = 60;

test(
  "serverless mode on the Upstash and QStash stand-ins gives the same results as self-hosted",
  { skip: !process.env.DATABASE_URL && "needs DATABASE_URL (serverless mode runs on PostgreSQL)", timeout: 150_000 },
  async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-serverless-"));
    const secrets = {
      upstash: `up_${randomBytes(24).toString("hex")}`,
      qstash: `qs_${randomBytes(24).toString("hex")}`,
      current: `sig_${randomBytes(24).toString("hex")}`,
      next: `sig_${randomBytes(24).toString("hex")}`,
    };
    // One Redis for both modes: self-hosted talks to it directly, serverless through the REST stand-in.
    const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const upstash = await startUpstashRedis({ redisUrl, token: secrets.upstash });
    const qstash = await startQstash({ token: secrets.qstash, currentSigningKey: secrets.current, nextSigningKey: secrets.next });
    const source = await startSource();
    const servers = [];
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    const databases = [];
    let passed = false;
    const scratchDatabase = async (mode) => {
      const name = `smarfle_serverless_${mode}_${randomBytes(4).toString("hex")}`;
      await admin.unsafe(`create database ${name}`);
      databases.push(name);
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${name}`;
      return url.toString();
    };
    try {
      const base = {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        SMARFLE_ALLOW_PRIVATE_URLS: "1",
        AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
        // A failed first attempt is retried 3 s later, in both modes.
        WEBHOOK_RETRY_SCHEDULE: "0,3,6",
      };
      const [selfPort, lessPort] = [await freePort(), await freePort()];
      const selfHosted = {
        ...base,
        REDIS_URL: redisUrl,
        DATABASE_URL: await scratchDatabase("self"),
        PORT: String(selfPort),
        APP_URL: `http://127.0.0.1:${selfPort}`,
      };
      const serverless = {
        ...base,
        DATABASE_URL: await scratchDatabase("less"),
        PORT: String(lessPort),
        APP_URL: `http://127.0.0.1:${lessPort}`,
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: secrets.upstash,
        QSTASH_URL: qstash.url,
        QSTASH_TOKEN: secrets.qstash,
        QSTASH_CURRENT_SIGNING_KEY: secrets.current,
        QSTASH_NEXT_SIGNING_KEY: secrets.next,
      };
      delete serverless.REDIS_URL; // Upstash would win anyway; without it, nothing else can carry the limits
      // The operator's setup, before the servers start, both modes side by side.
      const [selfAccounts, lessAccounts] = await Promise.all([accounts("self-hosted", selfHosted), accounts("serverless", serverless)]);
      const logs = { "self-hosted": path.join(tmp, "self-hosted.log"), serverless: path.join(tmp, "serverless.log") };
      const [a, b] = await Promise.all([
        startServer(selfHosted, { port: selfPort, logFile: logs["self-hosted"], readyPath: "/api/health" }),
        startServer(serverless, { port: lessPort, logFile: logs.serverless, readyPath: "/api/health" }),
      ]);
      servers.push(a, b);

      const commandsBefore = upstash.stats.commands;
      const [selfResult, lessResult] = await Promise.all([story("self-hosted", a, selfAccounts, source), story("serverless", b, lessAccounts, source)]);
      console.log(`# self-hosted: ${JSON.stringify(selfResult)}`);
      console.log(`# serverless:  ${JSON.stringify(lessResult)}`);
      assert.deepEqual(lessResult, selfResult, "serverless mode ends where self-hosted mode does");
      assert.deepEqual(selfResult.limit, { passed: STARTER_LIMIT, refused: 100 - STARTER_LIMIT });

      // The serverless server really went through the stand-ins: the limiter's scripts through the
      // REST API, each attempt as a QStash message to the internal route, the sweeper as a schedule.
      assert.ok(upstash.stats.commands - commandsBefore >= 100, `rate-limit commands through the REST stand-in: ${upstash.stats.commands - commandsBefore}`);
      const toDeliveries = qstash.messages.filter((m) => m.destination === `${serverless.APP_URL}/api/internal/deliveries`);
      assert.ok(toDeliveries.length >= (LEADS + CONNECTOR_RECORDS) * 2, `delivery attempts published to QStash: ${toDeliveries.length}`);
      assert.ok(
        toDeliveries.some((m) => Number(/"attempt":(\d+)/.exec(m.body)?.[1]) === 2 && m.attempts[0]?.at - m.createdAt >= 2500),
        "a retry was published with its delay",
      );
      assert.ok(
        toDeliveries.every((m) => m.attempts.some((t) => t.status === 200)),
        "QStash's callbacks were accepted (signature verified)",
      );
      const sweeps = qstash.messages.filter((m) => m.scheduleId === "smarfle-sweeper");
      assert.ok(qstash.schedules.get("smarfle-sweeper")?.destination === `${serverless.APP_URL}/api/internal/sweep`, "the sweeper schedule was registered");
      assert.ok(
        sweeps.some((m) => m.attempts.some((t) => t.status === 200)),
        "the sweeper schedule fired and was accepted",
      );

      // Neither server logged a key, a token or a signing key.
      await Promise.all(servers.map((s) => s.stop()));
      await new Promise((r) => setTimeout(r, 300));
      for (const [mode, file] of Object.entries(logs)) {
        const log = fs.readFileSync(file, "utf8");
        for (const [what, value] of Object.entries(secrets)) assert.ok(!log.includes(value), `the ${mode} log holds the ${what} secret`);
        assert.doesNotMatch(log, /sk_live_[0-9A-Za-z]{16,}/, `the ${mode} log holds an API key`);
        assert.doesNotMatch(log, /"level":"(error|fatal)"/, `the ${mode} log has errors`);
      }
      passed = true;
    } finally {
      if (!passed) {
        // Keep the servers' logs where CI collects them.
        fs.mkdirSync(path.join(root, "test-results"), { recursive: true });
        for (const name of fs.readdirSync(tmp)) fs.copyFileSync(path.join(tmp, name), path.join(root, "test-results", `serverless-${name}`));
      }
      await Promise.all(servers.map((s) => s.stop()));
      await Promise.all([upstash.close(), qstash.close(), source.close()]);
      for (const name of databases) await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);

/**
 * The operator CLI without blocking the event loop: the stand-ins answer the servers from this
 * process, and a synchronous spawn would stall them (the limiter then lets requests through).
 */
function cli(env, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/smarfle.mjs", ...args, "--json"], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`smarfle ${args.join(" ")} exited with ${code}: ${out}`))));
  });
}

/** Migrates the mode's database, then a Starter org with a read key and a Business org with an admin and a leads key. */
async function accounts(mode, env) {
  await cli(env, "db:migrate");
  const suffix = randomUUID().slice(0, 8);
  const starter = await cli(env, "org:create", "--name", `Serverless starter ${mode} ${suffix}`, "--plan", "starter");
  const org = await cli(env, "org:create", "--name", `Serverless ${mode} ${suffix}`, "--plan", "business");
  const [{ key: starterKey }, { key: admin }, { key: leadsKey }] = await Promise.all([
    cli(env, "key:create", "--org", starter.id, "--name", "limit", "--scopes", "read"),
    cli(env, "key:create", "--org", org.id, "--name", "admin", "--scopes", "admin"),
    cli(env, "key:create", "--org", org.id, "--name", "form", "--scopes", "leads"),
  ]);
  return { starterKey, admin, leadsKey };
}

/**
 * The same story on one server: what an integrator sees, reduced to counts that must not depend
 * on the mode.
 */
async function story(mode, server, { starterKey, admin, leadsKey }, source) {
  const api = async (key, method, p, body, expect = [200, 201]) => {
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    assert.ok(expect.includes(res.status), `${mode} ${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  // An endpoint whose receiver fails each event's first attempt, and a connector: its scheduled
  // run comes with the next tick (within 30 s self-hosted, on the minute's cron with QStash).
  const receiver = await startFlakyReceiver();
  try {
    const endpoint = await api(admin, "POST", "/api/v1/webhooks", { url: receiver.url, event_types: ["client_created"] });
    const connector = await api(admin, "POST", "/api/v1/connectors", {
      name: "Partner CRM",
      url: source.url,
      interval_minutes: 60,
      records_path: "items",
      mapping: { target: "client", external_id: "id", fields: { name: "name", email: { from: "email", transform: "lower" } } },
    });

    const leads = [];
    const leadsStarted = Date.now();
    for (let i = 0; i < LEADS; i++) {
      const res = await fetch(`${server.url}/api/webhook/leads`, {
        method: "POST",
        headers: { "x-api-key": leadsKey, "content-type": "application/json" },
        body: JSON.stringify({ name: `Lead ${i}`, email: `lead${i}@example.com`, message: "Quote please", utm_source: mode }),
      });
      assert.equal(res.status, 201, `${mode} lead ${i}: ${res.status}`);
      leads.push(await res.json());
    }
    const listed = await api(admin, "GET", "/api/v1/records/client?status=lead&limit=100");

    const deadline = Date.now() + 80_000;
    let runs;
    for (;;) {
      runs = (await api(admin, "GET", `/api/v1/connectors/${connector.id}/runs`)).data;
      const delivered = receiver.delivered();
      if (runs.some((r) => r.trigger === "schedule" && r.status !== "running") && delivered.size >= LEADS + CONNECTOR_RECORDS) break;
      assert.ok(Date.now() < deadline, `${mode}: waited too long (runs ${JSON.stringify(runs)}, delivered ${delivered.size})`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const run = runs.find((r) => r.trigger === "schedule");
    const imported = await api(admin, "GET", "/api/v1/records/client?external_id=p-1");

    // Every event reached the receiver signed with the endpoint's secret, once failed and once
    // accepted, both attempts under one webhook-id.
    const verifier = new Webhook(endpoint.secret);
    const events = new Map();
    for (const r of receiver.received) {
      const event = verifier.verify(r.body, r.headers);
      const seen = events.get(r.headers["webhook-id"]) ?? { type: event.type, client: event.data.id, statuses: [], first: r.at };
      seen.statuses.push(r.status);
      events.set(r.headers["webhook-id"], seen);
    }
    const leadIds = new Set(leads.map((l) => l.id));
    const ready = await fetch(`${server.url}/api/ready`);
    return {
      // Ready means the database and the rate-limit store (Redis, or Upstash over REST) answer.
      ready: { status: ready.status, checks: (await ready.json()).checks },
      limit: await starterBurst(server, starterKey),
      leads: { created: leads.filter((l) => l.object === "client" && l.status === "lead").length, listed: listed.data.filter((c) => leadIds.has(c.id)).length },
      deliveries: {
        events: events.size,
        lead_events: [...events.values()].filter((e) => leadIds.has(e.client)).length,
        attempts: [...new Set([...events.values()].map((e) => e.statuses.join(",")))],
        // Handed to the queue as they commit, not left for the sweeper.
        lead_first_attempts_within_10s: [...events.values()].filter((e) => leadIds.has(e.client)).every((e) => e.first - leadsStarted < 10_000),
      },
      connector: { trigger: run.trigger, status: run.status, fetched: run.fetched, created: run.created, imported: imported.data.length },
    };
  } finally {
    await receiver.close();
  }
}

/**
 * 100 calls of a Starter key, ten at a time. The limiter's sliding window weighs the previous
 * fixed minute's count by how much of it still overlaps, so a burst that crossed a minute
 * boundary would let a few more through: the burst starts with at least 20 s of its minute left.
 */
async function starterBurst(server, key) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 20_000) await new Promise((r) => setTimeout(r, left + 50));
  const minute = Math.floor(Date.now() / 60_000);
  const statuses = [];
  for (let i = 0; i < 10; i++) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
        const body = await res.json();
        if (res.status === 429) {
          assert.equal(body.error.code, "rate_limited");
          assert.ok(Number(res.headers.get("retry-after")) > 0, "429 carries Retry-After");
        }
        return res.status;
      }),
    );
    statuses.push(...batch);
  }
  assert.equal(Math.floor(Date.now() / 60_000), minute, "the burst stayed within one minute");
  return { passed: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 429).length };
}

/** A webhook receiver on 127.0.0.1 that answers 500 to each webhook-id's first attempt. */
async function startFlakyReceiver() {
  const received = [];
  const tries = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const id = req.headers["webhook-id"];
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      const status = n === 1 ? 500 : 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status, at: Date.now() });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status === 200 ? "ok" : "not yet");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    delivered: () => new Set(received.filter((r) => r.status === 200).map((r) => r.headers["webhook-id"])),
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

/** The partner system a connector pulls from: a fixed page of records. */
async function startSource() {
  const items = Array.from({ length: CONNECTOR_RECORDS }, (_, i) => ({ id: `p-${i + 1}`, name: `Partner ${i + 1}`, email: `PARTNER${i + 1}@Example.com` }));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ items }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/clients`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}
