// Browser tests against a production build: build, migrate, the production server (server.mjs) on 127.0.0.1, run the
// tests in tests/e2e with Node's test runner, stop the server. Uses DATABASE_URL when set, else a
// throwaway embedded database. Set E2E_SKIP_BUILD=1 to reuse an existing .next build, and
// E2E_ONLY=<part of a file name> to run only the matching test files.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { build, freePort, root, smarfle, startServer } from "../../scripts/prod-server.mjs";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-e2e-"));
const port = await freePort();
const env = {
  ...process.env,
  NODE_ENV: "production",
  PORT: String(port),
  APP_URL: `http://127.0.0.1:${port}`,
  AUTH_SECRET: process.env.AUTH_SECRET ?? randomBytes(32).toString("base64"),
  SMARFLE_ENCRYPTION_KEY: process.env.SMARFLE_ENCRYPTION_KEY ?? randomBytes(32).toString("base64"),
  NEXT_TELEMETRY_DISABLED: "1",
  // The browser tests' webhook receiver listens on 127.0.0.1.
  SMARFLE_ALLOW_PRIVATE_URLS: "1",
};
if (!env.DATABASE_URL) env.PGLITE_DATA_DIR = path.join(tmp, "pglite");
// Rate limits outlive a run in Redis: every browser test signs up from 127.0.0.1, and the
// per-address sign-up window would carry one run's sign-ups into the next. The server under test
// gets a Redis database of its own (not the default one), emptied before it starts.
if (env.REDIS_URL?.startsWith("redis://")) {
  const url = new URL(env.REDIS_URL);
  url.pathname = "/9";
  env.REDIS_URL = url.toString();
  const { default: IORedis } = await import("ioredis");
  const redis = new IORedis(env.REDIS_URL, { lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  await redis.quit();
}
const logFile = path.join(tmp, "server.log");

// A real SMTP server on 127.0.0.1: every message the app sends lands as a file in E2E_MAIL_DIR,
// where the tests read it (tests/e2e/browser.mjs waitForMail).
const mailDir = path.join(tmp, "mail");
fs.mkdirSync(mailDir);
let mailCount = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, _session, done) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      fs.writeFileSync(path.join(mailDir, `${String(++mailCount).padStart(5, "0")}.eml`), Buffer.concat(chunks));
      done();
    });
  },
});
const smtpPort = await freePort();
await new Promise((resolve) => smtp.listen(smtpPort, "127.0.0.1", resolve));
env.SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
env.EMAIL_FROM = "Smarfle Tests <tests@smarfle.test>";
env.E2E_MAIL_DIR = mailDir;

let code = 1;
let server;
try {
  if (process.env.E2E_SKIP_BUILD !== "1") build(env);
  smarfle(env, "db:migrate");
  server = await startServer(env, { port, logFile });
  const tests = fs
    .readdirSync(path.join(root, "tests/e2e"))
    .filter((f) => f.endsWith(".test.mjs") && (!process.env.E2E_ONLY || f.includes(process.env.E2E_ONLY)))
    .map((f) => path.join("tests/e2e", f));
  // Not spawnSync: this process must keep answering SMTP while the tests run.
  const run = spawn(process.execPath, ["--test", "--test-concurrency=1", "--test-timeout=600000", ...tests], {
    cwd: root,
    env: { ...env, E2E_BASE_URL: server.url },
    stdio: "inherit",
  });
  code = await new Promise((resolve) => run.once("exit", (status) => resolve(status ?? 1)));
  // One answered API request, so the log has an access line to check even when few tests ran.
  await fetch(`${server.url}/api/v1/me`).catch(() => {});
  await server.stop();
  server = undefined;
  await new Promise((r) => setTimeout(r, 300)); // the log stream's last writes
  if (!logIsClean(fs.readFileSync(logFile, "utf8"))) code = 1;
} catch (err) {
  console.error(`e2e: ${err.message}`);
} finally {
  await server?.stop();
  smtp.close();
  if (code !== 0 && fs.existsSync(logFile)) {
    console.error("e2e: last lines of the server log:");
    console.error(fs.readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n"));
    fs.mkdirSync(path.join(root, "test-results"), { recursive: true });
    fs.copyFileSync(logFile, path.join(root, "test-results", "e2e-server.log"));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);

/**
 * The server's log of the whole run: JSON lines (besides Next.js's own start-up banner) that
 * never carry an API key, a webhook or inbound secret, or the session secret.
 */
function logIsClean(log) {
  const leaks = [
    [/sk_live_[0-9A-Za-z]{16,}/, "an API key"],
    [/whsec_[A-Za-z0-9+/=]{16,}/, "a webhook signing secret"],
    [new RegExp(env.AUTH_SECRET.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "AUTH_SECRET"],
  ];
  let clean = true;
  for (const [pattern, what] of leaks) {
    if (pattern.test(log)) {
      console.error(`e2e: the server log contains ${what}`);
      clean = false;
    }
  }
  const lines = log.split("\n").filter((l) => l.startsWith("{"));
  const unparsable = lines.filter((l) => {
    try {
      const entry = JSON.parse(l);
      return typeof entry.level !== "string" || typeof entry.time !== "string";
    } catch {
      return true;
    }
  });
  if (lines.length === 0 || unparsable.length > 0) {
    console.error(`e2e: expected JSON log lines with level and time; ${lines.length} lines, ${unparsable.length} malformed`);
    clean = false;
  }
  if (clean) console.log(`e2e: server log checked: ${lines.length} JSON lines, no key or secret`);
  return clean;
}
