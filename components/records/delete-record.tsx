"use client";

import { ActionForm, SubmitButton } from "@/components/ui/action-form";
import { deleteRecord } from "@/app/(app)/[org]/actions";

export function DeleteRecord({ org, type, id, listPath, label }: { org: string; type: string; id: string; listPath: string; label: string }) {
  return (
    <ActionForm action={deleteRecord} redirectTo={listPath} className="inline" confirm={`Delete this ${label}? This cannot be undone.`}>
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="type" value={type} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="danger">Delete</SubmitButton>
    </ActionForm>
  );
}
