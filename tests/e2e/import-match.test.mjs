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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smarfle-e2e-match-"));
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function upload(page, orgPath, file) {
  await page.goto(`${orgPath}/settings/import`);
  await page.getByLabel("File").setInputFiles(file);
  await page.getByLabel("Record type").selectOption("client");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByLabel("Find existing records by").selectOption("email");
}

test("a second import matched on email: the dry run's counts, the import, and its undo", async () => {
  const rows = (changed) =>
    ["name,email,company", ...Array.from({ length: 30 }, (_, i) => `Person ${i},person${i}@match.test,${changed && i < 4 ? "New Co" : "Old Co"}`)].join("\n");
  const first = path.join(dir, "first.csv");
  const second = path.join(dir, "second.csv");
  fs.writeFileSync(first, rows(false));
  fs.writeFileSync(second, rows(true).replace("person0@match.test", "PERSON0@Match.test"));

  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  try {
    const { orgPath } = await signUpNewOwner(page, "Match");
    await upload(page, orgPath, first);
    await page.getByRole("button", { name: "Start import" }).click();
    await page.getByTestId("import-result").waitFor({ timeout: 30_000 });

    await upload(page, orgPath, second);
    await page.getByRole("button", { name: "Dry run (writes nothing)" }).click();
    const dry = page.getByTestId("dry-run");
    await dry.waitFor();
    assert.match(await dry.textContent(), /0 new, 4 updates, 26 unchanged, 0 skipped, 0 errors/);
    await snapshot(page, "import-match-dry-run");
    await page.getByRole("button", { name: "Start import" }).click();
    const result = page.getByTestId("import-result");
    await result.waitFor({ timeout: 30_000 });
    assert.match(await result.textContent(), /0 created, 4 updated, 0 failed/);

    await page.getByRole("button", { name: "Undo this import" }).click();
    const undone = page.getByTestId("undo-result");
    await undone.waitFor({ timeout: 30_000 });
    assert.match(await undone.textContent(), /0 created records deleted, 4 updated records restored/);
    await page.goto(`${orgPath}/records/clients?q=Person+1`);
    await page.getByRole("link", { name: "Person 1", exact: true }).click();
    await page.getByText("Old Co", { exact: true }).waitFor();
  } catch (err) {
    await snapshot(page, "import-match-failure");
    throw err;
  } finally {
    await context.close();
  }
});
