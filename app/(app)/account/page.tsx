import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { requireUserId } from "@/lib/auth/session";
import { accountOf } from "@/lib/auth/account";
import { emailUnavailableReason } from "@/lib/email/send";
import { signOutEverywhereAction } from "@/app/(auth)/actions";
import { ChangePasswordForm, ResendVerificationForm } from "@/components/shell/account-forms";
import { Card } from "@/components/ui/layout";

export const metadata: Metadata = { title: "Your account" };

export default async function AccountPage() {
  const userId = await requireUserId("/account");
  const user = await accountOf(await getDb(), userId);
  const noEmail = emailUnavailableReason();
  return (
    <main className="mx-auto max-w-lg space-y-4 px-6 py-12">
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Your account</h1>
        <Link href="/orgs" className="text-sm text-brand-600 hover:underline">
          Your organizations
        </Link>
      </div>
      <Card title="Email address">
        <p className="mb-3 text-sm">
          {user?.email} —{" "}
          {user?.emailVerifiedAt ? <span className="text-green-700">confirmed</span> : <span className="text-amber-700">not confirmed yet</span>}
        </p>
        {user && !user.emailVerifiedAt ? (
          <>
            <p className="mb-3 text-sm text-slate-600">Until you open the link we sent, you cannot join other organizations.</p>
            {noEmail ? <p className="mb-3 text-sm text-amber-700">{noEmail}</p> : <ResendVerificationForm />}
          </>
        ) : null}
      </Card>
      <Card title="Password">
        <ChangePasswordForm />
      </Card>
      <Card title="Sessions">
        <p className="mb-3 text-sm text-slate-600">Signs out every browser and device signed in to this account, this one included.</p>
        <form action={signOutEverywhereAction}>
          <button type="submit" className="rounded-md bg-white px-3 py-1.5 text-sm font-medium text-red-700 ring-1 ring-red-200 hover:bg-red-50">
            Sign out everywhere
          </button>
        </form>
      </Card>
    </main>
  );
}
