import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { baseUrl, launch, signUpNewOwner, snapshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("create an inbound source, post a signed order to it, see the request and the record", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Inbound");
    await page.goto(`${orgPath}/settings/inbound`);
    await page.getByLabel("Name", { exact: true }).fill("Shop orders");
    await page.getByRole("button", { name: "Preview" }).click();
    await page.locator("pre").getByText('"email": "ada@example.com"').waitFor(); // the preview, lower-cased by the mapping
    await page.getByRole("button", { name: "Create source" }).click();
    await page.waitForURL(/\/settings\/inbound\/src_/);
    const url = (await page.locator("code").first().textContent()).trim();
    await page.getByRole("button", { name: "Reveal secret" }).click();
    const secret = (await page.locator("code").nth(1).textContent()).trim();

    const body = JSON.stringify({ customer: { id: 7001, first_name: "Grace", email: "GRACE@example.com", phone: "555-7001" } });
    const res = await fetch(url.replace(/^https?:\/\/[^/]+/, baseUrl), {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64") },
    });
    assert.equal(res.status, 200);
    const bad = await fetch(url.replace(/^https?:\/\/[^/]+/, baseUrl), {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-shopify-hmac-sha256": "AAAA" },
    });
    assert.equal(bad.status, 401);

    await page.reload();
    await page.getByText("processed").first().waitFor();
    await page.getByText("signature refused").waitFor();
    await page.goto(`${orgPath}/records/clients?q=grace`);
    await page.getByRole("link", { name: "Grace" }).waitFor();
    await page.goto(`${orgPath}/settings/connectors`);
    await page.getByRole("heading", { name: "Connectors" }).waitFor();
  } catch (err) {
    await snapshot(page, "data-in-failure");
    throw err;
  } finally {
    await context.close();
  }
});
