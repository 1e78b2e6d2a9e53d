import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, test } from "node:test";
import { baseUrl, launch, signUpNewOwner, snapshot, startReceiver } from "./browser.mjs";

// A new owner's first hour: the checklist ticks through a leads key, the form (a copied snippet,
// run as it is), a webhook and a test event; the lead's message is on the client's page.
let browser;
let receiver;
before(async () => {
  browser = await launch();
  receiver = await startReceiver();
});
after(async () => {
  receiver?.close();
  await browser?.close();
});

const SETTINGS_PAGES = [
  "",
  "/members",
  "/api-keys",
  "/usage",
  "/lead-capture",
  "/webhooks",
  "/inbound",
  "/connectors",
  "/import",
  "/workflows",
  "/audit",
  "/plan",
];

async function stepsDone(page, orgPath) {
  await page.goto(orgPath);
  const list = page.getByTestId("getting-started");
  if ((await list.count()) === 0) return "all";
  return list.locator("li[data-done=true]").evaluateAll((els) => els.map((e) => e.dataset.step));
}

test("the checklist ticks through a fresh organization's first key, form, webhook and test event", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "FirstHour");
    assert.deepEqual(await stepsDone(page, orgPath), []);

    // 1. A leads key, created from the Lead capture page: every snippet is filled with it.
    await page.getByTestId("getting-started").getByRole("link", { name: "Create a leads key" }).click();
    await page.waitForURL(/\/settings\/lead-capture$/);
    await page.getByRole("button", { name: "Create a leads key" }).click();
    const key = (await page.getByTestId("new-api-key").textContent()).trim();
    assert.match(key, /^sk_live_/);
    await page.getByText(`X-API-Key: ${key}`).waitFor();
    assert.equal(await page.getByText("sk_live_…").count(), 0, "no placeholder left in the snippets");

    // A thank-you page that is not allowed is flagged, and one click allows its origin.
    await page.getByLabel("After sending, visitors go to (optional)").fill("https://www.example.com/thanks");
    await page.getByTestId("redirect-refused").waitFor();
    await page.getByRole("button", { name: "Add https://www.example.com to the allowed redirect URLs" }).click();
    await page.getByTestId("redirect-refused").waitFor({ state: "detached" });
    assert.equal(await page.getByLabel("Allowed redirect URLs").inputValue(), "https://www.example.com");

    // 2. The cURL snippet, copied with its button and run as it is.
    await page.getByRole("button", { name: "Copy the cURL command" }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(copied.includes(key), "the copied command carries the new key");
    const answer = JSON.parse(execFileSync("sh", ["-c", `${copied} --silent`], { encoding: "utf8" }));
    assert.equal(answer.object, "client");
    assert.equal(answer.source, "contact form");
    assert.deepEqual(await stepsDone(page, orgPath), ["leads_key", "first_lead"]);

    // The lead's message, prominent on the client's page.
    await page.goto(`${orgPath}/records/clients/${answer.id}`);
    assert.equal((await page.getByTestId("lead-message").textContent()).trim(), "Quote please for a weekly office clean");
    await page.getByText("via contact form").waitFor();
    await page.getByTestId("change-history").getByText("Created").waitFor();

    // 3. A webhook, 4. a test event, 5. seen arriving.
    await page.goto(orgPath);
    await page.getByTestId("getting-started").getByRole("link", { name: "Add a webhook" }).click();
    await page.getByLabel("Endpoint URL").fill(receiver.url("/hooks/first-hour"));
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForURL(/\/settings\/webhooks\/we_/);
    assert.deepEqual(await stepsDone(page, orgPath), ["leads_key", "first_lead", "webhook"]);
    await page.getByTestId("getting-started").getByRole("link", { name: "Send a test event" }).click();
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByTestId("test-result").getByText("Delivered: HTTP 200").waitFor();
    assert.equal(await stepsDone(page, orgPath), "all", "the checklist is gone once every step is done");
  } catch (err) {
    await snapshot(page, "first-hour-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("no settings page scrolls sideways at 1280 px", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Widths");
    for (const p of [...SETTINGS_PAGES.map((s) => `/settings${s}`), ""]) {
      await page.goto(`${orgPath}${p}`);
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scroll <= client, `${p || "/"}: ${scroll} > ${client}`);
    }
  } catch (err) {
    await snapshot(page, "widths-failure");
    throw err;
  } finally {
    await context.close();
  }
});
