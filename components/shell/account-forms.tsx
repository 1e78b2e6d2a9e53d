"use client";

import Link from "next/link";
import { startTransition, useActionState, type FormEvent, type ReactNode } from "react";
import {
  acceptInvitationAction,
  changePasswordAction,
  forgotPasswordAction,
  resendVerificationAction,
  resetPasswordAction,
  signUpFromInvitationAction,
  verifyEmailAction,
  type FormState,
} from "@/app/(auth)/actions";
import { Button } from "@/components/ui/button";
import { Field, FormError, Input } from "@/components/ui/form";

type Action = (prev: FormState, fd: FormData) => Promise<FormState>;

const detail = (state: FormState, path: string) => (state && !state.ok ? state.error.details.find((d) => d.path === path)?.message : undefined);

/** One small form: its fields, a button, the error or the success message (which replaces it when `done` says so). */
function SmallForm({
  action,
  children,
  button,
  busy,
  done,
}: {
  action: Action;
  children: (state: FormState) => ReactNode;
  button: string;
  busy: string;
  done?: (message: string) => ReactNode;
}) {
  const [state, dispatch, pending] = useActionState(action, null);
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    startTransition(() => dispatch(data));
  };
  if (state?.ok && done) return <>{done(state.data?.message ?? "Done.")}</>;
  const failed = state && !state.ok && state.error.details.length === 0 ? state.error.message : state && !state.ok ? state.error.message : null;
  return (
    <form action={dispatch} onSubmit={onSubmit} className="space-y-4">
      <FormError message={failed} />
      {state?.ok && state.data?.message ? (
        <p role="status" className="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800 ring-1 ring-green-200">
          {state.data.message}
        </p>
      ) : null}
      {children(state)}
      <Button type="submit" disabled={pending} className="w-full">
        {pending ? busy : button}
      </Button>
    </form>
  );
}

const signInLink = (message: string, callbackUrl?: string) => (
  <div role="status" className="space-y-3 text-sm">
    <p>{message}</p>
    <Link href={callbackUrl ? `/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}` : "/sign-in"} className="font-medium text-brand-600 hover:underline">
      Sign in
    </Link>
  </div>
);

export function VerifyEmailForm({ token }: { token: string }) {
  return (
    <SmallForm action={verifyEmailAction} button="Confirm my address" busy="Confirming…" done={(m) => signInLink(m)}>
      {() => <input type="hidden" name="token" value={token} />}
    </SmallForm>
  );
}

export function ForgotPasswordForm() {
  return (
    <SmallForm
      action={forgotPasswordAction}
      button="Send me a link"
      busy="Sending…"
      done={(m) => (
        <p role="status" className="text-sm">
          {m}
        </p>
      )}
    >
      {(state) => (
        <Field id="email" label="Email" error={detail(state, "email")}>
          <Input id="email" name="email" type="email" autoComplete="email" required />
        </Field>
      )}
    </SmallForm>
  );
}

export function ResetPasswordForm({ token }: { token: string }) {
  return (
    <SmallForm action={resetPasswordAction} button="Set the new password" busy="Saving…" done={(m) => signInLink(m)}>
      {(state) => (
        <>
          <input type="hidden" name="token" value={token} />
          <Field id="password" label="New password" hint="At least 10 characters." error={detail(state, "password")}>
            <Input id="password" name="password" type="password" autoComplete="new-password" minLength={10} required />
          </Field>
        </>
      )}
    </SmallForm>
  );
}

export function ChangePasswordForm() {
  return (
    <SmallForm action={changePasswordAction} button="Change password" busy="Changing…">
      {(state) => (
        <>
          <Field id="current" label="Current password" error={detail(state, "current")}>
            <Input id="current" name="current" type="password" autoComplete="current-password" required />
          </Field>
          <Field id="next" label="New password" hint="At least 10 characters. Every other session is signed out." error={detail(state, "next")}>
            <Input id="next" name="next" type="password" autoComplete="new-password" minLength={10} required />
          </Field>
        </>
      )}
    </SmallForm>
  );
}

export function ResendVerificationForm() {
  return (
    <SmallForm action={resendVerificationAction} button="Send the link again" busy="Sending…">
      {() => null}
    </SmallForm>
  );
}

export function AcceptInvitationForm({ token, orgName }: { token: string; orgName: string }) {
  return (
    <SmallForm action={acceptInvitationAction} button={`Join ${orgName}`} busy="Joining…">
      {() => <input type="hidden" name="token" value={token} />}
    </SmallForm>
  );
}

export function InvitedSignUpForm({ token, email }: { token: string; email: string }) {
  return (
    <SmallForm action={signUpFromInvitationAction} button="Create account and join" busy="Creating…">
      {(state) => (
        <>
          <input type="hidden" name="token" value={token} />
          <Field id="email" label="Email">
            <Input id="email" value={email} readOnly disabled />
          </Field>
          <Field id="name" label="Your name">
            <Input id="name" name="name" autoComplete="name" required />
          </Field>
          <Field id="password" label="Password" hint="At least 10 characters." error={detail(state, "password")}>
            <Input id="password" name="password" type="password" autoComplete="new-password" minLength={10} required />
          </Field>
        </>
      )}
    </SmallForm>
  );
}
