"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input } from "@/components/ui/form";
import { updateAuditRetention } from "@/app/(app)/[org]/actions";

type Limits = { audit: { min: number; max: number }; requests: { min: number; max: number } };

export function RetentionForm({ org, auditDays, requestDays, limits, editable }: { org: string; auditDays: number; requestDays: number; limits: Limits; editable: boolean }) {
  if (!editable) {
    return (
      <p className="text-sm text-slate-600">
        Changes and settings: kept {auditDays} days. API and inbound request logs: kept {requestDays} days. Webhook delivery logs: 30 days. Only an owner can change this.
      </p>
    );
  }
  return (
    <ActionForm action={updateAuditRetention} className="flex flex-wrap items-end gap-4" success={() => <p className="w-full text-sm text-emerald-700">Saved. The next hourly run applies it.</p>}>
      <input type="hidden" name="org" value={org} />
      <div className="space-y-1">
        <label htmlFor="audit-days" className="block text-sm font-medium text-slate-700">
          Changes and settings (days)
        </label>
        <Input id="audit-days" name="auditDays" type="number" min={limits.audit.min} max={limits.audit.max} defaultValue={auditDays} className="w-32" />
        <FieldError name="auditDays" />
      </div>
      <div className="space-y-1">
        <label htmlFor="request-days" className="block text-sm font-medium text-slate-700">
          API and inbound requests (days)
        </label>
        <Input id="request-days" name="requestDays" type="number" min={limits.requests.min} max={limits.requests.max} defaultValue={requestDays} className="w-32" />
        <FieldError name="requestDays" />
      </div>
      <SubmitButton>Save retention</SubmitButton>
      <p className="w-full text-xs text-slate-500">Webhook delivery logs are kept 30 days.</p>
    </ActionForm>
  );
}
