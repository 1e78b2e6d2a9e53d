"use client";

import { useEffect } from "react";
import { useRouter } from "next/navigation";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Field, Input, Select } from "@/components/ui/form";
import { SecretReveal } from "@/components/ui/secret-reveal";
import { rememberFreshKey } from "@/components/ui/snippet";
import { createApiKey, revokeApiKey, rotateApiKey } from "@/app/(app)/[org]/actions";

const SCOPES = [
  ["read", "Read records and events"],
  ["write", "Create and update records"],
  ["delete", "Delete records"],
  ["bulk", "Bulk upserts and imports"],
  ["admin", "Everything, including webhooks and settings"],
  ["leads", "Only post leads — safe to put in a public web form"],
] as const;

/** Shown once, right after creation or rotation: the plaintext key, never retrievable again. */
export function NewKey({ data, done }: { data: unknown; done?: boolean }) {
  const { key, name, scopes } = data as { key: string; name: string; scopes?: string[] };
  const router = useRouter();
  // The page's snippets fill this key in while it is shown.
  useEffect(() => {
    if (scopes) rememberFreshKey(key, scopes);
  }, [key, scopes]);
  return (
    <div role="dialog" aria-label="Your new API key" className="space-y-2 rounded-md bg-amber-50 p-4 ring-1 ring-amber-200">
      <p className="text-sm font-semibold text-amber-900">Copy your new key for “{name}” now — it will not be shown again.</p>
      <SecretReveal secret={key} testId="new-api-key" fresh label="new key" />
      <p className="text-xs text-amber-800">Smarfle stores only a hash of it. If you lose it, rotate the key or create a new one.</p>
      {done ? (
        <button type="button" onClick={() => router.refresh()} className="text-xs font-medium text-amber-900 underline">
          I have stored it
        </button>
      ) : null}
    </div>
  );
}

export function CreateKeyForm({ org }: { org: string }) {
  return (
    <ActionForm action={createApiKey} success={(d) => <NewKey data={d} />} className="space-y-4" resetOnSuccess>
      <input type="hidden" name="org" value={org} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="key-name" label="Key name">
          <Input id="key-name" name="name" required placeholder="Zapier, website form, reporting script…" />
          <FieldError name="name" />
        </Field>
        <Field id="key-expires" label="Expires (optional)">
          <Input id="key-expires" name="expires" type="date" />
          <FieldError name="expires" />
        </Field>
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Scopes</legend>
        <div className="mt-2 grid gap-2 sm:grid-cols-2">
          {SCOPES.map(([scope, text]) => (
            <label key={scope} className="flex items-start gap-2 text-sm">
              <input type="checkbox" name="scopes" value={scope} defaultChecked={scope === "read"} className="mt-0.5" />
              <span>
                <span className="font-mono text-xs font-semibold">{scope}</span> <span className="text-slate-500">— {text}</span>
              </span>
            </label>
          ))}
        </div>
        <FieldError name="scopes" />
      </fieldset>
      <SubmitButton pendingText="Generating…">Generate key</SubmitButton>
    </ActionForm>
  );
}

export function RotateKeyForm({ org, id, label }: { org: string; id: string; label: string }) {
  return (
    <ActionForm
      action={rotateApiKey}
      refresh={false}
      success={(d) => <NewKey data={d} done />}
      className="flex flex-wrap items-center gap-2"
      confirm={`Rotate ${label}? A new key will be issued.`}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <Select name="grace" defaultValue="24h" aria-label={`Grace period for ${label}`} className="w-56">
        <option value="none">old key stops now</option>
        <option value="1h">old key works 1 hour</option>
        <option value="24h">old key works 24 hours</option>
        <option value="7d">old key works 7 days</option>
      </Select>
      <SubmitButton variant="secondary">Rotate</SubmitButton>
    </ActionForm>
  );
}

export function RevokeKeyForm({ org, id, label }: { org: string; id: string; label: string }) {
  return (
    <ActionForm action={revokeApiKey} className="inline" confirm={`Revoke ${label}? Requests with it are refused at once.`}>
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="danger">Revoke</SubmitButton>
    </ActionForm>
  );
}
