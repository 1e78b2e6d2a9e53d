import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { memberships, users } from "@/db/schema";
import { AppError } from "@/lib/errors";
import { appUrl, emailUnavailableReason, sendEmail } from "@/lib/email/send";
import { logEvent } from "@/lib/log";
import { createOrganization, createUser, emailSchema, findUserByEmail, orgNameSchema, passwordSchema } from "@/lib/orgs/service";
import { writeAudit } from "@/lib/audit/write";
import { hashPassword, verifyPassword } from "./password";
import { bumpSessionVersion } from "./session-version";
import { consumeAuthToken, issueAuthToken } from "./tokens";

/**
 * Accounts: sign-up with a verification link, password change and reset, "sign out everywhere".
 * Sign-up answers the same whether or not the address already has an account; the owner of an
 * existing address gets an email instead, so nobody learns which addresses are registered.
 */

function field<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  value: unknown,
  path: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new AppError("validation_failed", "Please correct the highlighted fields.", [{ path, message: r.error.issues[0]?.message ?? "is invalid" }]);
  return r.data;
}

function requireEmail() {
  const reason = emailUnavailableReason();
  if (reason) throw new AppError("unavailable", reason);
}

function verificationEmail(to: string, token: string) {
  return {
    to,
    subject: "Confirm your email address for Smarfle",
    text: [
      `Confirm that ${to} is yours (the link works once, for 24 hours):`,
      `${appUrl()}/verify-email/${token}`,
      "",
      "If you did not sign up for Smarfle, ignore this message.",
    ].join("\n"),
  };
}

export async function sendVerificationEmail(db: Executor, user: { id: string; email: string }): Promise<void> {
  requireEmail();
  const token = await issueAuthToken(db, { purpose: "verify_email", userId: user.id, email: user.email });
  await sendEmail(verificationEmail(user.email, token));
}

export type RegisterOutcome = { sentTo: string };

/** Sign-up. The answer is the same for a new and an existing address: "check your inbox". */
export async function registerAccount(db: Executor, input: { email: unknown; password: unknown; name?: unknown; orgName: unknown }): Promise<RegisterOutcome> {
  const email = field(emailSchema, input.email, "email");
  const password = field(passwordSchema, input.password, "password");
  const orgName = field(orgNameSchema, input.orgName, "org_name");
  const name = typeof input.name === "string" ? input.name : undefined;
  requireEmail();
  const existing = await findUserByEmail(db, email);
  if (existing) {
    // Spend what a real sign-up spends, so timing does not tell either.
    await hashPassword(password);
    logEvent("auth", { event: "sign_up_existing_address", email });
    await sendEmail({
      to: existing.email,
      subject: "Someone tried to sign up to Smarfle with your address",
      text: [
        `Someone (perhaps you) tried to create a Smarfle account for ${existing.email}, which already has one.`,
        `Sign in: ${appUrl()}/sign-in`,
        `Forgot your password? ${appUrl()}/forgot-password`,
        "",
        "If this was not you, nothing has changed and you need do nothing.",
      ].join("\n"),
    });
    return { sentTo: email };
  }
  let user: { id: string; email: string };
  try {
    user = await db.transaction(async (tx) => {
      const user = await createUser(tx, { email, password, name });
      const org = await createOrganization(tx, { name: orgName });
      await tx.insert(memberships).values({ orgId: org.id, userId: user.id, role: "owner" });
      await writeAudit(tx, org.id, { type: "user", id: user.id, label: user.email }, "ui", [
        { action: "organization.created", targetType: "organization", targetId: org.id, after: { name: org.name, plan: org.plan } },
      ]);
      return user;
    });
  } catch (err) {
    // Registered by someone else a moment ago: answer as above.
    if (err instanceof AppError && err.code === "conflict") return { sentTo: email };
    throw err;
  }
  await sendVerificationEmail(db, user);
  return { sentTo: email };
}

/** Opens a verification link: the address it was sent to is verified, if it is still the user's. */
export async function verifyEmail(db: Executor, token: string): Promise<{ email: string } | null> {
  const row = await consumeAuthToken(db, "verify_email", token);
  if (!row) return null;
  const [user] = await db
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())` })
    .where(sql`${users.id} = ${row.userId} and lower(${users.email}) = lower(${row.email})`)
    .returning({ email: users.email });
  return user ?? null;
}

export async function changePassword(db: Executor, userId: string, input: { current: unknown; next: unknown }): Promise<void> {
  const next = field(passwordSchema, input.next, "next");
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new AppError("unauthorized", "Sign in to continue.");
  const current = typeof input.current === "string" ? input.current.slice(0, 200) : "";
  if (!(await verifyPassword(current, user.passwordHash))) {
    throw new AppError("validation_failed", "Your current password is not right.", [{ path: "current", message: "is not your current password" }]);
  }
  const passwordHash = await hashPassword(next);
  await db
    .update(users)
    .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: new Date() })
    .where(eq(users.id, userId));
  logEvent("auth", { event: "password_changed", user: userId });
}

export async function signOutEverywhere(db: Executor, userId: string): Promise<void> {
  await bumpSessionVersion(db, userId);
  logEvent("auth", { event: "signed_out_everywhere", user: userId });
}

/** Always answers the same; an email goes out only when the address has an account. */
export async function requestPasswordReset(db: Executor, rawEmail: unknown): Promise<void> {
  const email = field(emailSchema, rawEmail, "email");
  requireEmail();
  const user = await findUserByEmail(db, email);
  if (!user) {
    logEvent("auth", { event: "password_reset_unknown_address", email });
    return;
  }
  const token = await issueAuthToken(db, { purpose: "reset_password", userId: user.id, email: user.email });
  await sendEmail({
    to: user.email,
    subject: "Reset your Smarfle password",
    text: [
      `Choose a new password for ${user.email} (the link works once, for 1 hour):`,
      `${appUrl()}/reset-password/${token}`,
      "",
      "If you did not ask for this, ignore this message: your password is unchanged.",
    ].join("\n"),
  });
}

/**
 * Sets a new password from a reset link. Every session ends, a lock-out is lifted, and the address
 * counts as verified: the link reached it.
 */
export async function resetPassword(db: Executor, token: string, rawPassword: unknown): Promise<{ email: string }> {
  const password = field(passwordSchema, rawPassword, "password");
  const passwordHash = await hashPassword(password);
  const row = await consumeAuthToken(db, "reset_password", token);
  if (!row) throw new AppError("not_found", "This reset link has expired or was already used. Ask for a new one.");
  const [user] = await db
    .update(users)
    .set({
      passwordHash,
      sessionVersion: sql`${users.sessionVersion} + 1`,
      failedSignIns: 0,
      failedSignInsSince: null,
      signInLockedUntil: null,
      emailVerifiedAt: sql`case when lower(${users.email}) = lower(${row.email}) then coalesce(${users.emailVerifiedAt}, now()) else ${users.emailVerifiedAt} end`,
      updatedAt: new Date(),
    })
    .where(eq(users.id, row.userId))
    .returning({ email: users.email });
  if (!user) throw new AppError("not_found", "This reset link has expired or was already used. Ask for a new one.");
  logEvent("auth", { event: "password_reset", email: user.email });
  return user;
}

export async function accountOf(db: Executor, userId: string) {
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, emailVerifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId));
  return user ?? null;
}
