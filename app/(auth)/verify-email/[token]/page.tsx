import type { Metadata } from "next";
import { VerifyEmailForm } from "@/components/shell/account-forms";

export const metadata: Metadata = { title: "Confirm your address" };

// A button, not a write on GET: mail scanners that open links must not use them up.
export default async function VerifyEmailPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <>
      <h1 className="mb-4 text-lg font-semibold">Confirm your email address</h1>
      <VerifyEmailForm token={token} />
    </>
  );
}
