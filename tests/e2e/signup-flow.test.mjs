import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { baseUrl, expectConsoleError, launch, signUpAndSignIn, snapshot, uniq, waitForMail } from "./browser.mjs";

let browser;
let firstOrgPath;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("sign up → create a client → see it in the list → sign out and back in", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  const email = `${uniq("owner")}@example.test`;
  const password = "a long test password";
  const orgName = uniq("Bright Plumbing");
  const clientName = uniq("Ada Client");
  try {
    const orgPath = await signUpAndSignIn(page, { name: "Owen Owner", email, password, orgName });
    assert.match(orgPath, /^\/bright-plumbing[^/]*$/);
    firstOrgPath = orgPath;

    // The address is unconfirmed until the emailed link is opened; then the banner goes.
    await page.getByText("Confirm your email address").waitFor();
    const mail = await waitForMail(email, /Confirm/);
    await page.goto(mail.link);
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await page.getByText(`${email} is confirmed.`).waitFor();
    await page.goto(orgPath);
    assert.equal(await page.getByText("Confirm your email address").count(), 0);

    await page.getByRole("link", { name: "Clients", exact: true }).click();
    await page.waitForURL(`**${orgPath}/records/clients`);
    await page.getByRole("link", { name: "New client" }).click();
    await page.getByLabel("Name", { exact: true }).fill(clientName);
    await page.getByLabel("Email").fill("ada@example.test");
    await page.getByLabel("Status").selectOption("lead");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(new RegExp(`${orgPath}/records/clients/cli_`));
    await page.getByRole("heading", { name: clientName }).waitFor();

    // The list shows it, and the search finds it.
    await page.goto(`${orgPath}/records/clients`);
    await page.getByRole("link", { name: clientName }).waitFor();
    await page.getByLabel("Search").fill("no-such-client-xyz");
    await page.getByLabel("Search").press("Enter");
    await page.waitForURL(/q=no-such-client-xyz/);
    assert.equal(await page.getByRole("link", { name: clientName }).count(), 0);

    // A new lead notifies the org's members: the bell counts it.
    const bell = page.getByTestId("notification-count");
    assert.match((await bell.textContent()) ?? "", /1/);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.goto(`${orgPath}/records/clients`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("the wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong email or password.").waitFor();
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(new RegExp(`${orgPath}`));
    await page.goto(`${orgPath}/records/clients`);
    await page.getByRole("link", { name: clientName }).waitFor();
  } catch (err) {
    await snapshot(page, "signup-flow-failure");
    throw err;
  } finally {
    await context.close();
  }
});

test("a signed-in user cannot open another organization's pages", async () => {
  const context = await browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  try {
    const path = await signUpAndSignIn(page, {
      name: "Mallory",
      email: `${uniq("mallory")}@example.test`,
      password: "another long password",
      orgName: uniq("Mallory Co"),
    });
    assert.match(path, /\/mallory-co/);
    // The organization made by the first test exists; this user is simply not in it.
    assert.ok(firstOrgPath, "the sign-up test must run first");
    expectConsoleError(new RegExp(`${firstOrgPath}/records/clients: Failed to load resource: the server responded with a status of 404`));
    const res = await page.goto(`${firstOrgPath}/records/clients`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.getByText("Ada Client").count(), 0);
  } catch (err) {
    await snapshot(page, "tenancy-failure");
    throw err;
  } finally {
    await context.close();
  }
});
