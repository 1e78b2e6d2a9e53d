"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { createContext, startTransition, useActionState, useContext, useEffect, useRef, type ReactNode } from "react";
import type { ActionState } from "@/app/(app)/[org]/actions";
import { FormError } from "./form";
import { buttonClass } from "./button";

type Action = (prev: ActionState, fd: FormData) => Promise<ActionState>;

const StateContext = createContext<{ state: ActionState; pending: boolean }>({ state: null, pending: false });

/**
 * A form bound to a server action: shows the action's error, each field's error next to it
 * (through <FieldError>), and on success goes to `redirectTo` (`{id}` is replaced by the
 * result's id) or refreshes the page.
 */
export function ActionForm({
  action,
  children,
  redirectTo,
  className = "space-y-4",
  resetOnSuccess = false,
  success,
  confirm,
  refresh = true,
}: {
  action: Action;
  children: ReactNode;
  redirectTo?: string;
  className?: string;
  resetOnSuccess?: boolean;
  success?: (data: unknown) => ReactNode;
  confirm?: string;
  /** Re-render the page after success (off where the form would unmount and lose its message). */
  refresh?: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  const router = useRouter();
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!state?.ok) return;
    if (redirectTo) {
      const id = (state.data as { id?: string } | null)?.id ?? "";
      router.push(redirectTo.replace("{id}", id));
    } else if (refresh) router.refresh();
    if (resetOnSuccess) form.current?.reset();
  }, [state, redirectTo, router, resetOnSuccess, refresh]);
  return (
    <StateContext.Provider value={{ state, pending }}>
      <form
        ref={form}
        // Before hydration the browser posts to the server action itself (no fields in a URL).
        action={formAction}
        className={className}
        onSubmit={(e) => {
          // Submitted by hand rather than through `action`, so React does not clear what the
          // person typed when the server answers with an error.
          e.preventDefault();
          if (confirm && !window.confirm(confirm)) return;
          const data = new FormData(e.currentTarget);
          startTransition(() => formAction(data));
        }}
      >
        {state && !state.ok ? <FormError message={state.error.message} /> : null}
        {state && !state.ok && state.error.code === "plan_limit_reached" ? <PlanLimitHint /> : null}
        {state?.ok && success ? success(state.data) : null}
        {children}
      </form>
    </StateContext.Provider>
  );
}

/** Where a refused write can see what its plan allows and what is used. */
function PlanLimitHint() {
  const org = usePathname().split("/")[1];
  return (
    <p className="text-sm text-slate-600">
      See{" "}
      <Link href={`/${org}/settings/plan`} className="text-brand-600 hover:underline">
        your plan&apos;s limits and current use
      </Link>
      .
    </p>
  );
}

/** The error of field `name` (or of anything under it, unless `exact`). */
export function FieldError({ name, exact = false }: { name: string; exact?: boolean }) {
  const { state } = useContext(StateContext);
  if (!state || state.ok) return null;
  const message = state.error.details.find((d) => d.path === name || (!exact && d.path.startsWith(`${name}.`)))?.message;
  return message ? (
    <p className="text-xs text-red-600" role="alert">
      {message}
    </p>
  ) : null;
}

export function SubmitButton({
  children,
  variant = "primary",
  pendingText,
}: {
  children: ReactNode;
  variant?: "primary" | "secondary" | "danger";
  pendingText?: string;
}) {
  const { pending } = useContext(StateContext);
  return (
    <button type="submit" disabled={pending} className={buttonClass(variant)}>
      {pending && pendingText ? pendingText : children}
    </button>
  );
}
