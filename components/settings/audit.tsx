"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input } from "@/components/ui/form";
import { updateAuditRetention } from "@/app/(app)/[org]/actions";

type Range = { min: number; max: number };
type Limits = { audit: Range; requests: Range; events: Range };

export function RetentionForm({
  org,
  auditDays,
  requestDays,
  eventDays,
  limits,
  editable,
}: {
  org: string;
  auditDays: number;
  requestDays: number;
  eventDays: number;
  limits: Limits;
  editable: boolean;
}) {
  if (!editable) {
    return (
      <p className="text-sm text-slate-600">
        Changes and settings: kept {auditDays} days. API and inbound request logs: kept {requestDays} days. Webhook events and delivery logs (the events feed
        reaches this far back): kept {eventDays} days. Only an owner can change this.
      </p>
    );
  }
  return (
    <ActionForm
      action={updateAuditRetention}
      className="flex flex-wrap items-end gap-4"
      success={() => <p className="w-full text-sm text-emerald-700">Saved. The next hourly run applies it.</p>}
    >
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
        <Input
          id="request-days"
          name="requestDays"
          type="number"
          min={limits.requests.min}
          max={limits.requests.max}
          defaultValue={requestDays}
          className="w-32"
        />
        <FieldError name="requestDays" />
      </div>
      <div className="space-y-1">
        <label htmlFor="event-days" className="block text-sm font-medium text-slate-700">
          Webhook events and deliveries (days)
        </label>
        <Input id="event-days" name="eventDays" type="number" min={limits.events.min} max={limits.events.max} defaultValue={eventDays} className="w-32" />
        <FieldError name="eventDays" />
      </div>
      <SubmitButton>Save retention</SubmitButton>
      <p className="w-full text-xs text-slate-500">
        GET /api/v1/events reaches back as far as webhook events are kept ({limits.events.min}–{limits.events.max} days).
      </p>
    </ActionForm>
  );
}
