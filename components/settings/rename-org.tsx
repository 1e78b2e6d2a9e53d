"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Field, Input } from "@/components/ui/form";
import { renameOrganization } from "@/app/(app)/[org]/actions";

/** The organization's name; its address (the slug) does not change with it. */
export function RenameOrgForm({ org, name }: { org: string; name: string }) {
  return (
    <ActionForm action={renameOrganization} success={() => <p className="text-sm text-emerald-700">Renamed.</p>} className="space-y-3">
      <input type="hidden" name="org" value={org} />
      <Field id="org-name" label="Organization name" hint="Links keep working: the address stays the same.">
        <Input id="org-name" name="name" defaultValue={name} required maxLength={100} />
        <FieldError name="name" />
      </Field>
      <SubmitButton variant="secondary">Rename</SubmitButton>
    </ActionForm>
  );
}
