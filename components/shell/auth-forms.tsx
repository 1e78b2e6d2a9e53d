"use client";

import Link from "next/link";
import { startTransition, useActionState, type FormEvent } from "react";
import { signInAction, signUpAction, type FormState } from "@/app/(auth)/actions";
import { Button } from "@/components/ui/button";
import { Field, FormError, Input } from "@/components/ui/form";

const detail = (state: FormState, path: string) => (state && !state.ok ? state.error.details.find((d) => d.path === path)?.message : undefined);

/** Submits without React's automatic reset, so a failed attempt keeps what was typed. */
const submitWith = (action: (fd: FormData) => void) => (e: FormEvent<HTMLFormElement>) => {
  e.preventDefault();
  const data = new FormData(e.currentTarget);
  startTransition(() => action(data));
};

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState(signInAction, null);
  return (
    <form action={action} onSubmit={submitWith(action)} className="space-y-4">
      <input type="hidden" name="callbackUrl" value={callbackUrl ?? ""} />
      <FormError message={state && !state.ok ? state.error.message : null} />
      <Field id="email" label="Email">
        <Input id="email" name="email" type="email" autoComplete="email" required />
      </Field>
      <Field id="password" label="Password">
        <Input id="password" name="password" type="password" autoComplete="current-password" required />
      </Field>
      <Button type="submit" disabled={pending} className="w-full">
        {pending ? "Signing in…" : "Sign in"}
      </Button>
      <p className="text-center text-sm text-slate-500">
        <Link href="/forgot-password" className="hover:underline">
          Forgot your password?
        </Link>
      </p>
      <p className="text-center text-sm text-slate-500">
        New to Smarfle?{" "}
        <Link href="/sign-up" className="font-medium text-brand-600 hover:underline">
          Create an account
        </Link>
      </p>
    </form>
  );
}

export function SignUpForm() {
  const [state, action, pending] = useActionState(signUpAction, null);
  if (state?.ok && state.data?.sentTo) {
    return (
      <div className="space-y-3 text-sm" role="status">
        <p className="font-medium">Check your inbox</p>
        <p className="text-slate-600">
          We sent a message to <strong>{state.data.sentTo}</strong>. Open its link to confirm your address, then sign in.
        </p>
        <Link href="/sign-in" className="inline-block font-medium text-brand-600 hover:underline">
          Sign in
        </Link>
      </div>
    );
  }
  const message = state && !state.ok && state.error.details.length === 0 ? state.error.message : state && !state.ok ? "Please correct the fields below." : null;
  return (
    <form action={action} onSubmit={submitWith(action)} className="space-y-4">
      <FormError message={message} />
      <Field id="name" label="Your name">
        <Input id="name" name="name" autoComplete="name" required />
      </Field>
      <Field id="email" label="Email" error={detail(state, "email")}>
        <Input id="email" name="email" type="email" autoComplete="email" required />
      </Field>
      <Field id="password" label="Password" hint="At least 10 characters." error={detail(state, "password")}>
        <Input id="password" name="password" type="password" autoComplete="new-password" minLength={10} required />
      </Field>
      <Field id="orgName" label="Organization name" hint="Your business; you can invite your team later." error={detail(state, "orgName")}>
        <Input id="orgName" name="orgName" required />
      </Field>
      <Button type="submit" disabled={pending} className="w-full">
        {pending ? "Creating…" : "Create account"}
      </Button>
      <p className="text-center text-sm text-slate-500">
        Already have an account?{" "}
        <Link href="/sign-in" className="font-medium text-brand-600 hover:underline">
          Sign in
        </Link>
      </p>
    </form>
  );
}
