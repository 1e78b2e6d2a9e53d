import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { acceptDialogs, baseUrl, launch, signUpNewOwner, snapshot, uniq, waitForMail } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function signIn(page, email, password) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/sign-in", { timeout: 20_000 });
}

test("an owner invites an address; the invitee opens the emailed link in another browser, signs up, and is in with the invited role; removing them ends their session", async () => {
  const ownerContext = await browser.newContext({ baseURL: baseUrl });
  const inviteeContext = await browser.newContext({ baseURL: baseUrl });
  const owner = await ownerContext.newPage();
  const invitee = await inviteeContext.newPage();
  acceptDialogs(owner);
  const email = `${uniq("invitee")}@example.test`;
  try {
    const { orgPath } = await signUpNewOwner(owner, "Inviter");
    await owner.goto(`${orgPath}/settings/members`);
    await owner.getByLabel("Email").fill(email);
    await owner.getByLabel("Role").selectOption("admin");
    await owner.getByRole("button", { name: "Send invitation" }).click();
    await owner.getByText("Invitation sent.").waitFor();
    await owner.reload();
    await owner.getByRole("cell", { name: email }).waitFor();

    const mail = await waitForMail(email, /invited/);
    assert.match(mail.text, /as an admin/);
    await invitee.goto(mail.link);
    await invitee.getByRole("heading", { name: /^Join / }).waitFor();
    await invitee.getByLabel("Your name").fill("Ivy Invitee");
    await invitee.getByLabel("Password").fill("the invitee's password");
    await invitee.getByRole("button", { name: "Create account and join" }).click();
    await invitee.waitForURL(new RegExp(`${orgPath}$`), { timeout: 20_000 });
    // Admins see the settings; the invitation proved the address, so there is no banner.
    await invitee.getByRole("link", { name: "Settings" }).waitFor();
    assert.equal(await invitee.getByText("Confirm your email address").count(), 0);
    await invitee.screenshot({ path: "test-results/invitation-joined.png", fullPage: true }).catch(() => {});

    // The link worked once.
    await invitee.goto(mail.link);
    await invitee.getByText("This invitation cannot be used").waitFor();

    // The owner sees the admin as a member, and removes them: their next request finds no session.
    await owner.goto(`${orgPath}/settings/members`);
    const row = owner.getByRole("row", { name: new RegExp(email) });
    await row.getByRole("cell", { name: "admin", exact: true }).waitFor();
    await row.getByRole("button", { name: "Remove" }).click();
    await owner.getByRole("row", { name: new RegExp(email) }).waitFor({ state: "detached" });
    await invitee.goto("/orgs");
    await invitee.waitForURL(/\/sign-in/);
  } catch (err) {
    await snapshot(owner, "invitation-owner-failure");
    await snapshot(invitee, "invitation-invitee-failure");
    throw err;
  } finally {
    await ownerContext.close();
    await inviteeContext.close();
  }
});

test("sign out everywhere ends another browser's session", async () => {
  const first = await browser.newContext({ baseURL: baseUrl });
  const second = await browser.newContext({ baseURL: baseUrl });
  const a = await first.newPage();
  const b = await second.newPage();
  try {
    const { orgPath, email } = await signUpNewOwner(a, "Roamer");
    await signIn(b, email, "a long test password");
    await b.goto(orgPath);
    await b.getByRole("link", { name: "Settings" }).waitFor();

    await a.goto("/account");
    await a.getByRole("button", { name: "Sign out everywhere" }).click();
    await a.waitForURL(/\/sign-in/);
    await b.goto(orgPath);
    await b.waitForURL(/\/sign-in/);
  } catch (err) {
    await snapshot(a, "sign-out-everywhere-a-failure");
    await snapshot(b, "sign-out-everywhere-b-failure");
    throw err;
  } finally {
    await first.close();
    await second.close();
  }
});
