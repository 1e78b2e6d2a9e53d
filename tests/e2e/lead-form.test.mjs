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

test("a plain HTML form on a customer's page creates a lead and lands on the thank-you page", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Leads");
    await page.goto(`${orgPath}/settings/api-keys`);
    await page.getByLabel("Key name").fill("Website form");
    await page.getByRole("checkbox", { name: /^read/ }).uncheck();
    await page.getByRole("checkbox", { name: /^leads/ }).check();
    await page.getByRole("button", { name: "Generate key" }).click();
    const key = (await page.getByTestId("new-api-key").textContent()).trim();

    // The customer's own website: a form with no JavaScript, posting straight to Smarfle.
    const leadName = uniq("Form Lead");
    const site = await context.newPage();
    await site.setContent(`<!doctype html><html><body>
      <form action="${baseUrl}/api/webhook/leads?key=${key}" method="post">
        <label>Name <input name="name"></label>
        <label>Email <input name="email" type="email"></label>
        <label>Message <textarea name="message"></textarea></label>
        <input name="_gotcha" style="display:none" tabindex="-1">
        <input type="hidden" name="utm_source" value="newsletter">
        <button>Send</button>
      </form></body></html>`);
    await site.getByLabel("Name").fill(leadName);
    await site.getByLabel("Email").fill("form.lead@example.test");
    await site.getByLabel("Message").fill("Please quote for a weekly clean.");
    await site.getByRole("button", { name: "Send" }).click();
    await site.getByRole("heading", { name: "Thank you!" }).waitFor();
    assert.match(site.url(), /\/api\/webhook\/leads/);

    // The lead is in the CRM, with status lead, and the team was notified.
    await page.goto(`${orgPath}/records/clients?status=lead`);
    await page.getByRole("link", { name: leadName }).click();
    await page.getByTestId("lead-message").getByText("Please quote for a weekly clean.").waitFor();
    await page.getByText("newsletter").first().waitFor();
    assert.match((await page.getByTestId("notification-count").textContent()) ?? "", /1/);
  } catch (err) {
    await snapshot(page, "lead-form-failure");
    throw err;
  } finally {
    await context.close();
  }
});
