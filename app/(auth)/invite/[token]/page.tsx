import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { auth } from "@/lib/auth/next-auth";
import { lookupInvitation } from "@/lib/orgs/invitations";
import { AcceptInvitationForm, InvitedSignUpForm } from "@/components/shell/account-forms";
import { signOutAction } from "@/app/(auth)/actions";

export const metadata: Metadata = { title: "Invitation" };

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const found = await lookupInvitation(await getDb(), token);
  if (found.status !== "open") {
    return (
      <>
        <h1 className="mb-2 text-lg font-semibold">This invitation cannot be used</h1>
        <p className="text-sm text-slate-600">It has expired, was already used, or was revoked. Ask whoever invited you for a new one.</p>
      </>
    );
  }
  const { invitation, org, accountExists } = found;
  const session = await auth();
  const signedInAs = session?.user?.email ?? null;
  const here = `/invite/${token}`;
  return (
    <>
      <h1 className="mb-1 text-lg font-semibold">Join {org.name}</h1>
      <p className="mb-4 text-sm text-slate-500">
        {invitation.email} is invited as {invitation.role === "admin" ? "an" : "a"} <strong>{invitation.role}</strong>.
      </p>
      {signedInAs && signedInAs.toLowerCase() === invitation.email.toLowerCase() ? (
        <AcceptInvitationForm token={token} orgName={org.name} />
      ) : signedInAs ? (
        <div className="space-y-3 text-sm">
          <p>
            You are signed in as {signedInAs}. This invitation is for {invitation.email}: sign out, then open the link again.
          </p>
          <form action={signOutAction}>
            <button type="submit" className="font-medium text-brand-600 hover:underline">
              Sign out
            </button>
          </form>
        </div>
      ) : accountExists ? (
        <p className="text-sm">
          <Link href={`/sign-in?callbackUrl=${encodeURIComponent(here)}`} className="font-medium text-brand-600 hover:underline">
            Sign in as {invitation.email}
          </Link>{" "}
          to accept.
        </p>
      ) : (
        <InvitedSignUpForm token={token} email={invitation.email} />
      )}
    </>
  );
}
