import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { authTokens, invitations, memberships, organizations, users } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { changePassword, registerAccount, requestPasswordReset, resetPassword, signOutEverywhere, verifyEmail } from "@/lib/auth/account";
import { checkCredentials } from "@/lib/auth/sign-in";
import { currentSessionVersion } from "@/lib/auth/session-version";
import { hashToken } from "@/lib/auth/tokens";
import { OUTBOUND_LIMITS } from "@/lib/rate-limit/outbound";
import {
  acceptInvitation,
  inviteMember,
  listOpenInvitations,
  lookupInvitation,
  resendInvitation,
  revokeInvitation,
  signUpFromInvitation,
} from "@/lib/orgs/invitations";
import { findUserByEmail, getMembership } from "@/lib/orgs/service";
import { randomIp } from "../helpers/api";
import { uniq, useTestDb } from "../helpers/db";
import { startSmtp } from "../helpers/smtp";
import { insideOneWindow } from "../helpers/window";

let handle: DbHandle;
let db: Db;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const password = "a long enough password";
const emails: string[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
  smtp = await startSmtp();
});

afterAll(async () => {
  if (emails.length) {
    const rows = await db.select({ id: users.id }).from(users).where(inArray(users.email, emails));
    const ids = rows.map((r) => r.id);
    if (ids.length) {
      const orgIds = (await db.select({ id: memberships.orgId }).from(memberships).where(inArray(memberships.userId, ids))).map((m) => m.id);
      if (orgIds.length) await db.delete(organizations).where(inArray(organizations.id, orgIds));
      await db.delete(users).where(inArray(users.id, ids));
    }
  }
  await smtp.close();
  await handle.close();
});

const address = (label: string) => {
  const e = `${uniq(label)}@example.test`;
  emails.push(e);
  return e;
};
const tokenOf = (link: string | null) => link!.split("/").pop()!;

async function verifiedOwner() {
  const email = address("owner");
  await registerAccount(db, { email, password, orgName: uniq("Org") });
  const mail = await smtp.waitFor(email, /Confirm/);
  await verifyEmail(db, tokenOf(mail.link));
  const user = (await findUserByEmail(db, email))!;
  const [m] = await db.select().from(memberships).where(eq(memberships.userId, user.id));
  return {
    user,
    orgId: m!.orgId,
    ctx: {
      orgId: m!.orgId,
      actor: { type: "user" as const, id: user.id, label: email },
      source: "ui" as const,
      inviterRole: "owner" as const,
      inviterEmail: email,
    },
  };
}

describe("sign-up and verification", () => {
  it("sends a verification link that works once", async () => {
    const email = address("new");
    expect(await registerAccount(db, { email, password, orgName: uniq("Org") })).toEqual({ sentTo: email });
    const user = (await findUserByEmail(db, email))!;
    expect(user.emailVerifiedAt).toBeNull();
    const mail = await smtp.waitFor(email, /Confirm/);
    expect(mail.link).toMatch(/\/verify-email\/[0-9A-Za-z]{43}$/);
    expect(await verifyEmail(db, tokenOf(mail.link))).toEqual({ email });
    expect((await findUserByEmail(db, email))!.emailVerifiedAt).toBeInstanceOf(Date);
    expect(await verifyEmail(db, tokenOf(mail.link))).toBeNull();
  });

  it("refuses an expired verification link", async () => {
    const email = address("late");
    await registerAccount(db, { email, password, orgName: uniq("Org") });
    const mail = await smtp.waitFor(email, /Confirm/);
    await db
      .update(authTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authTokens.tokenHash, hashToken(tokenOf(mail.link))));
    expect(await verifyEmail(db, tokenOf(mail.link))).toBeNull();
    expect((await findUserByEmail(db, email))!.emailVerifiedAt).toBeNull();
  });

  it("answers a sign-up for a registered address exactly like a new one, creates nothing, and tells the address's owner", async () => {
    const email = address("taken");
    await registerAccount(db, { email, password, orgName: uniq("Org") });
    const first = (await findUserByEmail(db, email))!;
    const orgsBefore = await db.select().from(memberships).where(eq(memberships.userId, first.id));
    expect(await registerAccount(db, { email: email.toUpperCase(), password: "another long password", orgName: uniq("Org") })).toEqual({ sentTo: email });
    expect(await db.select().from(memberships).where(eq(memberships.userId, first.id))).toEqual(orgsBefore);
    const mail = await smtp.waitFor(email, /tried to sign up/);
    expect(mail.text).toMatch(/forgot-password/);
    // The original password still works; the second one does not.
    expect((await checkCredentials(db, { email, password }, randomIp())).ok).toBe(true);
    expect((await checkCredentials(db, { email, password: "another long password" }, randomIp())).ok).toBe(false);
  });
});

describe("invitations", () => {
  it("sends at most OUTBOUND_LIMITS.invitation invitation emails a minute per organization, resends included", { timeout: 60_000 }, async () => {
    const owner = await verifiedOwner();
    await insideOneWindow(20);
    const limit = OUTBOUND_LIMITS.invitation.perMinute;
    const first = await inviteMember(db, owner.ctx, { email: address("many"), role: "member" });
    for (let i = 1; i < limit - 1; i++) await inviteMember(db, owner.ctx, { email: address("many"), role: "member" });
    await resendInvitation(db, owner.ctx, first.id);
    await expect(inviteMember(db, owner.ctx, { email: address("many"), role: "member" })).rejects.toMatchObject({
      code: "rate_limited",
      retryAfterSeconds: expect.any(Number),
    });
    await expect(resendInvitation(db, owner.ctx, first.id)).rejects.toMatchObject({ code: "rate_limited" });
    expect(await listOpenInvitations(db, owner.orgId)).toHaveLength(limit - 1);
  });

  it("invites an address: the link works once, for a new account, which joins with the invited role, verified", async () => {
    const owner = await verifiedOwner();
    const email = address("invitee");
    await inviteMember(db, owner.ctx, { email, role: "admin" });
    expect((await listOpenInvitations(db, owner.orgId)).map((i) => i.email)).toEqual([email]);
    const mail = await smtp.waitFor(email, /invited/);
    expect(mail.text).toContain("as an admin");
    const token = tokenOf(mail.link);
    expect(await lookupInvitation(db, token)).toMatchObject({ status: "open", accountExists: false });

    const joined = await signUpFromInvitation(db, token, { name: "Ivy", password });
    expect(joined.role).toBe("admin");
    const user = (await findUserByEmail(db, email))!;
    expect(user.emailVerifiedAt).toBeInstanceOf(Date);
    expect(await getMembership(db, user.id, owner.orgId)).toMatchObject({ role: "admin" });
    expect(await listOpenInvitations(db, owner.orgId)).toEqual([]);

    expect(await lookupInvitation(db, token)).toEqual({ status: "invalid" });
    await expect(signUpFromInvitation(db, token, { password })).rejects.toMatchObject({ code: "not_found" });
  });

  it("lets an existing account accept only with the invited address, once; refuses expired, resent and revoked links", async () => {
    const owner = await verifiedOwner();
    const other = await verifiedOwner();
    // Someone else tries the link first: refused, and nothing is used up.
    await inviteMember(db, owner.ctx, { email: other.user.email, role: "member" });
    const first = tokenOf((await smtp.waitFor(other.user.email, /invited/)).link);
    expect(await lookupInvitation(db, first)).toMatchObject({ status: "open", accountExists: true });
    const stranger = await verifiedOwner();
    await expect(acceptInvitation(db, first, stranger.user.id)).rejects.toMatchObject({ code: "forbidden" });

    // Resending replaces the link: the first one no longer works.
    const [inv] = await db.select().from(invitations).where(eq(invitations.orgId, owner.orgId));
    smtp.received.length = 0;
    await resendInvitation(db, owner.ctx, inv!.id);
    const second = tokenOf((await smtp.waitFor(other.user.email, /invited/)).link);
    await expect(acceptInvitation(db, first, other.user.id)).rejects.toMatchObject({ code: "not_found" });

    // Expired.
    await db
      .update(invitations)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(invitations.id, inv!.id));
    await expect(acceptInvitation(db, second, other.user.id)).rejects.toMatchObject({ code: "not_found" });
    await db
      .update(invitations)
      .set({ expiresAt: new Date(Date.now() + 3600_000) })
      .where(eq(invitations.id, inv!.id));

    expect(await acceptInvitation(db, second, other.user.id)).toMatchObject({ role: "member" });
    await expect(acceptInvitation(db, second, other.user.id)).rejects.toMatchObject({ code: "not_found" });

    // Revoked.
    const third = address("revoked");
    const revoked = await inviteMember(db, owner.ctx, { email: third, role: "member" });
    const token = tokenOf((await smtp.waitFor(third, /invited/)).link);
    await revokeInvitation(db, owner.ctx, revoked.id);
    await expect(signUpFromInvitation(db, token, { password })).rejects.toMatchObject({ code: "not_found" });
    expect(await findUserByEmail(db, third)).toBeUndefined();
  });

  it("lets admins invite members and admins but not owners, and refuses a second open invitation or a member", async () => {
    const owner = await verifiedOwner();
    const asAdmin = { ...owner.ctx, inviterRole: "admin" as const };
    await expect(inviteMember(db, asAdmin, { email: address("x"), role: "owner" })).rejects.toMatchObject({ code: "forbidden" });
    const email = address("twice");
    await inviteMember(db, asAdmin, { email, role: "admin" });
    await expect(inviteMember(db, owner.ctx, { email: email.toUpperCase(), role: "member" })).rejects.toMatchObject({ code: "conflict" });
    await expect(inviteMember(db, owner.ctx, { email: owner.user.email, role: "member" })).rejects.toMatchObject({ code: "conflict" });
    await expect(inviteMember(db, { ...owner.ctx, inviterRole: "member" as const }, { email: address("y"), role: "member" })).rejects.toMatchObject({
      code: "forbidden",
    });
  });
});

describe("passwords and sessions", () => {
  it("resets a password by a link that works once, for an hour, ending every session and lifting a lock-out", async () => {
    const { user } = await verifiedOwner();
    const before = await currentSessionVersion(db, user.id);
    await db
      .update(users)
      .set({ signInLockedUntil: new Date(Date.now() + 600_000) })
      .where(eq(users.id, user.id));
    await requestPasswordReset(db, user.email);
    const token = tokenOf((await smtp.waitFor(user.email, /Reset/)).link);
    await resetPassword(db, token, "a brand new password");
    expect(await currentSessionVersion(db, user.id)).toBe(before! + 1);
    expect((await checkCredentials(db, { email: user.email, password: "a brand new password" }, randomIp())).ok).toBe(true);
    await expect(resetPassword(db, token, "yet another password")).rejects.toMatchObject({ code: "not_found" });

    // Expired.
    smtp.received.length = 0;
    await requestPasswordReset(db, user.email);
    const late = tokenOf((await smtp.waitFor(user.email, /Reset/)).link);
    await db
      .update(authTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authTokens.tokenHash, hashToken(late)));
    await expect(resetPassword(db, late, "yet another password")).rejects.toMatchObject({ code: "not_found" });
  });

  it("answers a reset for an unknown address the same, sending nothing", async () => {
    const ghost = address("ghost");
    await requestPasswordReset(db, ghost);
    await expect(smtp.waitFor(ghost, /./, 500)).rejects.toThrow(/no mail/);
  });

  it("changes a password only with the current one, and bumps the session version; so does sign out everywhere", async () => {
    const { user } = await verifiedOwner();
    const v = (await currentSessionVersion(db, user.id))!;
    await expect(changePassword(db, user.id, { current: "not it", next: "a changed password" })).rejects.toMatchObject({ code: "validation_failed" });
    expect(await currentSessionVersion(db, user.id)).toBe(v);
    await changePassword(db, user.id, { current: password, next: "a changed password" });
    expect(await currentSessionVersion(db, user.id)).toBe(v + 1);
    await signOutEverywhere(db, user.id);
    expect(await currentSessionVersion(db, user.id)).toBe(v + 2);
  });
});
