import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { baseUrl, launch, signUpNewOwner, snapshot } from "./browser.mjs";

// The plan page states every quota, including inbound sources, connectors and workflow rules, and
// a Starter organization's fourth inbound source is refused in the app with plan_limit_reached.

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the plan page shows the quotas on sources, connectors and rules, and the app enforces them", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Quota");
    await page.goto(`${orgPath}/settings/plan`);
    await page.getByRole("heading", { name: "Plan", exact: true }).waitFor();
    assert.match(await page.getByTestId("limit-inbound-sources").innerText(), /0 of 3/);
    assert.match(await page.getByTestId("limit-connectors").innerText(), /0 of 3/);
    assert.match(await page.getByTestId("limit-workflow-rules").innerText(), /0 of 10/);
    const business = await page.getByRole("row", { name: /^Business/ }).innerText();
    assert.match(business, /1,000\s+1,000\s+1,000/);
    await snapshot(page, "plan-quotas");

    // Three sources fit a Starter plan; the fourth is refused in the app, naming the limit.
    for (let i = 1; i <= 4; i++) {
      await page.goto(`${orgPath}/settings/inbound`);
      await page.getByLabel("Name", { exact: true }).fill(`Shop ${i}`);
      await page.getByRole("button", { name: "Create source" }).click();
      if (i < 4) await page.waitForURL(/\/settings\/inbound\/src_/);
    }
    await page.getByText("Your Starter plan allows 3 inbound sources").waitFor();
    await page.goto(`${orgPath}/settings/plan`);
    assert.match(await page.getByTestId("limit-inbound-sources").innerText(), /3 of 3\s+limit reached/);
  } catch (err) {
    await snapshot(page, "plan-quotas-failure");
    throw err;
  } finally {
    await context.close();
  }
});
