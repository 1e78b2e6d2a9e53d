import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { acceptDialogs, baseUrl, launch, signUpNewOwner, snapshot, startReceiver, uniq } from "./browser.mjs";

// The integrations dashboard, the audit log's filters and export, and a workflow rule built,
// tried and fired — as an admin clicks through them.

let browser;
let receiver;
before(async () => {
  browser = await launch();
  receiver = await startReceiver();
});
after(async () => {
  await browser?.close();
  receiver.close();
});

async function newKey(page, orgPath, name) {
  await page.goto(`${orgPath}/settings/api-keys`);
  await page.getByLabel("Key name").fill(name);
  await page.getByRole("checkbox", { name: /^write/ }).check();
  await page.getByRole("button", { name: "Generate key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent()).trim();
  return { key, prefix: key.slice(0, 12) };
}

const api = (key, path, init = {}) =>
  fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers } });

test("the dashboard shows the last 30 days and links each integration to its log; the audit log filters and exports", async () => {
  const context = await browser.newContext({ baseURL: baseUrl, acceptDownloads: true });
  const page = await context.newPage();
  acceptDialogs(page);
  try {
    const { orgPath } = await signUpNewOwner(page, "Oversight");
    const { key, prefix } = await newKey(page, orgPath, "Website form");

    await page.goto(`${orgPath}/settings/webhooks`);
    await page.getByLabel("Endpoint URL").fill(receiver.url());
    await page.getByLabel("Description").fill("Billing system");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.waitForURL(/\/settings\/webhooks\/we_/);

    // A lead from the website, a client typed in by hand, a few API calls.
    const leadName = uniq("Wendy Website");
    const lead = await fetch(`${baseUrl}/api/webhook/leads`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ name: leadName, email: "wendy@example.test", source: "website" }),
    });
    assert.equal(lead.status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await api(key, "/api/v1/me")).status, 200);
    const typedName = uniq("Tom Typed");
    await page.goto(`${orgPath}/records/clients/new`);
    await page.getByLabel("Name", { exact: true }).fill(typedName);
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(new RegExp(`${orgPath}/records/clients/cli_`));

    // The dashboard: totals, charts, and the integrations, each a link.
    const deadline = Date.now() + 20_000;
    for (;;) {
      await page.goto(orgPath);
      const delivered = Number(await page.getByTestId("total-webhooks-delivered").textContent());
      // One delivery per change: client_created for the lead and for the typed-in client
      if (delivered >= 2 || Date.now() > deadline) break;
      await page.waitForTimeout(500);
    }
    assert.equal(await page.getByTestId("total-leads-captured").textContent(), "1");
    assert.ok(Number(await page.getByTestId("total-api-calls").textContent()) >= 4);
    assert.equal(await page.getByTestId("total-webhooks-delivered").textContent(), "2");
    await page.getByRole("figure", { name: "Leads captured per day" }).waitFor();
    await page.getByRole("figure", { name: "Webhook deliveries per day" }).waitFor();
    const integrations = page.getByTestId("integrations");
    await integrations.getByText("Webhook Billing system").waitFor();
    await integrations.getByText(/2 deliveries, 0 failures/).waitFor();
    await integrations.getByRole("link", { name: "website → lead" }).click();

    // …which opens the audit log, filtered to those leads.
    await page.waitForURL(/\/settings\/audit\?/);
    const rows = page.getByTestId("audit-entries").locator("tr");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    await rows.getByText(leadName).first().waitFor();
    await rows.getByText("lead_capture").waitFor();

    // Filter by hand: record changes made in the UI show the typed client and not the lead.
    await page.goto(`${orgPath}/settings/audit`);
    await page.getByLabel("Kind").selectOption("changes");
    await page.getByLabel("Source").selectOption("ui");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/kind=changes/);
    await rows.getByText(typedName).first().waitFor();
    assert.equal(await rows.getByText(leadName).count(), 0);

    // By actor: the API key's requests, then free text.
    await page.getByLabel("Kind").selectOption("requests");
    await page.getByLabel("Source").selectOption("");
    await page.getByLabel("Actor").selectOption({ label: `Website form (${prefix}…)` });
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/kind=requests/);
    await rows.first().waitFor();
    assert.ok((await rows.count()) >= 4);
    assert.equal(await rows.filter({ hasText: "/api/v1/me" }).count(), 3);
    await rows.filter({ hasText: "/api/webhook/leads" }).first().waitFor();

    await page.getByLabel("Kind").selectOption("");
    await page.getByLabel("Actor").selectOption("");
    await page.getByLabel("Search").fill(typedName);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/q=/);
    await rows.first().waitFor();
    assert.ok((await rows.filter({ hasText: typedName }).count()) >= 1);
    assert.equal(await rows.filter({ hasText: leadName }).count(), 0);

    // The export holds exactly the filtered view.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    const csv = fs.readFileSync(await download.path(), "utf8");
    const lines = csv.trim().split("\n");
    assert.equal(lines[0], "time,kind,actor_type,actor_id,actor,source,action,target_type,target_id,summary,before,after");
    assert.ok(lines.length >= 2);
    assert.ok(csv.includes(typedName));
    assert.ok(!csv.includes(leadName));
  } catch (err) {
    await snapshot(page, "oversight-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("build a workflow rule, try it on a record, and see it fire from an API change", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  acceptDialogs(page);
  try {
    const { orgPath } = await signUpNewOwner(page, "Flows");
    const { key } = await newKey(page, orgPath, "Sales sync");
    const client = await (await api(key, "/api/v1/records/client", { method: "POST", body: JSON.stringify({ name: "Casey Client", status: "lead" }) })).json();
    const opp = await (
      await api(key, "/api/v1/records/opportunity", {
        method: "POST",
        body: JSON.stringify({ title: "Office contract", client_id: client.id, stage: "closed_won", value: 900 }),
      })
    ).json();

    // The editor opens on the classic rule: stage changes to closed_won → client active.
    await page.goto(`${orgPath}/settings/workflows/new`);
    await page.getByLabel("Name", { exact: true }).fill("Won deal activates client");
    await page.getByRole("checkbox", { name: /Enabled/ }).check();
    await page.getByRole("button", { name: "+ Add action" }).click();
    await page.getByLabel("Action 2", { exact: true }).selectOption("notify");
    await page.getByLabel("Action 2 title").fill("Won: {{title}}");

    // Tried on the existing opportunity first: nothing is written.
    await page.getByLabel("Record id").fill(opp.id);
    await page.getByRole("button", { name: "Try it" }).click();
    const result = page.getByTestId("rule-test-result");
    await result.getByText("Would fire").waitFor();
    await result.getByText(/set its client's status to "active"/).waitFor();
    assert.equal((await (await api(key, `/api/v1/records/client/${client.id}`)).json()).status, "lead");

    await page.getByRole("button", { name: "Create rule" }).click();
    await page.waitForURL(/\/settings\/workflows\/wfr_/);
    await page.getByRole("heading", { name: "Won deal activates client" }).waitFor();

    // A change through the API fires it.
    await api(key, `/api/v1/records/opportunity/${opp.id}`, { method: "PATCH", body: JSON.stringify({ stage: "negotiation" }) });
    const patched = await api(key, `/api/v1/records/opportunity/${opp.id}`, { method: "PATCH", body: JSON.stringify({ stage: "closed_won" }) });
    assert.equal(patched.status, 200);
    assert.equal((await (await api(key, `/api/v1/records/client/${client.id}`)).json()).status, "active");
    await page.reload();
    await page.getByText(/via api: rule "Won deal activates client"/).waitFor();

    // The list shows it; disabling it from there is one click.
    await page.goto(`${orgPath}/settings/workflows`);
    const rule = page.getByTestId("rules").locator("li").first();
    await rule.getByText("enabled", { exact: true }).waitFor();
    await rule.getByRole("button", { name: "Disable" }).click();
    await rule.getByText("disabled", { exact: true }).waitFor();

    // A rule that cannot work is refused with the field named.
    await page.goto(`${orgPath}/settings/workflows/new`);
    await page.getByLabel("Name", { exact: true }).fill("Broken");
    await page.getByLabel("Action 1 value").selectOption("");
    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByText("The workflow rule is invalid.").waitFor();
    await page.getByText("pick a status: it cannot be emptied").waitFor();
    assert.ok(page.url().endsWith("/settings/workflows/new"));
  } catch (err) {
    await snapshot(page, "workflows-failure");
    throw err;
  } finally {
    await context.close();
  }
});
