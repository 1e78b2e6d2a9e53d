// Fault test: hostile import files against a production server. Each file is uploaded through
// POST /api/v1/imports while another client calls GET /api/v1/me once a second. Every call must
// answer within 2 s, the server process must never restart, its peak resident memory (VmHWM in
// /proc/<pid>/status) must stay under 1 GB, and each import must be refused with
// import_file_rejected (at upload, or by ending `failed`). The server is this test's own, so its
// pid is known; the files are generated here, as streams. Clients that hang up halfway through an
// upload must leave no partial file behind in the server's uploads directory.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { freePort, smarfle, startServer } from "../../scripts/prod-server.mjs";
import { writeAmplifiedXlsx, writeWideCsv, writeXlsxBomb } from "../helpers/hostile-files.mjs";

const GB = 1024 ** 3;
const MAX_CALL_MS = 2000;

/** Starts a 1 MB multipart upload, sends a fifth of it and drops the connection. */
function hangUpMidUpload(url, key) {
  const { hostname, port } = new URL(url);
  const head = '--b\r\ncontent-disposition: form-data; name="file"; filename="half.csv"\r\ncontent-type: text/csv\r\n\r\nName\n';
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `POST /api/v1/imports HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${key}\r\n` +
          `Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${1024 * 1024}\r\n\r\n${head}`,
      );
      socket.write("Ada\n".repeat(50_000), () => setTimeout(() => socket.destroy(), 200));
    });
    socket.on("error", reject);
    socket.on("close", resolve);
  });
}

function peakRssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  assert.ok(Number.isFinite(kb), "VmHWM is readable");
  return kb * 1024;
}

test("hostile import files are refused while the server keeps answering", { timeout: 600_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-hostile-"));
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    APP_URL: `http://127.0.0.1:${port}`,
    AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
    UPLOADS_DIR: path.join(tmp, "uploads"),
  };
  // Without PostgreSQL, an embedded database of this test's own (another server holds the suite's).
  if (!process.env.DATABASE_URL) {
    env.PGLITE_DATA_DIR = path.join(tmp, "pglite");
    smarfle(env, "db:migrate");
  }
  const org = smarfle(env, "org:create", "--name", `Hostile ${Date.now()}`, "--plan", "starter", "--json");
  smarfle(env, "org:set-limit", "--org", org.id, "--rpm", "10000");
  const { key } = smarfle(env, "key:create", "--org", org.id, "--name", "hostile", "--scopes", "admin", "--json");
  const headers = { authorization: `Bearer ${key}` };

  const files = [
    // What took a production server to 4.3 GB: shared strings that inflate to 2 GB.
    { name: "bomb.xlsx", write: (p) => writeXlsxBomb(p, 2 * GB) },
    // What took it to 3.9 GB: two million empty columns per row, 62 MB in all.
    { name: "wide.csv", write: (p) => writeWideCsv(p, 2_000_000, 31) },
    { name: "long-cell.csv", write: (p) => fs.promises.writeFile(p, `Name,Notes\nAda,${"x".repeat(40_000)}\n`) },
    // Legal rows, each just under 1 MB, from one shared string: 33 KB inflating to 360 million
    // characters. Nothing to refuse — it must go through in bounded batches (its names are too
    // long, so every row fails validation and is kept, cut short, in the error file).
    { name: "amplified.xlsx", write: (p) => writeAmplifiedXlsx(p, 400), expect: "completed" },
  ];
  for (const f of files) await f.write(path.join(tmp, f.name));

  const server = await startServer(env, { port, logFile: path.join(tmp, "server.log") });
  const pid = server.child.pid;
  const calls = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const started = Date.now();
      const res = await fetch(`${server.url}/api/v1/me`, { headers, signal: AbortSignal.timeout(10_000) }).catch((err) => ({
        status: `error: ${err.message}`,
      }));
      calls.push({ status: res.status, ms: Date.now() - started });
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();

  try {
    for (const f of files) {
      const form = new FormData();
      form.set("type", "client");
      form.set("file", await fs.openAsBlob(path.join(tmp, f.name)), f.name);
      const res = await fetch(`${server.url}/api/v1/imports`, { method: "POST", headers, body: form });
      const body = await res.json();
      if (res.status === 422) {
        assert.equal(body.error.code, "import_file_rejected", `${f.name}: ${JSON.stringify(body)}`);
        continue;
      }
      assert.equal(res.status, 202, `${f.name}: ${JSON.stringify(body)}`);
      const deadline = Date.now() + 120_000;
      let job = body;
      while (job.status !== "failed" && job.status !== "completed" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        job = await (await fetch(`${server.url}/api/v1/imports/${body.id}`, { headers })).json();
      }
      if (f.expect === "completed") {
        assert.equal(job.status, "completed", `${f.name}: ${JSON.stringify(job)}`);
        assert.equal(job.failed, 400, `${f.name}: every row refused by validation`);
        console.log(`# ${f.name} (${(fs.statSync(path.join(tmp, f.name)).size / 1024).toFixed(0)} KB): completed, ${job.failed} rows failed validation`);
        continue;
      }
      assert.equal(job.status, "failed", `${f.name}: ${JSON.stringify(job)}`);
      assert.equal(job.error_code, "import_file_rejected", `${f.name}: ${JSON.stringify(job)}`);
      assert.equal(job.processed, 0);
      console.log(`# ${f.name} (${(fs.statSync(path.join(tmp, f.name)).size / 1024 / 1024).toFixed(1)} MB): ${job.error}`);
    }
    // Ten clients hang up halfway through their uploads: their requests end and their partial
    // files go (the uploads directory is this server's own).
    await Promise.all(Array.from({ length: 10 }, () => hangUpMidUpload(server.url, key)));
    const partials = () => (fs.existsSync(env.UPLOADS_DIR) ? fs.readdirSync(env.UPLOADS_DIR).filter((n) => n.endsWith(".tmp")) : []);
    const deadline = Date.now() + 5000;
    while (partials().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(partials(), [], "no partial upload is left behind");
    // A few more seconds of calls after the last refusal.
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    polling = false;
    await poller;
  }

  try {
    assert.equal(server.child.exitCode, null, "the server never exited");
    assert.equal(server.child.pid, pid);
    const peak = peakRssBytes(pid);
    const slowest = Math.max(...calls.map((c) => c.ms));
    console.log(`# ${calls.length} calls to /api/v1/me, slowest ${slowest} ms; server peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB`);
    assert.ok(calls.length >= 5, `the other client kept calling (${calls.length} calls)`);
    for (const c of calls) assert.equal(c.status, 200, `GET /api/v1/me answered ${c.status}`);
    assert.ok(slowest < MAX_CALL_MS, `every call answered within ${MAX_CALL_MS} ms (slowest: ${slowest} ms)`);
    assert.ok(peak < GB, `peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB stays under 1 GB`);
  } finally {
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
