import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { inArray } from "drizzle-orm";
import { users } from "@/db/schema";
import { registerAccount } from "@/lib/auth/account";
import { developmentMailbox, emailUnavailableReason, sendEmail } from "@/lib/email/send";
import { resetEnvCache } from "@/lib/env";
import { inviteMember } from "@/lib/orgs/invitations";
import { findUserByEmail } from "@/lib/orgs/service";
import { uniq } from "../helpers/db";
import { withTestOrg } from "../helpers/fixture";

const t = withTestOrg();

const ORIGINAL_NODE_ENV = process.env.NODE_ENV;
// NODE_ENV is typed read-only; the environment is what lib/env.ts reads.
const setNodeEnv = (v: string | undefined) => Object.assign(process.env, { NODE_ENV: v });

beforeAll(async () => {
  delete process.env.SMTP_URL;
  resetEnvCache();
});

afterEach(() => {
  setNodeEnv(ORIGINAL_NODE_ENV);
  resetEnvCache();
  vi.restoreAllMocks();
});

describe("mail without SMTP_URL", () => {
  it("in development, is printed to the log with its text and kept for the mailbox page", async () => {
    const printed: string[] = [];
    vi.spyOn(console, "info").mockImplementation((line: string) => void printed.push(line));
    const to = `${uniq("dev")}@example.test`;
    await sendEmail({ to, subject: "Hello", text: "Open http://localhost:3000/x" });
    expect(developmentMailbox()[0]).toMatchObject({ to, subject: "Hello", text: "Open http://localhost:3000/x" });
    expect(printed.join("\n")).toContain("http://localhost:3000/x");
  });

  it("in production, the features that need it say so plainly and write nothing", async () => {
    setNodeEnv("production");
    resetEnvCache();
    expect(emailUnavailableReason()).toMatch(/SMTP_URL/);
    const email = `${uniq("prod")}@example.test`;
    await expect(registerAccount(t.db, { email, password: "a long enough password", orgName: "Nope" })).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("SMTP_URL"),
    });
    expect(await findUserByEmail(t.db, email)).toBeUndefined();
    await expect(
      inviteMember(t.db, { ...t.org.ctx, inviterRole: "owner", inviterEmail: t.org.users.owner.email }, { email, role: "member" }),
    ).rejects.toMatchObject({ code: "unavailable" });
    await expect(sendEmail({ to: email, subject: "x", text: "y" })).rejects.toThrow(/SMTP_URL/);
    // Nothing was left behind for the address.
    expect(
      await t.db
        .select()
        .from(users)
        .where(inArray(users.email, [email])),
    ).toEqual([]);
  });
});
