// Several app servers on one PostgreSQL and Redis: two production servers of the same build share
// the work. Leads sent alternately to both make one client each and one delivery each (no
// delivery attempted twice at once, none duplicated while the receiver never fails); a key
// revoked elsewhere is refused by both within a second. Needs PostgreSQL (DATABASE_URL): the
// embedded database belongs to one process.
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import postgres from "postgres";
import { smarfle, startServers } from "../../scripts/prod-server.mjs";

const LEADS = 2000;
const CONCURRENCY = 16;
const skip = !process.env.DATABASE_URL && "needs DATABASE_URL";

/** A receiver that counts each webhook-id and notices one arriving while it is still being answered. */
function startReceiver() {
  const seen = new Map();
  const inFlight = new Set();
  let overlaps = 0;
  const server = http.createServer((req, res) => {
    const id = req.headers["webhook-id"];
    if (inFlight.has(id)) overlaps++;
    inFlight.add(id);
    req.resume();
    req.on("end", () => {
      seen.set(id, (seen.get(id) ?? 0) + 1);
      setTimeout(
        () => {
          inFlight.delete(id);
          res.end("ok");
        },
        randomInt(1, 15),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/hook`,
        seen,
        overlaps: () => overlaps,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("two servers on one database: every lead once, every delivery once, revocation everywhere", { skip, timeout: 240_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-fleet-"));
  const env = {
    ...process.env,
    NODE_ENV: "production",
    SMARFLE_ALLOW_PRIVATE_URLS: "1",
    // Behind a load balancer: the client address is the last X-Forwarded-For entry.
    TRUST_PROXY_HOPS: "1",
    AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
  };
  const sql = postgres(process.env.DATABASE_URL, { max: 2, onnotice: () => {} });
  const receiver = await startReceiver();
  const servers = [];
  try {
    const org = smarfle(env, "org:create", "--name", `Fleet ${Date.now()}`, "--plan", "business", "--json");
    smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "100000");
    const admin = smarfle(env, "key:create", "--org", org.id, "--name", "fleet admin", "--scopes", "admin", "--json");
    const leads = smarfle(env, "key:create", "--org", org.id, "--name", "fleet form", "--scopes", "leads", "--json");
    servers.push(...(await startServers(env, ["a", "b"], tmp)));
    const [a, b] = servers;
    const call = (server, p, { key = admin.key, method = "GET", body } = {}) =>
      fetch(`${server.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-forwarded-for": `198.51.100.${randomInt(1, 255)}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const sub = await call(a, "/api/v1/webhooks", { method: "POST", body: { url: receiver.url, event_types: ["client_created"] } });
    assert.ok(sub.ok, `subscribe: ${sub.status} ${await sub.clone().text()}`);

    // 2,000 leads, alternately to each server, a few at a time.
    let next = 0;
    const failures = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < LEADS; i = next++) {
          const res = await call(i % 2 ? b : a, "/api/webhook/leads", {
            key: leads.key,
            method: "POST",
            body: { name: `Fleet lead ${i}`, email: `lead-${i}@fleet.example`, source: "fleet test" },
          });
          if (res.status !== 201) failures.push(`${i}: ${res.status} ${await res.text()}`);
          else await res.arrayBuffer();
        }
      }),
    );
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} leads refused`);

    const [{ n: clients }] = await sql`select count(*)::int as n from clients where org_id = ${org.id}`;
    assert.equal(clients, LEADS, "one client per lead");

    await until(() => receiver.seen.size >= LEADS, 120_000, `${LEADS} deliveries (have ${receiver.seen.size})`);
    // Give a late duplicate the time to show up before counting.
    await new Promise((r) => setTimeout(r, 2_000));
    const received = [...receiver.seen.values()].reduce((s, n) => s + n, 0);
    assert.equal(receiver.seen.size, LEADS, "one distinct delivery per lead");
    assert.equal(received, LEADS, `no delivery sent twice (${received - LEADS} duplicates)`);
    assert.equal(receiver.overlaps(), 0, "no delivery attempted twice at once");
    const [{ n: attempts }] = await sql`select count(*)::int as n from webhook_attempts where org_id = ${org.id}`;
    assert.equal(attempts, LEADS, "one attempt logged per delivery");

    // Both servers know the key (cached); revoked elsewhere, each refuses it within a second.
    for (const s of servers) assert.equal((await call(s, "/api/v1/me")).status, 200);
    smarfle(env, "key:revoke", "--org", org.id, "--key", admin.id);
    const revokedAt = Date.now();
    for (const s of servers) {
      await until(async () => (await call(s, "/api/v1/me")).status === 401, 5_000, "the revoked key to be refused");
      const after = Date.now() - revokedAt;
      assert.ok(after < 1_000 + 500, `refused within a second of the revocation (${after} ms, CLI exit included)`);
    }
    console.log(`# fleet: ${LEADS} leads over 2 servers → ${clients} clients, ${receiver.seen.size} deliveries, ${received - LEADS} duplicates`);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    receiver.close();
    await sql.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("SIGTERM during 1,000 deliveries: the server drains and exits 0 within 20 s, and every delivery arrives", { skip, timeout: 240_000 }, async () => {
  const TOTAL = 1000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-drain-"));
  const env = {
    ...process.env,
    NODE_ENV: "production",
    SMARFLE_ALLOW_PRIVATE_URLS: "1",
    AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
  };
  const seen = new Map();
  // A receiver that takes its time, so many attempts are in flight when the signal comes.
  const receiver = http.createServer((req, res) => {
    const id = req.headers["webhook-id"];
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        seen.set(id, (seen.get(id) ?? 0) + 1);
        res.end("ok");
      }, 300),
    );
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const servers = [];
  try {
    const org = smarfle(env, "org:create", "--name", `Drain ${Date.now()}`, "--plan", "business", "--json");
    smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "100000");
    const { key } = smarfle(env, "key:create", "--org", org.id, "--name", "drain", "--scopes", "admin", "--json");
    servers.push(...(await startServers(env, ["a", "b"], tmp)));
    const [a] = servers;
    const post = (p, body) =>
      fetch(`${a.url}${p}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
    assert.equal((await post("/api/v1/webhooks", { url: `http://127.0.0.1:${receiver.address().port}/hook`, event_types: ["client_created"] })).status, 201);
    const records = Array.from({ length: TOTAL }, (_, i) => ({ name: `Drain ${i}`, external_id: `drain-${i}` }));
    const bulk = await post("/api/v1/records/client/bulk", { records });
    assert.equal(bulk.status, 200, await bulk.clone().text());

    await until(() => seen.size >= 50, 60_000, "deliveries to get going");
    const signalled = Date.now();
    a.child.kill("SIGTERM");
    const code = await new Promise((r) => a.child.once("exit", (c) => r(c)));
    const took = Date.now() - signalled;
    assert.equal(code, 0, "exits 0");
    assert.ok(took < 20_000, `exits within 20 s (${took} ms)`);

    await until(() => seen.size >= TOTAL, 120_000, `all ${TOTAL} deliveries (have ${seen.size})`);
    const twice = [...seen.values()].filter((n) => n > 1).length;
    console.log(
      `# drain: SIGTERM after ${seen.size >= TOTAL ? "" : ""}deliveries began; exit 0 in ${took} ms; all ${TOTAL} arrived (${twice} twice, same webhook-id)`,
    );
    const log = fs.readFileSync(path.join(tmp, "a.log"), "utf8");
    assert.match(log, /shut down cleanly/);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    receiver.closeAllConnections();
    receiver.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
