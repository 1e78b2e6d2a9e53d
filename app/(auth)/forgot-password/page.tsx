import type { Metadata } from "next";
import { ForgotPasswordForm } from "@/components/shell/account-forms";
import { emailUnavailableReason } from "@/lib/email/send";

export const metadata: Metadata = { title: "Forgot your password" };

export default function ForgotPasswordPage() {
  const noEmail = emailUnavailableReason();
  return (
    <>
      <h1 className="mb-1 text-lg font-semibold">Forgot your password?</h1>
      <p className="mb-4 text-sm text-slate-500">We will email you a link to choose a new one.</p>
      {noEmail ? <p className="mb-4 text-sm text-amber-700">{noEmail}</p> : null}
      <ForgotPasswordForm />
    </>
  );
}
