"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Field, Textarea } from "@/components/ui/form";
import { updateLeadSettings } from "@/app/(app)/[org]/actions";

export function LeadSettingsForm({ org, origins, redirects }: { org: string; origins: string[]; redirects: string[] }) {
  return (
    <ActionForm action={updateLeadSettings} success={() => <p className="text-sm text-emerald-700">Saved.</p>} className="space-y-4">
      <input type="hidden" name="org" value={org} />
      <Field id="allowed-origins" label="Allowed origins" hint="One per line. Browsers on other sites are refused. Empty: any site may post (server-to-server posts have no origin and are always accepted).">
        <Textarea id="allowed-origins" name="allowedOrigins" rows={3} defaultValue={origins.join("\n")} placeholder="https://www.example.com" />
        <FieldError name="allowedOrigins" />
      </Field>
      <Field id="redirect-urls" label="Allowed redirect URLs" hint="Where a form may send visitors afterwards (its redirect_to must start with one of these). Otherwise they see a thank-you page.">
        <Textarea id="redirect-urls" name="redirectUrls" rows={3} defaultValue={redirects.join("\n")} placeholder="https://www.example.com/thanks" />
        <FieldError name="redirectUrls" />
      </Field>
      <SubmitButton>Save</SubmitButton>
    </ActionForm>
  );
}
