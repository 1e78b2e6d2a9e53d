// Crash safety of webhook delivery: SIGKILL the app while 1,000 deliveries are in flight,
// restart it, and check every delivery still arrives (at least once; a duplicate carries the
// same webhook-id). Needs PostgreSQL (DATABASE_URL): an embedded database does not survive
// SIGKILL of the process holding it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { freePort, smarfle, startServer } from "../../scripts/prod-server.mjs";

const TOTAL = 1000;

test(
  "every delivery arrives after the app is killed mid-flight and restarted",
  { skip: !process.env.DATABASE_URL && "needs DATABASE_URL", timeout: 180_000 },
  async () => {
    const seen = new Map(); // webhook-id → times received
    const clientIds = new Set();
    const receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const id = req.headers["webhook-id"];
        seen.set(id, (seen.get(id) ?? 0) + 1);
        clientIds.add(JSON.parse(Buffer.concat(chunks).toString()).data.id);
        setTimeout(() => res.end("ok"), 20);
      });
    });
    await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
    const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-crash-"));
    const port = await freePort();
    const env = {
      ...process.env,
      NODE_ENV: "production",
      SMARFLE_ALLOW_PRIVATE_URLS: "1",
      AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
    };
    const org = smarfle(env, "org:create", "--name", `Crash ${Date.now()}`, "--plan", "business", "--json");
    smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "100000");
    const { key } = smarfle(env, "key:create", "--org", org.id, "--name", "crash", "--scopes", "admin", "--json");
    const api = (server, p, body) =>
      fetch(`${server.url}${p}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      }).then(async (r) => {
        assert.ok(r.ok, `${p}: ${r.status} ${await r.clone().text()}`);
        return r.json();
      });

    let first = await startServer(env, { port, logFile: path.join(tmp, "first.log"), readyPath: "/api/bench/static" });
    let second;
    try {
      await api(first, "/api/v1/webhooks", { url: receiverUrl, event_types: ["client_created"] });
      const records = Array.from({ length: TOTAL }, (_, i) => ({ name: `Crash ${i}`, external_id: `crash-${i}` }));
      const bulk = await api(first, "/api/v1/records/client/bulk", { records });
      assert.equal(bulk.created, TOTAL);

      // Let deliveries get going, then kill the process without warning.
      const deadline = Date.now() + 30_000;
      while (seen.size < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.size >= 100, `deliveries started (${seen.size})`);
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      const atKill = seen.size;
      assert.ok(atKill < TOTAL, "the kill happened mid-flight");

      second = await startServer(env, { port, logFile: path.join(tmp, "second.log"), readyPath: "/api/bench/static" });
      const until = Date.now() + 120_000;
      while (seen.size < TOTAL && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.size, TOTAL, `all ${TOTAL} deliveries arrived (killed at ${atKill})`);
      assert.equal(clientIds.size, TOTAL);
      const duplicates = [...seen.values()].filter((n) => n > 1).length;
      console.log(`# crash safety: killed after ${atKill} of ${TOTAL}; all arrived; ${duplicates} delivered twice (same webhook-id)`);
    } finally {
      await first.stop().catch(() => {});
      await second?.stop();
      receiver.closeAllConnections();
      receiver.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);
