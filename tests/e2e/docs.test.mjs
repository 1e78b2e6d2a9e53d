import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { baseUrl, launch, snapshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the API reference renders the OpenAPI document with curl examples", async () => {
  const page = await browser.newPage({ baseURL: baseUrl });
  try {
    await page.goto("/docs/api");
    await page.getByRole("heading", { name: "API reference" }).waitFor();
    await page.locator("#create_client h3").getByText("/api/v1/records/client").waitFor();
    assert.match(await page.locator("#create_client pre").textContent(), /curl -X POST ".*\/api\/v1\/records\/client"/);
    await page.locator("#create_webhook").waitFor();
    const doc = await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json();
    assert.equal(doc.openapi, "3.1.0");
  } catch (err) {
    await snapshot(page, "docs-failure");
    throw err;
  } finally {
    await page.close();
  }
});
