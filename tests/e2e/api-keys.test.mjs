import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { acceptDialogs, baseUrl, launch, signUpNewOwner, snapshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const me = (key) => fetch(`${baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });

test("generate a key, copy it once, use it, revoke it, see it refused", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  acceptDialogs(page);
  try {
    const { orgPath } = await signUpNewOwner(page, "Keys");
    await page.goto(`${orgPath}/settings/api-keys`);
    await page.getByLabel("Key name").fill("Reporting script");
    await page.getByRole("checkbox", { name: /^write/ }).check();
    await page.getByRole("button", { name: "Generate key" }).click();
    const shown = page.getByTestId("new-api-key");
    await shown.waitFor();
    const key = (await shown.textContent()).trim();
    assert.match(key, /^sk_live_[0-9A-Za-z]{43}$/);
    await page.getByText("it will not be shown again").waitFor();

    // The key works from outside the browser, with the scopes picked.
    const ok = await me(key);
    assert.equal(ok.status, 200);
    assert.deepEqual((await ok.json()).scopes, ["read", "write"]);
    assert.ok(ok.headers.get("x-ratelimit-limit"));

    // Reloading never shows the plaintext again; the list shows its prefix.
    await page.reload();
    assert.equal(await page.getByTestId("new-api-key").count(), 0);
    assert.equal(await page.getByText(key).count(), 0);
    await page.getByText(`${key.slice(0, 12)}…`).waitFor();

    await page.getByRole("button", { name: "Revoke" }).first().click();
    await page.getByText("revoked", { exact: true }).waitFor();
    const refused = await me(key);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "unauthorized");
  } catch (err) {
    await snapshot(page, "api-keys-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("rotate a key: the new one works and the old one is refused when no grace period is chosen", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  acceptDialogs(page);
  try {
    const { orgPath } = await signUpNewOwner(page, "Rotate");
    await page.goto(`${orgPath}/settings/api-keys`);
    await page.getByLabel("Key name").fill("Zapier");
    await page.getByRole("button", { name: "Generate key" }).click();
    const oldKey = (await page.getByTestId("new-api-key").textContent()).trim();
    await page.reload();
    await page.getByLabel("Grace period for Zapier").selectOption("none");
    await page.getByRole("button", { name: "Rotate" }).click();
    await page.getByTestId("new-api-key").waitFor();
    const newKey = (await page.getByTestId("new-api-key").textContent()).trim();
    assert.notEqual(newKey, oldKey);
    assert.equal((await me(newKey)).status, 200);
    assert.equal((await me(oldKey)).status, 401);
  } catch (err) {
    await snapshot(page, "api-keys-rotate-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("usage shows this month's calls, their cost and the limit", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Usage");
    await page.goto(`${orgPath}/settings/usage`);
    await page.getByRole("heading", { name: "Usage" }).waitFor();
    await page.getByText("at $0.003 per call").waitFor();
    await page.getByText("60/min").waitFor();
    await page.getByRole("figure", { name: "API calls per day this month" }).waitFor();
  } catch (err) {
    await snapshot(page, "usage-failure");
    throw err;
  } finally {
    await context.close();
  }
});
