// Sign-in throttling through the real server (server.mjs), so the address it limits is the TCP
// peer. A server of its own (same build, its own embedded database and in-memory limits), so its
// per-address buckets are not shared with the other browser tests.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { freePort, smarfle, startServer } from "../../scripts/prod-server.mjs";
import { uniq, waitForMail } from "./browser.mjs";

const randomIp = () => `198.51.${randomInt(256)}.${randomInt(1, 255)}`;
let server;
let tmp;
const email = `${uniq("victim")}@example.test`;
const password = "the right long password";

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-throttle-"));
  const env = { ...process.env, PGLITE_DATA_DIR: path.join(tmp, "pglite"), TRUST_PROXY_HOPS: "0" };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const port = await freePort();
  env.PORT = String(port);
  env.APP_URL = `http://127.0.0.1:${port}`;
  smarfle(env, "db:migrate");
  const org = smarfle(env, "org:create", "--name", "Throttle Test", "--json");
  smarfle(env, "user:create", "--email", email, "--password", password, "--org", org.id, "--role", "owner", "--json");
  server = await startServer(env, { port, logFile: path.join(tmp, "server.log") });
});

after(async () => {
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** One sign-in through Auth.js's credentials endpoint; resolves to "ok", "invalid" or "rate_limited_<s>". */
async function attempt(who, secret, forwardedFor) {
  const headers = { "x-forwarded-for": forwardedFor };
  const csrf = await fetch(`${server.url}/api/auth/csrf`, { headers });
  const { csrfToken } = await csrf.json();
  const cookie = csrf.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const res = await fetch(`${server.url}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: who, password: secret, csrfToken, callbackUrl: `${server.url}/orgs` }),
  });
  const location = new URL(res.headers.get("location") ?? "/", server.url);
  if (res.headers.getSetCookie().some((c) => c.startsWith("authjs.session-token="))) return "ok";
  return location.searchParams.get("code") === "credentials" ? "invalid" : (location.searchParams.get("code") ?? `status ${res.status}`);
}

test("40 wrong passwords from 40 forwarded addresses: the account is throttled, the right password refused, the owner told", async () => {
  const outcomes = [];
  for (let i = 0; i < 40; i++) outcomes.push(await attempt(email, `wrong guess ${i}`, randomIp()));
  assert.deepEqual(outcomes.slice(0, 10), Array(10).fill("invalid"));
  for (const o of outcomes.slice(10)) assert.match(o, /^rate_limited_\d+$/);
  // About 15 minutes: the window is counted from the failures.
  const seconds = Number(outcomes.at(-1).split("_").at(-1));
  assert.ok(seconds > 10 * 60 && seconds <= 15 * 60, `retry after ${seconds}s`);

  assert.match(await attempt(email, password, randomIp()), /^rate_limited_\d+$/);

  const mail = await waitForMail(email, /paused/);
  assert.match(mail.text, /too many times/);
  assert.match(mail.text, /15 minutes/);

  // Each refusal is one line in the log, never Auth.js's error with a stack trace.
  const log = fs.readFileSync(path.join(tmp, "server.log"), "utf8");
  const events = log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .filter((e) => e.context === "auth");
  assert.equal(events.filter((e) => e.event === "sign_in_failed").length, 10);
  assert.equal(events.filter((e) => e.event === "sign_in_throttled" && e.scope === "account").length, 31);
  assert.doesNotMatch(log, /CredentialsSignin|    at /);
});

test("the per-address limit counts the TCP peer, whatever X-Forwarded-For says", async () => {
  // 41 attempts so far from 127.0.0.1; each unknown address below has a fresh account bucket.
  const outcomes = [];
  for (let i = 0; i < 12; i++) outcomes.push(await attempt(`${uniq("nobody")}@example.test`, "guess", randomIp()));
  assert.ok(
    outcomes.slice(0, 9).every((o) => o === "invalid"),
    outcomes.join(","),
  );
  assert.match(outcomes.at(-1), /^rate_limited_\d+$/);
});
