import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { baseUrl, launch } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("pages carry a nonce CSP that forbids framing and inline script, and the basic headers", async () => {
  for (const path of ["/", "/sign-in", "/sign-up"]) {
    const res = await fetch(`${baseUrl}${path}`);
    assert.equal(res.status, 200, path);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, `${path}: CSP with a nonce: ${csp}`);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
    assert.doesNotMatch(csp, /'unsafe-eval'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.ok(scripts.length > 0);
    for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), `${path}: script without the nonce: ${tag}`);
    // A fresh nonce per response.
    const again = (await fetch(`${baseUrl}${path}`)).headers.get("content-security-policy");
    assert.notEqual(again, csp);
  }
});

test("API answers carry nosniff and the referrer policy", async () => {
  const res = await fetch(`${baseUrl}/api/v1/me`);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
});

test("lead capture, answered by the production server without Next.js's request path, carries the same headers", async () => {
  const res = await fetch(`${baseUrl}/api/webhook/leads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(res.status, 401);
  const text = await res.text();
  assert.equal(JSON.parse(text).error.code, "unauthorized");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.match(res.headers.get("x-request-id") ?? "", /^req_/);
  // Answered directly (server/direct.mjs) the body goes out whole with its length; Next.js streams
  // a route's answer in chunks. A length here says the direct path served it.
  assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(text)));
  // A method the route does not export is still Next.js's to answer.
  const get = await fetch(`${baseUrl}/api/webhook/leads`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("x-content-type-options"), "nosniff");
});

test("the icon a browser asks for on its own is there", async () => {
  const res = await fetch(`${baseUrl}/favicon.ico`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^image\/svg\+xml/);
  assert.match(await res.text(), /<svg/);
});

test("the benchmark baselines are not served without SMARFLE_BENCH=1", async () => {
  assert.equal((await fetch(`${baseUrl}/api/bench/static`)).status, 404);
});

test("the sign-in page runs under the policy: no violation, the form works", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  const violations = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
  });
  try {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill("nobody@example.test");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: /sign in/i }).click();
    await page.getByText("Wrong email or password.").waitFor({ timeout: 15_000 });
    assert.deepEqual(violations, []);
  } finally {
    await context.close();
  }
});
