// `npm start` in production against a shared database refuses to run without its shared secrets.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { freePort, root } from "../../scripts/prod-server.mjs";

async function start(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, "server.mjs"), "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

const base = () => {
  const env = { ...process.env, NODE_ENV: "production", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/smarfle_unused" };
  delete env.PGLITE_DATA_DIR;
  return env;
};

test("exits non-zero naming AUTH_SECRET when it is missing", async () => {
  const env = base();
  delete env.AUTH_SECRET;
  const { code, output } = await start(env);
  assert.notEqual(code, 0);
  assert.match(output, /AUTH_SECRET is required when NODE_ENV=production and DATABASE_URL is set/);
});

test("exits non-zero naming SMARFLE_ENCRYPTION_KEY when it is missing", async () => {
  const env = base();
  delete env.SMARFLE_ENCRYPTION_KEY;
  const { code, output } = await start(env);
  assert.notEqual(code, 0);
  assert.match(output, /SMARFLE_ENCRYPTION_KEY is required/);
});
