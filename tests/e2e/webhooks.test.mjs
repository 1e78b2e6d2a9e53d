import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { acceptDialogs, baseUrl, launch, signUpNewOwner, snapshot, startReceiver, uniq } from "./browser.mjs";

let browser;
let receiver;
let received;
before(async () => {
  browser = await launch();
  receiver = await startReceiver(() => ({ status: 200, body: "thanks" }));
  received = receiver.received;
});
after(async () => {
  await browser?.close();
  receiver.close();
});

test("add an endpoint, send a test event, read the attempt, re-deliver a real delivery", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  acceptDialogs(page);
  const hookUrl = receiver.url("/hooks/smarfle");
  try {
    const { orgPath } = await signUpNewOwner(page, "Hooks");
    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByLabel("Description").fill("Our receiver");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForURL(/\/settings\/webhooks\/we_/);

    await page.getByRole("button", { name: "Reveal signing secret" }).click();
    const secret = (await page.getByTestId("webhook-secret").textContent()).trim();
    assert.match(secret, /^whsec_/);

    // The test event, signed with the real secret, answered inline.
    await page.getByLabel("Test event type").selectOption("invoice_paid");
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByTestId("test-result").getByText("Delivered: HTTP 200").waitFor();
    const test1 = received.at(-1);
    assert.equal(new Webhook(secret).verify(test1.body, test1.headers).type, "invoice_paid");

    // The attempt, with the exact request, in the log.
    await page.reload();
    const log = page.getByTestId("delivery-log");
    await log.getByText("invoice_paid").first().click();
    await log.getByText(`webhook-id: ${test1.headers["webhook-id"]}`).first().waitFor();
    await log.getByText("thanks").first().waitFor();

    // A real event: create a client, watch it arrive, then re-deliver it by hand.
    const orgSlug = orgPath.slice(1);
    await page.goto(`/${orgSlug}/records/clients/new`);
    const name = uniq("Hooked Client");
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/records\/clients\/cli_/);
    const deadline = Date.now() + 15_000;
    // One delivery per change: client_created, naming record.created as its generic type.
    while (received.filter((r) => r.body.includes(name)).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const first = received.filter((r) => r.body.includes(name));
    assert.equal(first.length, 1, "one delivery for one change");
    assert.equal(JSON.parse(first[0].body).generic_type, "record.created");
    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByRole("link", { name: hookUrl }).click();
    await page.getByLabel("Status").selectOption("succeeded");
    await page.getByLabel("Event type", { exact: true }).selectOption("client_created");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByTestId("delivery-log").getByText("client_created").first().click();
    await page.getByRole("button", { name: "Re-deliver", exact: true }).first().click();
    await page.getByText("Queued", { exact: true }).waitFor();
    const until = Date.now() + 15_000;
    while (received.filter((r) => r.body.includes(name)).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const again = received.filter((r) => r.body.includes(name) && JSON.parse(r.body).type === "client_created");
    assert.equal(again.length, 2, "re-delivered");
    assert.equal(again[0].headers["webhook-id"], again[1].headers["webhook-id"]);
  } catch (err) {
    await snapshot(page, "webhooks-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("set an endpoint's rate, ordering, custom header and receiver auth; secrets stay masked", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  acceptDialogs(page);
  const hookUrl = receiver.url("/hooks/delivery-settings");
  try {
    const { orgPath } = await signUpNewOwner(page, "Pacing");
    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByLabel("Endpoint URL").fill(hookUrl);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForURL(/\/settings\/webhooks\/we_/);
    const state = page.getByTestId("delivery-state");
    await state.getByText("no limit").waitFor();

    await page.getByLabel("Rate limit (deliveries per second)").fill("5");
    await page.getByLabel("Ordering").selectOption("per_record");
    await page.getByRole("textbox", { name: "Custom headers" }).fill("X-Api-Key: header-secret-value");
    await page.getByLabel("Receiver authentication").selectOption("bearer");
    await page.getByLabel("Bearer token").fill("bearer-secret-value");
    await page.getByRole("button", { name: "Save delivery settings" }).click();
    await page.getByText("Saved.").waitFor();

    await page.reload();
    await state.getByText("5/s").waitFor();
    await state.getByText("per record").waitFor();
    await state.getByText("Bearer ••••••").waitFor();
    await state.getByText("headers: X-Api-Key").waitFor();
    await state.getByText("closed").waitFor();
    const html = await page.content();
    assert.ok(!html.includes("header-secret-value") && !html.includes("bearer-secret-value"), "secrets never reach the page");

    // A reserved header is refused with a message, and nothing changes.
    await page.getByRole("textbox", { name: "Custom headers" }).fill("Content-Type: text/plain");
    await page.getByRole("button", { name: "Save delivery settings" }).click();
    await page.getByText(/is reserved/).waitFor();

    // The receiver gets what was configured.
    await page.reload();
    await page.getByLabel("Test event type").selectOption("client_created");
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByTestId("test-result").getByText("Delivered: HTTP 200").waitFor();
    const got = received.at(-1);
    assert.equal(got.headers["x-api-key"], "header-secret-value");
    assert.equal(got.headers.authorization, "Bearer bearer-secret-value");

    // Basic auth: the user name is shown, the password is not.
    await page.getByLabel("Receiver authentication").selectOption("basic");
    await page.getByLabel("Username").fill("smarfle");
    await page.getByLabel("Password", { exact: true }).fill("basic-secret-value");
    await page.getByRole("button", { name: "Save delivery settings" }).click();
    await page.getByText("Saved.").waitFor();
    await page.reload();
    await state.getByText("Basic smarfle:••••••").waitFor();
    assert.ok(!(await page.content()).includes("basic-secret-value"));
    await snapshot(page, "webhook-delivery-settings");
  } catch (err) {
    await snapshot(page, "webhook-delivery-settings-failure");
    throw err;
  } finally {
    await context.close();
  }
});
