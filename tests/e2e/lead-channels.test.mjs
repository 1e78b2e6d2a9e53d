import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { baseUrl, launch, signUpNewOwner, snapshot, uniq } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("an admin adds a Google Ads lead form on the lead capture page, and a lead Google sends arrives with its history", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Channels");
    await page.goto(`${orgPath}/settings/lead-capture`);
    await page.getByRole("heading", { name: "Google Ads lead forms" }).waitFor();
    await page.getByText("Webhook integration").first().waitFor();
    await page.getByLabel("Name", { exact: true }).first().fill("Spring campaign form");
    await page.getByRole("button", { name: "Add a Google Ads lead form" }).click();
    const url = (await page.getByTestId("channel-url").textContent()).trim();
    const key = (await page.getByTestId("channel-key").textContent()).trim();
    assert.match(url, /\/api\/inbound\/src_/);
    assert.match(key, /^insec_/);
    await snapshot(page, "lead-channels-settings");

    // Google's webhook integration posts the lead, with the key in the body.
    const leadName = uniq("Gail Google");
    const lead = {
      lead_id: uniq("lead"),
      user_column_data: [
        { column_name: "Full Name", string_value: leadName, column_id: "FULL_NAME" },
        { column_name: "User Email", string_value: "gail@example.test", column_id: "EMAIL" },
        { column_name: "What do you need?", string_value: "Office cleaning twice a week", column_id: "SERVICE_NEEDED" },
      ],
      api_version: "1.0",
      form_id: 1234567890,
      campaign_id: 9876543210,
      google_key: key,
      is_test: false,
    };
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(lead) });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.new, true);

    // The source is listed on the page afterwards, and the lead is in the CRM with its history.
    await page.reload();
    await page.getByTestId("lead-channel-source").getByText("Spring campaign form").waitFor();
    await page.goto(`${orgPath}/records/clients?status=lead`);
    await page.getByRole("link", { name: leadName }).click();
    await page.getByTestId("lead-history").getByText("google ads").waitFor();
    await page
      .getByTestId("lead-history")
      .getByText(/service_needed: Office cleaning twice a week/)
      .waitFor();
    assert.match((await page.getByTestId("notification-count").textContent()) ?? "", /1/);
    await snapshot(page, "lead-channels-client");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    assert.equal(overflow, false);
  } catch (err) {
    await snapshot(page, "lead-channels-failure");
    throw err;
  } finally {
    await context.close();
  }
});
