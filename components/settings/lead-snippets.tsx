"use client";

import { useState } from "react";
import { ActionForm, SubmitButton } from "@/components/ui/action-form";
import { Field, Input, Select } from "@/components/ui/form";
import { Snippet, useFreshKey } from "@/components/ui/snippet";
import { NewKey } from "@/components/settings/api-keys";
import { createApiKey, updateLeadSettings } from "@/app/(app)/[org]/actions";
import { leadCurl, leadFetch, leadHtmlForm, redirectAllowed } from "@/lib/leads/snippets";

export interface LeadKey {
  id: string;
  name: string;
  prefix: string;
}

/**
 * The lead capture snippets, ready to paste: the key picked (or created here, leads scope only)
 * and the thank-you page are filled in; a thank-you page that is not on the allow-list is
 * flagged, with a button that adds its origin.
 */
export function LeadSnippets({ org, base, keys, origins, redirects }: { org: string; base: string; keys: LeadKey[]; origins: string[]; redirects: string[] }) {
  const fresh = useFreshKey("leads");
  const [picked, setPicked] = useState(keys.length === 1 ? keys[0]!.id : "");
  const [thanks, setThanks] = useState(redirects[0] ?? "");
  const pickedKey = keys.find((k) => k.id === picked);
  const keyValue = fresh ?? (pickedKey ? `${pickedKey.prefix}…` : null);
  const target = thanks.trim();
  let targetOrigin: string | null = null;
  try {
    targetOrigin = target ? new URL(target).origin : null;
  } catch {
    targetOrigin = null;
  }
  const refused = Boolean(target) && !redirectAllowed(target, redirects);

  return (
    <div className="space-y-4 text-sm">
      <div className="grid gap-4 md:grid-cols-2">
        <Field
          id="lead-key"
          label="API key in the snippets"
          hint={
            fresh
              ? "The key you just created is filled in: copy the snippets now, it is not shown again."
              : pickedKey
                ? "Smarfle keeps only a hash of a key: paste the full key you stored in place of its start."
                : "A key with only the leads scope can do nothing else, so it is safe in a public page."
          }
        >
          <Select id="lead-key" value={picked} onChange={(e) => setPicked(e.target.value)} disabled={Boolean(fresh)}>
            <option value="">{keys.length ? "Choose a leads key…" : "No leads key yet: create one →"}</option>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} ({k.prefix}…)
              </option>
            ))}
          </Select>
        </Field>
        <ActionForm action={createApiKey} refresh={false} success={(d) => <NewKey data={d} />} className="space-y-2 self-end">
          <input type="hidden" name="org" value={org} />
          <input type="hidden" name="name" value="Website form" />
          <input type="hidden" name="scopes" value="leads" />
          <SubmitButton variant="secondary" pendingText="Creating…">
            Create a leads key
          </SubmitButton>
        </ActionForm>
      </div>

      <Field id="lead-thanks" label="After sending, visitors go to (optional)" hint="The form's redirect_to. Leave it empty to show Smarfle's thank-you page.">
        <Input id="lead-thanks" value={thanks} onChange={(e) => setThanks(e.target.value)} placeholder="https://www.example.com/thanks" />
      </Field>
      {refused ? (
        <div role="alert" data-testid="redirect-refused" className="space-y-2 rounded-md bg-amber-50 px-3 py-2 text-amber-900 ring-1 ring-amber-200">
          <p>
            <span className="font-mono text-xs">{target}</span> is not on the allowed redirect URLs below: visitors would land on Smarfle&apos;s thank-you page
            instead.
          </p>
          {targetOrigin ? (
            <ActionForm action={updateLeadSettings} className="inline">
              <input type="hidden" name="org" value={org} />
              <input type="hidden" name="allowedOrigins" value={origins.join("\n")} />
              <input type="hidden" name="redirectUrls" value={[...redirects, targetOrigin].join("\n")} />
              <SubmitButton variant="secondary">Add {targetOrigin} to the allowed redirect URLs</SubmitButton>
            </ActionForm>
          ) : null}
        </div>
      ) : null}

      <p className="font-medium">A plain HTML form</p>
      <Snippet label="the HTML form" code={leadHtmlForm(base, target || null)} keyValue={keyValue} />
      <p className="font-medium">From JavaScript</p>
      <Snippet label="the JavaScript call" code={leadFetch(base)} keyValue={keyValue} />
      <p className="font-medium">Try it from a terminal</p>
      <Snippet label="the cURL command" code={leadCurl(base)} keyValue={keyValue} />
    </div>
  );
}
