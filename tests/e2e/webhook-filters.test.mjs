import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { acceptDialogs, baseUrl, launch, signUpNewOwner, snapshot, startReceiver, uniq } from "./browser.mjs";

let browser;
let receiver;
before(async () => {
  browser = await launch();
  receiver = await startReceiver(() => ({ status: 200, body: "ok" }));
});
after(async () => {
  await browser?.close();
  receiver.close();
});

async function noHorizontalOverflow(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll}px wide in a ${width}px window`);
}

async function createClient(page, orgSlug, name, status) {
  await page.goto(`/${orgSlug}/records/clients/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (status) await page.getByLabel("Status").selectOption(status);
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/records\/clients\/cli_/);
}

test("filter an endpoint's events with a preview, be warned of a URL already subscribed, set event retention", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  acceptDialogs(page);
  const hookUrl = receiver.url("/hooks/filtered");
  try {
    const { orgPath } = await signUpNewOwner(page, "Filters");
    const orgSlug = orgPath.slice(1);
    await createClient(page, orgSlug, uniq("Active Ada"), "active");
    await createClient(page, orgSlug, uniq("Lead Lee"), "lead");

    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByLabel("All events").uncheck();
    await page.getByLabel("client_created").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForURL(/\/settings\/webhooks\/we_/);
    const endpointPath = new URL(page.url()).pathname;

    // The filter editor: one condition, previewed on the events so far, then saved.
    await page.getByRole("button", { name: "Add condition" }).click();
    await page.getByLabel("Condition 1 field").fill("data.status");
    await page.getByLabel("Condition 1 operator").selectOption("equals");
    await page.getByLabel("Condition 1 value").fill("active");
    await page.getByRole("button", { name: "Preview on the last 100 events" }).click();
    const preview = page.getByTestId("filter-preview");
    await preview.getByText("1 of the last 2 events would have been delivered.").waitFor();
    await preview.getByText("filtered out").waitFor();
    await page.getByRole("button", { name: "Save conditions" }).click();
    await page.getByText("Saved. Events that do not match are not delivered.").waitFor();
    await noHorizontalOverflow(page);
    await snapshot(page, "webhook-filter-editor");

    // Only the matching client reaches the receiver.
    const before = receiver.received.length;
    const lead = uniq("Filtered Lead");
    const active = uniq("Delivered Active");
    await createClient(page, orgSlug, lead, "lead");
    await createClient(page, orgSlug, active, "active");
    const deadline = Date.now() + 15_000;
    while (!receiver.received.slice(before).some((r) => r.body.includes(active)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const bodies = receiver.received.slice(before).map((r) => r.body);
    assert.ok(
      bodies.some((b) => b.includes(active)),
      "the matching client was delivered",
    );
    assert.ok(!bodies.some((b) => b.includes(lead)), "the lead was filtered out");

    // The filter is kept: the editor shows it after a reload.
    await page.goto(endpointPath);
    assert.equal(await page.getByLabel("Condition 1 value").inputValue(), "active");

    // Adding the same URL again: the form warns before anything is sent.
    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByTestId("already-subscribed").waitFor();
    await page.getByText("filtered: 1 condition").waitFor();
    await noHorizontalOverflow(page);
    await snapshot(page, "webhook-url-warning");

    // Event retention, beside the other logs' retention.
    await page.goto(`${orgPath}/settings/audit`);
    await page.getByLabel("Webhook events and deliveries (days)").fill("14");
    await page.getByRole("button", { name: "Save retention" }).click();
    await page.getByText("Saved. The next hourly run applies it.").waitFor();
    await page.reload();
    assert.equal(await page.getByLabel("Webhook events and deliveries (days)").inputValue(), "14");
    await snapshot(page, "event-retention");

    // The API reference lists the events.
    await page.goto("/docs/api");
    await page.locator("#event-invoice_paid").waitFor();
    await page.locator("#events").getByText("record.deleted", { exact: true }).waitFor();
    await noHorizontalOverflow(page);
    await page.locator("#events").screenshot({ path: "test-results/api-reference-events.png" });
  } catch (err) {
    await snapshot(page, "webhook-filters-failure");
    throw err;
  } finally {
    await context.close();
  }
});
