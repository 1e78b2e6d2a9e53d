"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input } from "@/components/ui/form";
import { CopyButton } from "@/components/ui/copy-button";
import { SourceSecret } from "@/components/settings/data-in";
import { createLeadChannel } from "@/app/(app)/[org]/actions";

export interface ChannelSource {
  id: string;
  name: string;
  kind: "google_ads_leads" | "meta_lead_ads";
  url: string;
  verifyToken: string | null;
}

function Copyable({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="space-y-1">
      <p className="text-xs font-medium text-slate-500">{label}</p>
      <div className="flex items-center gap-2">
        <code data-testid={testId} className="min-w-0 flex-1 overflow-x-auto whitespace-nowrap rounded bg-slate-100 px-2 py-1 font-mono text-xs">
          {value}
        </code>
        <CopyButton text={value} />
      </div>
    </div>
  );
}

export const GOOGLE_STEPS = [
  "In Google Ads, open the campaign's lead form asset and go to Lead delivery options → Webhook integration.",
  "Paste the Webhook URL below.",
  "Paste the Key below.",
  "Click Send test data: a test lead arrives, marked as a test, and notifies nobody.",
];

export const META_STEPS = [
  "In your Meta app (developers.facebook.com), add the Webhooks product and choose Page.",
  "Subscribe with the Callback URL and Verify token below, then subscribe to the leadgen field.",
  "Subscribe the app to your page; leads are then fetched with the page access token you gave here.",
  "Try it with Meta's Lead Ads Testing Tool: the lead appears here within seconds.",
];

function Steps({ steps }: { steps: string[] }) {
  return (
    <ol className="list-decimal space-y-1 pl-5 text-sm text-slate-600">
      {steps.map((s) => (
        <li key={s}>{s}</li>
      ))}
    </ol>
  );
}

/** One channel's sources (URL, key or verify token) and the form that adds one. */
export function LeadChannel({ org, base, kind, sources }: { org: string; base: string; kind: ChannelSource["kind"]; sources: ChannelSource[] }) {
  const google = kind === "google_ads_leads";
  return (
    <div className="space-y-4">
      <Steps steps={google ? GOOGLE_STEPS : META_STEPS} />
      {sources.map((s) => (
        <div key={s.id} className="space-y-2 rounded-md p-3 ring-1 ring-slate-200" data-testid="lead-channel-source">
          <p className="text-sm font-medium">{s.name}</p>
          <Copyable label={google ? "Webhook URL" : "Callback URL"} value={s.url} />
          {google ? <SourceSecret org={org} id={s.id} label="Show key" /> : <Copyable label="Verify token" value={s.verifyToken ?? ""} />}
        </div>
      ))}
      <ActionForm
        action={createLeadChannel}
        resetOnSuccess
        success={(d) => {
          const r = d as { id: string; key: string | null; verifyToken: string | null };
          const url = `${base}/api/inbound/${r.id}`;
          return (
            <div className="space-y-2 rounded-md bg-emerald-50 p-3 ring-1 ring-emerald-200">
              <p className="text-sm text-emerald-800">
                Created. Paste these into {google ? "Google Ads" : "Meta"}
                {google ? " (the key is shown again on demand)" : ""}:
              </p>
              <Copyable label={google ? "Webhook URL" : "Callback URL"} value={url} testId="channel-url" />
              {r.key ? <Copyable label="Key" value={r.key} testId="channel-key" /> : null}
              {r.verifyToken ? <Copyable label="Verify token" value={r.verifyToken} testId="channel-verify-token" /> : null}
            </div>
          );
        }}
        className="space-y-3"
      >
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="kind" value={kind} />
        <div className="grid gap-3 sm:grid-cols-2">
          <div className="space-y-1">
            <label htmlFor={`${kind}-name`} className="block text-sm font-medium text-slate-700">
              Name
            </label>
            <Input id={`${kind}-name`} name="name" required placeholder={google ? "Spring campaign form" : "Facebook page"} />
            <FieldError name="name" />
          </div>
          {google ? null : (
            <>
              <div className="space-y-1">
                <label htmlFor="meta-secret" className="block text-sm font-medium text-slate-700">
                  App secret
                </label>
                <Input id="meta-secret" name="secret" required autoComplete="off" />
                <FieldError name="secret" />
              </div>
              <div className="space-y-1 sm:col-span-2">
                <label htmlFor="meta-token" className="block text-sm font-medium text-slate-700">
                  Page access token
                </label>
                <Input id="meta-token" name="page_access_token" required autoComplete="off" />
                <FieldError name="page_access_token" />
              </div>
            </>
          )}
        </div>
        <SubmitButton variant="secondary">{google ? "Add a Google Ads lead form" : "Connect a Meta page"}</SubmitButton>
      </ActionForm>
    </div>
  );
}
