"use server";

import { AuthError } from "next-auth";
import { headers } from "next/headers";
import { z } from "zod";
import { getDb } from "@/db/client";
import { signIn, signOut } from "@/lib/auth/next-auth";
import { signUp } from "@/lib/orgs/service";
import { toActionError, type ActionResult } from "@/lib/auth/action";
import { checkSignUpAllowed } from "@/lib/auth/sign-up-limits";
import { clientAddress } from "@/lib/http/client-address";

export type FormState = ActionResult<null> | null;

function tryAgainMessage(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `Too many attempts. Try again in ${seconds < 60 ? `${seconds} seconds` : `${minutes} minute${minutes === 1 ? "" : "s"}`}.`;
}

const safeCallback = (v: unknown) => (typeof v === "string" && v.startsWith("/") && !v.startsWith("//") ? v : "/orgs");

export async function signInAction(_prev: FormState, fd: FormData): Promise<FormState> {
  try {
    await signIn("credentials", { email: String(fd.get("email") ?? ""), password: String(fd.get("password") ?? ""), redirectTo: safeCallback(fd.get("callbackUrl")) });
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

export async function signUpAction(_prev: FormState, fd: FormData): Promise<FormState> {
  const input = signUpInput.safeParse(Object.fromEntries(fd));
  if (!input.success) return { ok: false, error: { code: "validation_failed", message: "Please fill in every field.", details: [] } };
  let slug: string;
  try {
    await checkSignUpAllowed(clientAddress({ headers: await headers() }));
    const { org } = await signUp(await getDb(), { email: input.data.email, password: input.data.password, name: input.data.name, orgName: input.data.orgName });
    slug = org.slug;
  } catch (err) {
    const error = toActionError(err, "auth.sign_up");
    // The service names fields email/password/org_name; the form's field names differ for one.
    error.details = error.details.map((d) => ({ ...d, path: d.path === "org_name" ? "orgName" : d.path }));
    return { ok: false, error };
  }
  await signIn("credentials", { email: input.data.email, password: input.data.password, redirectTo: `/${slug}` });
  return { ok: true, data: null };
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/" });
}
