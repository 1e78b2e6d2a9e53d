import type { Metadata } from "next";
import { SignUpForm } from "@/components/shell/auth-forms";

export const metadata: Metadata = { title: "Create account" };

export default function SignUpPage() {
  return (
    <>
      <h1 className="mb-1 text-lg font-semibold">Create your account</h1>
      <p className="mb-4 text-sm text-slate-500">You will be the owner of your organization.</p>
      <SignUpForm />
    </>
  );
}
