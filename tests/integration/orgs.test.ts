import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { auditLog, memberships, organizations, users } from "@/db/schema";
import type { Db, DbHandle } from "@/db/client";
import { checkCredentials } from "@/lib/auth/sign-in";
import { changeMemberRole, removeMember, setOrgRateLimit, signUp } from "@/lib/orgs/service";
import { uniq, useTestDb } from "../helpers/db";

let handle: DbHandle;
let db: Db;
const orgIds: string[] = [];
const userIds: string[] = [];

beforeAll(async () => {
  handle = await useTestDb();
  db = handle.db;
});

afterAll(async () => {
  if (orgIds.length) await db.delete(organizations).where(inArray(organizations.id, orgIds));
  if (userIds.length) await db.delete(users).where(inArray(users.id, userIds));
  await handle.close();
});

async function newAccount(orgName = uniq("Org")) {
  const email = `${uniq("u")}@Example.test`;
  const result = await signUp(db, { email, password: "correct horse battery", name: "Pat", orgName });
  orgIds.push(result.org.id);
  userIds.push(result.user.id);
  return { ...result, email };
}

describe("sign-up and sign-in", () => {
  it("creates the user and their first organization with them as owner", async () => {
    const { user, org, email } = await newAccount("Pat's Plumbing");
    expect(user.email).toBe(email.toLowerCase());
    expect(user.passwordHash).toMatch(/^scrypt\$/);
    expect(user.passwordHash).not.toContain("correct horse");
    expect(org).toMatchObject({ name: "Pat's Plumbing", plan: "starter" });
    expect(org.slug).toMatch(/^pat-s-plumbing/);
    const [m] = await db.select().from(memberships).where(eq(memberships.orgId, org.id));
    expect(m).toMatchObject({ userId: user.id, role: "owner" });
    const audit = await db.select().from(auditLog).where(eq(auditLog.orgId, org.id));
    expect(audit.map((a) => a.action)).toEqual(["organization.created"]);
  });

  it("refuses a second account with the same email, in any case, and writes nothing", async () => {
    const { email } = await newAccount();
    const orgName = uniq("Dup");
    await expect(signUp(db, { email: email.toUpperCase(), password: "another password", orgName })).rejects.toMatchObject({ code: "conflict" });
    expect(await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.name, orgName))).toHaveLength(0);
  });

  it("validates email and password", async () => {
    await expect(signUp(db, { email: "not-an-email", password: "short", orgName: "X" })).rejects.toMatchObject({ code: "validation_failed" });
  });

  it("checks credentials and rate limits repeated failures", async () => {
    const { email } = await newAccount();
    const ip = `10.0.0.${Math.floor(Math.random() * 200)}`;
    expect(await checkCredentials(db, { email, password: "correct horse battery" }, ip)).toMatchObject({ ok: true });
    expect(await checkCredentials(db, { email: "nobody@example.test", password: "whatever" }, ip)).toEqual({ ok: false, reason: "invalid" });
    const outcomes = [];
    for (let i = 0; i < 11; i++) outcomes.push(await checkCredentials(db, { email, password: "wrong password" }, ip));
    expect(outcomes.slice(0, 10).every((o) => !o.ok && o.reason === "invalid")).toBe(true);
    const limited = outcomes[10]!;
    expect(limited).toMatchObject({ ok: false, reason: "rate_limited" });
    // Even the right password is refused while the account is locked, from any address.
    expect(await checkCredentials(db, { email, password: "correct horse battery" }, ip)).toMatchObject({ reason: "rate_limited" });
    expect(await checkCredentials(db, { email, password: "correct horse battery" }, `${ip}1`)).toMatchObject({ reason: "rate_limited" });
  });
});

describe("membership management", () => {
  it("changes a member's role and removes them — each audited, the removal ending their sessions", async () => {
    const owner = await newAccount();
    const other = await newAccount();
    const ctx = { orgId: owner.org.id, actor: { type: "user" as const, id: owner.user.id }, source: "ui" as const };
    // (Joining is by invitation: tests/integration/accounts.test.ts.)
    await db.insert(memberships).values({ orgId: owner.org.id, userId: other.user.id, role: "member" });
    await changeMemberRole(db, ctx, { userId: other.user.id, role: "admin" });
    const [before] = await db.select({ v: users.sessionVersion }).from(users).where(eq(users.id, other.user.id));
    await removeMember(db, ctx, { userId: other.user.id });
    const [after] = await db.select({ v: users.sessionVersion }).from(users).where(eq(users.id, other.user.id));
    expect(after!.v).toBe(before!.v + 1);
    const audit = await db.select().from(auditLog).where(eq(auditLog.orgId, owner.org.id)).orderBy(auditLog.id);
    expect(audit.map((a) => a.action)).toEqual(["organization.created", "member.role_changed", "member.removed"]);
  });

  it("never leaves an organization without an owner", async () => {
    const owner = await newAccount();
    const ctx = { orgId: owner.org.id, actor: { type: "user" as const, id: owner.user.id }, source: "ui" as const };
    await expect(changeMemberRole(db, ctx, { userId: owner.user.id, role: "admin" })).rejects.toMatchObject({ code: "conflict" });
    await expect(removeMember(db, ctx, { userId: owner.user.id })).rejects.toMatchObject({ code: "conflict" });
  });
});

describe("operator limits", () => {
  it("stores an org's rate-limit override and audits it", async () => {
    const { org } = await newAccount();
    const updated = await setOrgRateLimit(db, org.slug, 1200);
    expect(updated.rateLimitRpm).toBe(1200);
    await expect(setOrgRateLimit(db, org.id, 0)).rejects.toMatchObject({ code: "validation_failed" });
    await expect(setOrgRateLimit(db, "no-such-org", 10)).rejects.toMatchObject({ code: "not_found" });
  });
});
