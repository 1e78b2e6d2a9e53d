// Debian's Chromium driven by playwright-core; no browser is ever downloaded.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { simpleParser } from "mailparser";
import { chromium } from "playwright-core";

export const baseUrl = process.env.E2E_BASE_URL ?? "http://127.0.0.1:3000";

/**
 * Console errors and uncaught exceptions of every page the tests open. A refused request the test
 * provokes on purpose (401, 403, 409, 422, 429…) is the browser reporting an answer, not a fault;
 * a 404 (a missing favicon, a dead link) and a 5xx are faults.
 */
export const consoleErrors = [];
const EXPECTED_REFUSAL = /Failed to load resource: the server responded with a status of 4(0[0-35-9]|[1-9]\d)\b/;

/** Errors a test provokes on purpose (a page of another organization answering 404, say). */
const expected = [];
export function expectConsoleError(pattern) {
  expected.push(pattern);
}

export function watchConsole(page) {
  page.on("console", (m) => {
    // A failed load names the resource in its location, not in its text: say which one it was.
    const resource = m.location()?.url;
    const line = `${page.url()}: ${m.text()}${resource && resource !== page.url() ? ` (${resource})` : ""}`;
    if (m.type() === "error" && !EXPECTED_REFUSAL.test(m.text()) && !expected.some((p) => p.test(line))) consoleErrors.push(line);
  });
  page.on("pageerror", (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
}

/**
 * Chromium; every page of every context it opens is watched (watchConsole), and closing the
 * browser fails the test file if any page logged an error.
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on("page", watchConsole);
    return context;
  };
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    if (consoleErrors.length) throw new Error(`console errors in the browser:\n${consoleErrors.splice(0).join("\n")}`);
  };
  return browser;
}

/** Saves a screenshot under test-results/ so a failure in CI can be looked at. */
export async function snapshot(page, name) {
  const dir = path.resolve("test-results");
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true }).catch(() => {});
}

export const uniq = (label) => `${label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/**
 * Each browser test stands for a different visitor, but every one of them signs up from
 * 127.0.0.1, and the shared server allows 20 sign-ups per address in 10 minutes: whether the
 * suite passed would depend on how fast it ran. So the address's sign-up window is emptied before
 * each sign-up (in the server's Redis database; the limit itself is tested in
 * tests/integration/sign-in.test.ts). Without Redis the limiter lives in the server's memory and
 * cannot be emptied from here: CI runs the suite with Redis.
 */
async function forgetSignUpsFromHere() {
  if (!process.env.REDIS_URL?.startsWith("redis://")) return;
  const { default: IORedis } = await import("ioredis");
  const redis = new IORedis(process.env.REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", "*sign_up:address:*", "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
}

/**
 * Signs up through the form ("check your inbox"), then signs in: a new account starts with its
 * address unconfirmed. Resolves once the browser is in the new organization.
 */
export async function signUpAndSignIn(page, { name, email, password, orgName }) {
  await forgetSignUpsFromHere();
  await page.goto("/sign-up");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Organization name").fill(orgName);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("Check your inbox").waitFor({ timeout: 20_000 });
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !["/sign-in", "/orgs"].includes(url.pathname), { timeout: 20_000 });
  return new URL(page.url()).pathname;
}

/** Signs a new owner up through the form; resolves to their organization's path (`/acme-xyz`). */
export async function signUpNewOwner(page, label = "Owner") {
  const email = `${uniq(label.toLowerCase())}@example.test`;
  const orgName = uniq(`${label} Org`);
  const orgPath = await signUpAndSignIn(page, { name: label, email, password: "a long test password", orgName });
  return { orgPath, email };
}

/** Accepts the confirm() dialogs that destructive buttons ask. */
export function acceptDialogs(page) {
  page.on("dialog", (d) => void d.accept());
}

/**
 * A webhook receiver on 127.0.0.1 that records every request and answers 200 (or what `answer`
 * says). `close()` stops it.
 */
export async function startReceiver(answer = () => ({ status: 200, body: "ok" })) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, { "content-type": "text/plain" }).end(a.body ?? "");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  // A test file whose after() hook fails before close() must still end: the receiver never
  // keeps the process alive on its own.
  server.unref();
  return {
    url: (path = "/hook") => `http://127.0.0.1:${server.address().port}${path}`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Waits for a message to `to` (and matching `subject`, a RegExp) to reach the tests' SMTP server
 * (tests/e2e/run.mjs); resolves to {subject, text, link} with the first link to the app in it.
 */
export async function waitForMail(to, subject = /./, { timeoutMs = 15_000 } = {}) {
  const dir = process.env.E2E_MAIL_DIR;
  if (!dir) throw new Error("E2E_MAIL_DIR is not set: run the browser tests with npm run test:e2e");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const file of fs.readdirSync(dir).sort().reverse()) {
      const mail = await simpleParser(fs.readFileSync(path.join(dir, file)));
      const recipients = [mail.to]
        .flat()
        .flatMap((a) => a?.value ?? [])
        .map((a) => a.address?.toLowerCase());
      if (recipients.includes(to.toLowerCase()) && subject.test(mail.subject ?? "")) {
        const link = (mail.text ?? "").match(/https?:\/\/\S+/)?.[0] ?? null;
        return { subject: mail.subject, text: mail.text ?? "", link };
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`);
}
