"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Field, Input, Textarea } from "@/components/ui/form";
import { updateLeadSettings } from "@/app/(app)/[org]/actions";

export function LeadSettingsForm({
  org,
  origins,
  redirects,
  merge,
  country,
}: {
  org: string;
  origins: string[];
  redirects: string[];
  merge: boolean;
  country: string | null;
}) {
  return (
    <ActionForm action={updateLeadSettings} success={() => <p className="text-sm text-emerald-700">Saved.</p>} className="space-y-4">
      <input type="hidden" name="org" value={org} />
      <Field
        id="allowed-origins"
        label="Allowed origins"
        hint="One per line. Browsers on other sites are refused. Empty: any site may post (server-to-server posts have no origin and are always accepted)."
      >
        <Textarea id="allowed-origins" name="allowedOrigins" rows={3} defaultValue={origins.join("\n")} placeholder="https://www.example.com" />
        <FieldError name="allowedOrigins" />
      </Field>
      <Field
        id="redirect-urls"
        label="Allowed redirect URLs"
        hint="Where a form may send visitors afterwards (its redirect_to must start with one of these). Otherwise they see a thank-you page."
      >
        <Textarea id="redirect-urls" name="redirectUrls" rows={3} defaultValue={redirects.join("\n")} placeholder="https://www.example.com/thanks" />
        <FieldError name="redirectUrls" />
      </Field>
      <div className="space-y-1">
        <label className="flex items-center gap-2 text-sm font-medium text-slate-700">
          <input type="checkbox" name="merge" defaultChecked={merge} className="rounded border-slate-300" />
          Merge repeat leads
        </label>
        <p className="text-xs text-slate-500">
          A lead whose email or phone matches a client is added to that client&apos;s lead history (and the team is told it returned) instead of becoming a
          second client.
        </p>
      </div>
      <Field
        id="default-country"
        label="Default country for phone numbers"
        hint="Two letters (US, GB, DE…): how a number written without +country code is read when matching leads and imports."
      >
        <Input id="default-country" name="defaultCountry" defaultValue={country ?? ""} maxLength={2} placeholder="US" className="w-24 uppercase" />
        <FieldError name="defaultCountry" />
      </Field>
      <SubmitButton>Save</SubmitButton>
    </ActionForm>
  );
}
