import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { baseUrl, launch, signUpNewOwner, snapshot } from "./browser.mjs";

let browser;
let dir;
before(async () => {
  browser = await launch();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-e2e-import-"));
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("upload → map → preview → import → download the failed rows", async () => {
  // 120 customers exported from another tool; rows 50 and 100 have a broken email.
  const lines = ["Customer,E-mail address,Telephone,Ref"];
  for (let i = 1; i <= 120; i++)
    lines.push(`Customer ${i},${i % 50 === 0 ? `broken-${i}` : `customer${i}@import.test`},555-${String(i).padStart(4, "0")},ref-${i}`);
  const file = path.join(dir, "customers.csv");
  fs.writeFileSync(file, lines.join("\n"));

  const context = await browser.newContext({ baseURL: baseUrl, acceptDownloads: true });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Import");
    await page.goto(`${orgPath}/settings/import`);
    await page.getByLabel("File").setInputFiles(file);
    await page.getByLabel("Record type").selectOption("client");
    await page.getByRole("button", { name: "Upload" }).click();

    // The columns have other names than the fields: map them by hand.
    await page.getByLabel("Column for Name (required)").selectOption("(not imported)");
    // Start waits for the required Name, and says so.
    assert.equal(await page.getByRole("button", { name: "Start import" }).isDisabled(), true);
    await page.getByText("Choose a column for Name (required) to start.").waitFor();
    await page.getByLabel("Column for Name (required)").selectOption("Customer");
    await page.getByLabel("Column for Email").selectOption("E-mail address");
    await page.getByLabel("Column for Phone").selectOption("Telephone");
    await page.getByLabel("Column for External ID (updates instead of duplicates)").selectOption("Ref");
    await page.getByRole("button", { name: "Update preview" }).click();
    const preview = page.getByTestId("preview-table");
    await preview.getByText("customer1@import.test").waitFor();
    assert.equal(await preview.locator("tbody tr").count(), 20);

    await page.getByRole("button", { name: "Start import" }).click();
    const result = page.getByTestId("import-result");
    await result.waitFor({ timeout: 30_000 });
    assert.match(await result.textContent(), /118 created, 0 updated, 2 failed/);
    assert.equal(await result.getAttribute("data-level"), "warning", "a partial import is a warning, never green");
    assert.match(await result.textContent(), /2 of 120 rows were not imported/);
    // The history below refreshes on its own.
    await page.getByRole("cell", { name: /customers\.csv/ }).waitFor();
    assert.equal(await page.getByRole("progressbar", { name: "Import progress" }).getAttribute("aria-valuenow"), "100");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the failed rows (CSV)" }).click()]);
    const csv = fs
      .readFileSync(await download.path(), "utf8")
      .trim()
      .split("\n");
    assert.equal(csv.length, 3);
    assert.match(csv[0], /^line,reason,Customer,E-mail address,Telephone,Ref$/);
    assert.match(csv[1], /^51,Row 51: the email address 'broken-50' is not valid,Customer 50,broken-50,/);
    assert.match(csv[2], /^101,/);

    // The app's file routes answer errors as JSON, in the API's envelope with its request id.
    const envelope = async (res, status, code) => {
      assert.equal(res.status(), status);
      const body = await res.json();
      assert.equal(body.error.code, code);
      assert.match(body.error.request_id, /^req_/);
      assert.equal(res.headers()["x-request-id"], body.error.request_id);
    };
    await envelope(await context.request.get(`${orgPath}/settings/import/imp_00VblOwM200XQjR1cC9gEmj/errors.csv`), 404, "not_found");
    await envelope(await context.request.post(`${orgPath}/settings/import/upload`, { multipart: { type: "client" } }), 400, "validation_failed");
    const signedOut = await browser.newContext({ baseURL: baseUrl });
    try {
      await envelope(await signedOut.request.get(`${orgPath}/settings/audit/export.csv`), 401, "unauthorized");
    } finally {
      await signedOut.close();
    }

    // The imported clients are ordinary records.
    await page.goto(`${orgPath}/records/clients?q=Customer+120`);
    await page.getByRole("link", { name: "Customer 120" }).waitFor();
  } catch (err) {
    await snapshot(page, "import-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("common headers map themselves; an import where every row fails is not shown as a success", async () => {
  const file = path.join(dir, "contacts.csv");
  fs.writeFileSync(file, ["Full Name,E-mail,Phone number", "Ada Lovelace,ada@example.com,555-0101", "Grace Hopper,grace@example.com,555-0102"].join("\n"));
  const bad = path.join(dir, "broken.csv");
  fs.writeFileSync(bad, ["Full Name,E-mail", ...Array.from({ length: 5 }, (_, i) => `,nobody${i}@`)].join("\n"));
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  try {
    const { orgPath } = await signUpNewOwner(page, "Automap");
    await page.goto(`${orgPath}/settings/import`);
    await page.getByLabel("File").setInputFiles(file);
    await page.getByRole("button", { name: "Upload" }).click();
    const name = page.getByLabel("Column for Name (required)");
    await name.waitFor();
    assert.equal(await name.inputValue(), "Full Name");
    assert.equal(await page.getByLabel("Column for Email").inputValue(), "E-mail");
    assert.equal(await page.getByLabel("Column for Phone").inputValue(), "Phone number");
    await page.getByRole("button", { name: "Start import" }).click();
    const result = page.getByTestId("import-result");
    await result.waitFor({ timeout: 30_000 });
    assert.equal(await result.getAttribute("data-level"), "ok");
    assert.match(await result.textContent(), /2 created, 0 updated, 0 failed/);

    await page.goto(`${orgPath}/settings/import`);
    await page.getByLabel("File").setInputFiles(bad);
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByTestId("preview-table").getByText("Name is required, and this row has none").first().waitFor();
    await page.getByRole("button", { name: "Start import" }).click();
    await result.waitFor({ timeout: 30_000 });
    assert.equal(await result.getAttribute("data-level"), "bad");
    assert.match(await result.textContent(), /Nothing was imported: all 5 rows failed/);
    await page.getByRole("link", { name: "Download the failed rows (CSV)" }).waitFor();
    await page.getByText("completed with failures").first().waitFor();
  } catch (err) {
    await snapshot(page, "import-automap-failure");
    throw err;
  } finally {
    await context.close();
  }
});
