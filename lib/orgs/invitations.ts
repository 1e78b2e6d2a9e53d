import "server-only";
import { limitOutbound } from "@/lib/rate-limit/outbound";
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { invitations, memberships, organizations, users, type Invitation, type Organization, type Role, type User } from "@/db/schema";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { appUrl, emailUnavailableReason, sendEmail } from "@/lib/email/send";
import { hashToken, newLinkToken, TOKEN_TTL_SECONDS } from "@/lib/auth/tokens";
import { planLimits } from "./plans";
import { createUser, emailSchema, findUserByEmail, hasRole, roleSchema } from "./service";

/**
 * Invitations replace "add member": nobody joins an organization without proving they own the
 * address, by opening the link sent to it. Owners invite any role; admins invite members and
 * admins. An invitation works once, for 7 days; resending replaces its link.
 */

const parseOr = <T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  value: unknown,
  path: string,
): T => {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new AppError("validation_failed", "Please correct the highlighted fields.", [{ path, message: r.error.issues[0]?.message ?? "is invalid" }]);
  return r.data;
};

function assertMayInvite(inviterRole: Role, role: Role) {
  if (!hasRole(inviterRole, "admin")) throw new AppError("forbidden", "Only owners and admins can invite.");
  if (role === "owner" && inviterRole !== "owner")
    throw new AppError("forbidden", "Only owners can invite owners.", [{ path: "role", message: "admins may invite members and admins" }]);
}

async function assertSeatFree(tx: Executor, orgId: string): Promise<Organization> {
  // The org row's lock makes the count exact against a concurrent acceptance.
  const [org] = await tx.select().from(organizations).where(eq(organizations.id, orgId)).for("update");
  if (!org) throw new AppError("not_found", "Organization not found.");
  const max = planLimits(org.plan).maxMembers;
  if (max !== null) {
    const [n] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(memberships)
      .where(eq(memberships.orgId, orgId));
    if ((n?.n ?? 0) >= max)
      throw new AppError("plan_limit_reached", `Your ${org.plan} plan allows ${max} members. Remove a member or upgrade the plan to add more.`);
  }
  return org;
}

function invitationEmail(to: string, org: Organization, role: Role, inviter: string, token: string) {
  return {
    to,
    subject: `You are invited to ${org.name} on Smarfle`,
    text: [
      `${inviter} invited you to join ${org.name} on Smarfle as ${role === "admin" ? "an" : "a"} ${role}.`,
      "",
      `Accept (the link works once, for 7 days): ${appUrl()}/invite/${token}`,
      "",
      "If you did not expect this, ignore this message.",
    ].join("\n"),
  };
}

function requireEmail() {
  const reason = emailUnavailableReason();
  if (reason) throw new AppError("unavailable", reason);
}

export async function inviteMember(
  db: Executor,
  ctx: ChangeContext & { inviterRole: Role; inviterEmail: string },
  input: { email: unknown; role: unknown },
): Promise<Invitation> {
  const email = parseOr(emailSchema, input.email, "email");
  const role = parseOr(roleSchema, input.role, "role") as Role;
  assertMayInvite(ctx.inviterRole, role);
  requireEmail();
  await limitOutbound(ctx.orgId, "invitation");
  const { token, hash } = newLinkToken();
  const { invitation, org } = await db.transaction(async (tx) => {
    const org = await assertSeatFree(tx, ctx.orgId);
    const [member] = await tx
      .select({ id: users.id })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, ctx.orgId), sql`lower(${users.email}) = ${email}`))
      .limit(1);
    if (member) throw new AppError("conflict", "This address is already a member.", [{ path: "email", message: "already a member" }]);
    const [invitation] = await tx
      .insert(invitations)
      .values({
        id: newId("ivt"),
        orgId: ctx.orgId,
        email,
        role,
        invitedByUserId: ctx.actor.type === "user" ? ctx.actor.id : null,
        tokenHash: hash,
        expiresAt: new Date(Date.now() + TOKEN_TTL_SECONDS.invitation * 1000),
      })
      .onConflictDoNothing()
      .returning();
    if (!invitation)
      throw new AppError("conflict", "This address already has an open invitation: resend or revoke it.", [{ path: "email", message: "already invited" }]);
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "member.invited", targetType: "invitation", targetId: invitation.id, after: { email, role } },
    ]);
    return { invitation, org };
  });
  await sendEmail(invitationEmail(email, org, role, ctx.inviterEmail, token));
  return invitation;
}

async function openInvitation(tx: Executor, orgId: string, id: string): Promise<Invitation> {
  const [inv] = await tx
    .select()
    .from(invitations)
    .where(and(eq(invitations.orgId, orgId), eq(invitations.id, id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
    .for("update");
  if (!inv) throw new AppError("not_found", "Invitation not found.");
  return inv;
}

export async function resendInvitation(db: Executor, ctx: ChangeContext & { inviterRole: Role; inviterEmail: string }, id: string): Promise<void> {
  requireEmail();
  await limitOutbound(ctx.orgId, "invitation");
  const { token, hash } = newLinkToken();
  const { inv, org } = await db.transaction(async (tx) => {
    const inv = await openInvitation(tx, ctx.orgId, id);
    assertMayInvite(ctx.inviterRole, inv.role);
    await tx
      .update(invitations)
      .set({ tokenHash: hash, expiresAt: new Date(Date.now() + TOKEN_TTL_SECONDS.invitation * 1000), updatedAt: new Date() })
      .where(eq(invitations.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "member.invitation_resent", targetType: "invitation", targetId: id, after: { email: inv.email } },
    ]);
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId));
    return { inv, org: org! };
  });
  await sendEmail(invitationEmail(inv.email, org, inv.role, ctx.inviterEmail, token));
}

export async function revokeInvitation(db: Executor, ctx: ChangeContext & { inviterRole: Role }, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const inv = await openInvitation(tx, ctx.orgId, id);
    assertMayInvite(ctx.inviterRole, inv.role);
    await tx.update(invitations).set({ revokedAt: new Date(), updatedAt: new Date() }).where(eq(invitations.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "member.invitation_revoked", targetType: "invitation", targetId: id, before: { email: inv.email, role: inv.role } },
    ]);
  });
}

export async function listOpenInvitations(db: Executor, orgId: string) {
  return db
    .select({ id: invitations.id, email: invitations.email, role: invitations.role, expiresAt: invitations.expiresAt, createdAt: invitations.createdAt })
    .from(invitations)
    .where(and(eq(invitations.orgId, orgId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
    .orderBy(asc(invitations.createdAt));
}

export type InvitationLookup = { status: "open"; invitation: Invitation; org: Organization; accountExists: boolean } | { status: "invalid" };

/** What the invitation page shows. Expired, used, revoked and unknown links all read "invalid". */
export async function lookupInvitation(db: Executor, token: string): Promise<InvitationLookup> {
  if (!/^[0-9A-Za-z]{43}$/.test(token)) return { status: "invalid" };
  const [row] = await db
    .select({ invitation: invitations, org: organizations })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.orgId))
    .where(
      and(eq(invitations.tokenHash, hashToken(token)), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())),
    )
    .limit(1);
  if (!row) return { status: "invalid" };
  return { status: "open", ...row, accountExists: Boolean(await findUserByEmail(db, row.invitation.email)) };
}

const INVALID = () => new AppError("not_found", "This invitation link has expired, was already used or was revoked. Ask for a new one.");

/** Joins the invitee to the org, once. Opening the link proved the address, so it is now verified. */
async function accept(tx: Executor, token: string, user: { id: string; email: string }) {
  const [inv] = await tx
    .select()
    .from(invitations)
    .where(
      and(eq(invitations.tokenHash, hashToken(token)), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, new Date())),
    )
    .for("update");
  if (!inv) throw INVALID();
  if (inv.email.toLowerCase() !== user.email.toLowerCase()) {
    throw new AppError("forbidden", `This invitation is for ${inv.email}. Sign in with that address to accept it.`);
  }
  const org = await joinOrg(tx, { orgId: inv.orgId, actor: { type: "user", id: user.id, label: user.email }, source: "ui" }, user, inv.role, {
    action: "member.joined",
    invitation: inv.id,
  });
  await tx.update(invitations).set({ acceptedAt: new Date(), updatedAt: new Date() }).where(eq(invitations.id, inv.id));
  await tx
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())` })
    .where(eq(users.id, user.id));
  return { org, role: inv.role };
}

/** The one way into an organization: a free seat (under the org row's lock), the membership, its audit entry. */
async function joinOrg(
  tx: Executor,
  ctx: ChangeContext,
  user: { id: string; email: string },
  role: Role,
  how: { action: "member.joined" | "member.added"; invitation?: string },
): Promise<Organization> {
  const org = await assertSeatFree(tx, ctx.orgId);
  await tx.insert(memberships).values({ orgId: ctx.orgId, userId: user.id, role }).onConflictDoNothing();
  await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
    {
      action: how.action,
      targetType: "member",
      targetId: user.id,
      after: { email: user.email, role, ...(how.invitation ? { invitation: how.invitation } : {}) },
    },
  ]);
  return org;
}

/**
 * An operator's way in (`smarfle user:create`, the demo seed): a new user whose address the operator vouches
 * for, a member at once — within the plan's seats and audited, like an accepted invitation.
 */
export async function createMember(
  db: Executor,
  ctx: ChangeContext,
  input: { email: string; password: string; name?: string; role: Role },
): Promise<{ user: User; org: Organization }> {
  return db.transaction(async (tx) => {
    const user = await createUser(tx, { email: input.email, password: input.password, name: input.name, verified: true });
    const org = await joinOrg(tx, ctx, user, input.role, { action: "member.added" });
    return { user, org };
  });
}

export async function acceptInvitation(db: Executor, token: string, userId: string): Promise<{ org: Organization; role: Role }> {
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, email: users.email }).from(users).where(eq(users.id, userId));
    if (!user) throw new AppError("unauthorized", "Sign in to continue.");
    return accept(tx, token, user);
  });
}

/** A new account for the invited address, created verified (the link proved it), joined at once. */
export async function signUpFromInvitation(
  db: Executor,
  token: string,
  input: { name?: string; password: string },
): Promise<{ email: string; org: Organization; role: Role }> {
  const found = await lookupInvitation(db, token);
  if (found.status !== "open") throw INVALID();
  if (found.accountExists) throw new AppError("conflict", "An account already exists for this address: sign in to accept the invitation.");
  return db.transaction(async (tx) => {
    const user = await createUser(tx, { email: found.invitation.email, password: input.password, name: input.name, verified: true });
    const { org, role } = await accept(tx, token, user);
    return { email: user.email, org, role };
  });
}
