import type { Metadata } from "next";
import { ResetPasswordForm } from "@/components/shell/account-forms";

export const metadata: Metadata = { title: "Choose a new password" };

export default async function ResetPasswordPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return (
    <>
      <h1 className="mb-4 text-lg font-semibold">Choose a new password</h1>
      <ResetPasswordForm token={token} />
    </>
  );
}
