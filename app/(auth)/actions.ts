"use server";

import { AuthError } from "next-auth";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { auth, signIn, signOut } from "@/lib/auth/next-auth";
import { toActionError, type ActionResult } from "@/lib/auth/action";
import { checkAccountRequestAllowed } from "@/lib/auth/account-limits";
import {
  changePassword,
  registerAccount,
  requestPasswordReset,
  resetPassword,
  sendVerificationEmail,
  signOutEverywhere,
  verifyEmail,
  accountOf,
} from "@/lib/auth/account";
import { acceptInvitation, signUpFromInvitation } from "@/lib/orgs/invitations";
import { clientAddress } from "@/lib/http/client-address";
import { AppError } from "@/lib/errors";

export type FormState = ActionResult<{ message?: string; sentTo?: string } | null> | null;

const safeCallback = (v: unknown) => (typeof v === "string" && v.startsWith("/") && !v.startsWith("//") ? v : "/orgs");

function tryAgainMessage(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `Too many attempts. Try again in ${seconds < 60 ? `${seconds} seconds` : `${minutes} minute${minutes === 1 ? "" : "s"}`}.`;
}

const str = (fd: FormData, name: string) => {
  const v = fd.get(name);
  return typeof v === "string" ? v.slice(0, 1000) : "";
};

/** The service names fields snake_case; the forms' names differ for one. */
function formError(err: unknown, context: string): FormState {
  const error = toActionError(err, context);
  error.details = error.details.map((d) => ({ ...d, path: d.path === "org_name" ? "orgName" : d.path }));
  return { ok: false, error };
}

async function currentUserIdOrNull(): Promise<string | null> {
  return (await auth())?.user?.id ?? null;
}

export async function signInAction(_prev: FormState, fd: FormData): Promise<FormState> {
  try {
    await signIn("credentials", { email: str(fd, "email"), password: str(fd, "password"), redirectTo: safeCallback(fd.get("callbackUrl")) });
    return { ok: true, data: null };
  } catch (err) {
    if (err instanceof AuthError) {
      const limited = /^rate_limited_(\d+)$/.exec((err as AuthError & { code?: string }).code ?? "");
      if (limited) return { ok: false, error: { code: "rate_limited", message: tryAgainMessage(Number(limited[1])), details: [] } };
      return { ok: false, error: { code: "unauthorized", message: "Wrong email or password.", details: [] } };
    }
    throw err; // the redirect after a successful sign-in
  }
}

const signUpInput = z.object({ name: z.string().max(100), email: z.string().max(254), password: z.string().max(200), orgName: z.string().max(100) });

/** The answer is "check your inbox" whether or not the address already has an account. */
export async function signUpAction(_prev: FormState, fd: FormData): Promise<FormState> {
  const input = signUpInput.safeParse(Object.fromEntries(fd));
  if (!input.success) return { ok: false, error: { code: "validation_failed", message: "Please fill in every field.", details: [] } };
  try {
    await checkAccountRequestAllowed("sign_up", clientAddress({ headers: await headers() }));
    const { sentTo } = await registerAccount(await getDb(), input.data);
    return { ok: true, data: { sentTo } };
  } catch (err) {
    return formError(err, "auth.sign_up");
  }
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/" });
}

export async function verifyEmailAction(_prev: FormState, fd: FormData): Promise<FormState> {
  const verified = await verifyEmail(await getDb(), str(fd, "token"));
  if (!verified)
    return {
      ok: false,
      error: { code: "not_found", message: "This link has expired or was already used. Sign in and ask for a new one from your account page.", details: [] },
    };
  return { ok: true, data: { message: `${verified.email} is confirmed.` } };
}

export async function resendVerificationAction(): Promise<FormState> {
  try {
    const userId = await currentUserIdOrNull();
    if (!userId) throw new AppError("unauthorized", "Sign in to continue.");
    const db = await getDb();
    const user = await accountOf(db, userId);
    if (!user) throw new AppError("unauthorized", "Sign in to continue.");
    if (user.emailVerifiedAt) return { ok: true, data: { message: "Your address is already confirmed." } };
    await sendVerificationEmail(db, user);
    return { ok: true, data: { message: `We sent a new link to ${user.email}.` } };
  } catch (err) {
    return formError(err, "auth.resend_verification");
  }
}

export async function forgotPasswordAction(_prev: FormState, fd: FormData): Promise<FormState> {
  try {
    await checkAccountRequestAllowed("password_reset", clientAddress({ headers: await headers() }));
    await requestPasswordReset(await getDb(), str(fd, "email"));
    return { ok: true, data: { message: "If an account exists for this address, we sent it a link to choose a new password. It works for one hour." } };
  } catch (err) {
    return formError(err, "auth.forgot_password");
  }
}

export async function resetPasswordAction(_prev: FormState, fd: FormData): Promise<FormState> {
  try {
    await resetPassword(await getDb(), str(fd, "token"), str(fd, "password"));
    return { ok: true, data: { message: "Your password is changed and every session signed out. Sign in with the new one." } };
  } catch (err) {
    return formError(err, "auth.reset_password");
  }
}

export async function changePasswordAction(_prev: FormState, fd: FormData): Promise<FormState> {
  try {
    const userId = await currentUserIdOrNull();
    if (!userId) throw new AppError("unauthorized", "Sign in to continue.");
    const db = await getDb();
    await changePassword(db, userId, { current: str(fd, "current"), next: str(fd, "next") });
    // Every session ended with the change, this one too: start a new one with the new password.
    const user = await accountOf(db, userId);
    await signIn("credentials", { email: user!.email, password: str(fd, "next"), redirect: false });
    return { ok: true, data: { message: "Password changed. Every other session is signed out." } };
  } catch (err) {
    return formError(err, "auth.change_password");
  }
}

export async function signOutEverywhereAction(): Promise<void> {
  const userId = await currentUserIdOrNull();
  if (userId) await signOutEverywhere(await getDb(), userId);
  await signOut({ redirectTo: "/sign-in" });
}

export async function acceptInvitationAction(_prev: FormState, fd: FormData): Promise<FormState> {
  let slug: string;
  try {
    const userId = await currentUserIdOrNull();
    if (!userId) throw new AppError("unauthorized", "Sign in to continue.");
    ({
      org: { slug },
    } = await acceptInvitation(await getDb(), str(fd, "token"), userId));
  } catch (err) {
    return formError(err, "auth.accept_invitation");
  }
  redirect(`/${slug}`);
}

export async function signUpFromInvitationAction(_prev: FormState, fd: FormData): Promise<FormState> {
  let slug: string;
  try {
    await checkAccountRequestAllowed("sign_up", clientAddress({ headers: await headers() }));
    const joined = await signUpFromInvitation(await getDb(), str(fd, "token"), { name: str(fd, "name"), password: str(fd, "password") });
    slug = joined.org.slug;
    await signIn("credentials", { email: joined.email, password: str(fd, "password"), redirect: false });
  } catch (err) {
    return formError(err, "auth.sign_up_invited");
  }
  redirect(`/${slug}`);
}
