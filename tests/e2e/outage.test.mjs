// PostgreSQL stops under load, then comes back. While it is down every answer that needs it is a
// 503 envelope with Retry-After within 5 s, /api/ready is 503 naming the database and
// /api/health stays 200; once it is back both servers serve again within 15 s, by themselves,
// and no lead that was accepted (201) or its webhook delivery is lost. Stops the real cluster
// (pg_ctlcluster), so it runs only as root against PostgreSQL on this machine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import postgres from "postgres";
import { smarfle, startServers } from "../../scripts/prod-server.mjs";

const local = process.env.DATABASE_URL && ["127.0.0.1", "localhost"].includes(new URL(process.env.DATABASE_URL).hostname);
const canStop = local && process.getuid?.() === 0 && fs.existsSync("/etc/postgresql");
const skip = !canStop && "needs root and DATABASE_URL on this machine's PostgreSQL cluster";

function cluster(action) {
  const version = fs.readdirSync("/etc/postgresql")[0];
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", action, ...(action === "stop" ? ["-m", "fast"] : [])], { stdio: "inherit" });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("a PostgreSQL outage under load: clean 503s, recovery without restart, nothing accepted lost", { skip, timeout: 240_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-outage-"));
  const env = {
    ...process.env,
    NODE_ENV: "production",
    SMARFLE_ALLOW_PRIVATE_URLS: "1",
    TRUST_PROXY_HOPS: "1",
    AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
  };
  const delivered = new Set();
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      delivered.add(JSON.parse(Buffer.concat(chunks).toString()).data.email);
      res.end("ok");
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const servers = [];
  let stopped = false;
  try {
    const org = smarfle(env, "org:create", "--name", `Outage ${Date.now()}`, "--plan", "business", "--json");
    smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "100000");
    const admin = smarfle(env, "key:create", "--org", org.id, "--name", "outage admin", "--scopes", "admin", "--json");
    const leads = smarfle(env, "key:create", "--org", org.id, "--name", "outage form", "--scopes", "leads", "--json");
    servers.push(...(await startServers(env, ["a", "b"], tmp)));
    const call = async (server, p, { key = admin.key, method = "GET", body } = {}) => {
      const started = Date.now();
      const res = await fetch(`${server.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-forwarded-for": `203.0.113.${randomInt(1, 255)}` },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      return { status: res.status, ms: Date.now() - started, retryAfter: res.headers.get("retry-after"), body: text ? JSON.parse(text) : {}, at: started };
    };
    const sub = await call(servers[0], "/api/v1/webhooks", {
      method: "POST",
      body: { url: `http://127.0.0.1:${receiver.address().port}/hook`, event_types: ["client_created"] },
    });
    assert.equal(sub.status, 201);

    // Load: leads and record reads on both servers, four at a time, until told to stop.
    const answers = [];
    const accepted = [];
    let n = 0;
    let loading = true;
    const loaders = Array.from({ length: 4 }, async (_, w) => {
      while (loading) {
        const i = n++;
        const server = servers[i % 2];
        const email = `outage-${i}@example.test`;
        const lead = await call(server, "/api/webhook/leads", { key: leads.key, method: "POST", body: { name: `Outage ${i}`, email } }).catch((err) => ({
          status: 0,
          error: String(err),
          at: Date.now(),
          ms: 0,
        }));
        answers.push({ ...lead, kind: "lead" });
        if (lead.status === 201) accepted.push(email);
        const read = await call(server, "/api/v1/records/client?limit=1").catch((err) => ({ status: 0, error: String(err), at: Date.now(), ms: 0 }));
        answers.push({ ...read, kind: "read" });
        if (w === 0) await sleep(5);
      }
    });

    await sleep(3_000);
    const stoppedAt = Date.now();
    cluster("stop");
    stopped = true;
    await sleep(8_000);

    const ready = await call(servers[1], "/api/ready");
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.database, "down");
    assert.equal((await call(servers[0], "/api/health")).status, 200);

    cluster("start");
    stopped = false;
    const startedAt = Date.now();
    const back = await Promise.all(
      servers.map(async (s) => {
        for (;;) {
          const r = await call(s, "/api/v1/records/client?limit=1").catch(() => ({ status: 0 }));
          if (r.status === 200) return Date.now() - startedAt;
          assert.ok(Date.now() - startedAt < 15_000, "serves again within 15 s of the database's return");
          await sleep(200);
        }
      }),
    );
    await sleep(3_000);
    loading = false;
    await Promise.all(loaders);

    // While down (from a second after the stop, so requests already past the database are not
    // counted, until the restart): only 503 envelopes with Retry-After, each within 5 s.
    const during = answers.filter((a) => a.at > stoppedAt + 1_000 && a.at + a.ms < startedAt);
    const timeline = answers.map((a) => `${a.kind}@${a.at - stoppedAt}ms:${a.status}/${a.ms}ms`).join(" ");
    assert.ok(during.length > 10, `requests were made during the outage (${during.length}); restart at ${startedAt - stoppedAt} ms; ${timeline.slice(-3000)}`);
    const unclean = during.filter(
      (a) => a.status !== 503 || a.body?.error?.code !== "unavailable" || !/^\d+$/.test(a.retryAfter ?? "") || !a.body.error.request_id || a.ms > 5_000,
    );
    // What the servers logged for those requests (the cause of a 500 is in its error line).
    const ids = unclean.map((a) => a.body?.error?.request_id).filter(Boolean);
    const logged = ids.length
      ? ["a", "b"].flatMap((n) => fs.readFileSync(path.join(tmp, `${n}.log`), "utf8").split("\n")).filter((l) => ids.some((id) => l.includes(id)))
      : [];
    assert.deepEqual(
      unclean.slice(0, 3).map((a) => ({ kind: a.kind, status: a.status, ms: a.ms, body: a.body, error: a.error })),
      [],
      `${unclean.length} of ${during.length} answers during the outage were not a clean 503; the servers logged:\n${logged.join("\n").slice(0, 4000)}`,
    );

    // Nothing accepted is lost: every 201 lead is a client, and its webhook arrives.
    const sql = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select email from clients where org_id = ${org.id}`;
      const stored = new Set(rows.map((r) => r.email));
      assert.deepEqual(
        accepted.filter((e) => !stored.has(e)),
        [],
        "every accepted lead was stored",
      );
    } finally {
      await sql.end();
    }
    const deadline = Date.now() + 90_000;
    while (accepted.some((e) => !delivered.has(e)) && Date.now() < deadline) await sleep(250);
    assert.deepEqual(
      accepted.filter((e) => !delivered.has(e)),
      [],
      "every accepted lead's webhook arrived",
    );
    console.log(
      `# outage: ${during.length} answers while down, all clean 503s; back after ${back.join(" / ")} ms; ${accepted.length} leads accepted, all stored and delivered`,
    );
  } finally {
    if (stopped) cluster("start");
    for (const s of servers) await s.stop().catch(() => {});
    receiver.closeAllConnections();
    receiver.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
