"use client";

import { useState } from "react";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select, Textarea } from "@/components/ui/form";
import { SecretReveal } from "@/components/ui/secret-reveal";
import { formatDateTime } from "@/components/ui/dates";
import {
  createWebhook,
  deleteWebhook,
  redeliverFailedWebhooks,
  redeliverWebhook,
  revealWebhookSecret,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhook,
  updateWebhookDelivery,
} from "@/app/(app)/[org]/actions";

function EventChoices({ events, selected }: { events: readonly string[]; selected: string[] }) {
  const [all, setAll] = useState(selected.length === 0);
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700">Events</legend>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="events" value="all" checked={all} onChange={(e) => setAll(e.target.checked)} /> All events
      </label>
      {!all ? (
        <div className="grid gap-1 pl-6 sm:grid-cols-2">
          {events.map((e) => (
            <label key={e} className="flex items-center gap-2 font-mono text-xs">
              <input type="checkbox" name="events" value={e} defaultChecked={selected.includes(e)} /> {e}
            </label>
          ))}
        </div>
      ) : null}
    </fieldset>
  );
}

/** The URL as the server stores it, near enough to spot a second subscription of the same receiver. */
const sameUrl = (a: string, b: string) => {
  try {
    return new URL(a.trim()).toString() === new URL(b).toString();
  } catch {
    return false;
  }
};

export function AddEndpointForm({ org, events, subscribed }: { org: string; events: readonly string[]; subscribed: string[] }) {
  const [url, setUrl] = useState("");
  const already = subscribed.filter((s) => sameUrl(url, s)).length;
  return (
    <ActionForm action={createWebhook} redirectTo={`/${org}/settings/webhooks/{id}`} className="space-y-4">
      <input type="hidden" name="org" value={org} />
      <div className="grid gap-4 sm:grid-cols-2">
        <div className="space-y-1">
          <label htmlFor="endpoint-url" className="block text-sm font-medium text-slate-700">
            Endpoint URL
          </label>
          <Input
            id="endpoint-url"
            name="url"
            type="url"
            required
            placeholder="https://example.com/hooks/smarfle"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
          <FieldError name="url" />
          {already ? (
            <p className="text-xs text-amber-700" role="status" data-testid="already-subscribed">
              This URL is already subscribed ({already} endpoint{already === 1 ? "" : "s"}). With the same events it opens that endpoint; with other events
              every matching event is sent to it once per endpoint.
            </p>
          ) : null}
        </div>
        <div className="space-y-1">
          <label htmlFor="endpoint-description" className="block text-sm font-medium text-slate-700">
            Description
          </label>
          <Input id="endpoint-description" name="description" placeholder="What receives these events" />
        </div>
      </div>
      <EventChoices events={events} selected={[]} />
      <FieldError name="event_types" />
      <SubmitButton>Add endpoint</SubmitButton>
    </ActionForm>
  );
}

export function EndpointEvents({ org, id, events, selected }: { org: string; id: string; events: readonly string[]; selected: string[] }) {
  return (
    <ActionForm action={updateWebhook} success={() => <p className="text-sm text-emerald-700">Saved.</p>} className="space-y-3">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <input type="hidden" name="setEvents" value="1" />
      <EventChoices events={events} selected={selected} />
      <SubmitButton variant="secondary">Save events</SubmitButton>
    </ActionForm>
  );
}

export function ToggleEndpoint({ org, id, enabled }: { org: string; id: string; enabled: boolean }) {
  return (
    <ActionForm action={updateWebhook} className="inline">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <input type="hidden" name="enabled" value={enabled ? "false" : "true"} />
      <SubmitButton variant="secondary">{enabled ? "Disable" : "Enable"}</SubmitButton>
    </ActionForm>
  );
}

export function DeleteEndpoint({ org, id }: { org: string; id: string }) {
  return (
    <ActionForm action={deleteWebhook} redirectTo={`/${org}/settings/webhooks`} className="inline" confirm="Delete this endpoint and its delivery log?">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="danger">Delete</SubmitButton>
    </ActionForm>
  );
}

export function RevealSecret({ org, id }: { org: string; id: string }) {
  return (
    <ActionForm
      action={revealWebhookSecret}
      className="space-y-2"
      success={(d) => {
        const { secret, previous } = d as { secret: string; previous: { secret: string; expires_at: string } | null };
        return (
          <div className="space-y-1">
            <SecretReveal secret={secret} testId="webhook-secret" label="signing secret" />
            {previous ? <p className="text-xs text-slate-500">The previous secret also signs until {formatDateTime(previous.expires_at)}.</p> : null}
          </div>
        );
      }}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="secondary">Reveal signing secret</SubmitButton>
    </ActionForm>
  );
}

export function RotateSecret({ org, id }: { org: string; id: string }) {
  return (
    <ActionForm
      action={rotateWebhookSecret}
      className="flex flex-wrap items-center gap-2"
      confirm="Rotate the signing secret?"
      success={(d) => {
        const { secret } = d as { secret: string };
        return <SecretReveal secret={secret} fresh label="new signing secret" />;
      }}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <Select name="grace" defaultValue="24h" aria-label="Grace period" className="w-56">
        <option value="none">old secret stops now</option>
        <option value="1h">both sign for 1 hour</option>
        <option value="24h">both sign for 24 hours</option>
        <option value="7d">both sign for 7 days</option>
      </Select>
      <SubmitButton variant="secondary">Rotate secret</SubmitButton>
    </ActionForm>
  );
}

export function SendTest({ org, id, events }: { org: string; id: string; events: readonly string[] }) {
  return (
    <ActionForm
      action={sendTestWebhook}
      className="space-y-3"
      success={(d) => {
        const r = d as { status: number | null; durationMs: number; succeeded: boolean; error: string | null };
        return (
          <div
            data-testid="test-result"
            className={`rounded-md px-3 py-2 text-sm ring-1 ${r.succeeded ? "bg-emerald-50 text-emerald-800 ring-emerald-200" : "bg-red-50 text-red-800 ring-red-200"}`}
          >
            {r.succeeded ? "Delivered" : "Failed"}: {r.status !== null ? `HTTP ${r.status}` : (r.error ?? "no response")} in {r.durationMs} ms
            {!r.succeeded && r.status !== null && r.error ? ` — ${r.error}` : ""}
          </div>
        );
      }}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <div className="flex flex-wrap items-center gap-2">
        <Select name="eventType" defaultValue="client_created" aria-label="Test event type" className="w-64 font-mono text-xs">
          {events.map((e) => (
            <option key={e}>{e}</option>
          ))}
        </Select>
        <SubmitButton pendingText="Sending…">Send test event</SubmitButton>
      </div>
    </ActionForm>
  );
}

export function Redeliver({ org, deliveryId }: { org: string; deliveryId: string }) {
  return (
    <ActionForm action={redeliverWebhook} className="inline" success={() => <span className="mr-2 text-xs text-emerald-700">Queued</span>}>
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="deliveryId" value={deliveryId} />
      <SubmitButton variant="secondary">Re-deliver</SubmitButton>
    </ActionForm>
  );
}

export function RedeliverFailed({ org, id, weekAgo }: { org: string; id: string; weekAgo: string }) {
  return (
    <ActionForm
      action={redeliverFailedWebhooks}
      className="flex flex-wrap items-center gap-2"
      success={(d) => <span className="text-sm text-emerald-700">{(d as { count: number }).count} deliveries queued again.</span>}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <label htmlFor="since" className="text-sm text-slate-600">
        Every failed delivery since
      </label>
      <Input id="since" name="since" type="date" defaultValue={weekAgo} className="w-40" />
      <SubmitButton variant="secondary">Re-deliver failed</SubmitButton>
    </ActionForm>
  );
}

export interface DeliverySettingsValue {
  rateLimit: number | null;
  ordering: "none" | "per_record";
  headerNames: string[];
  auth: { type: "none" | "bearer" | "basic" | "oauth2"; username?: string; token_url?: string; client_id?: string; scope?: string | null };
}

/** Rate, ordering, custom headers and receiver auth. Stored secrets are never sent to the browser. */
export function DeliverySettings({ org, id, value }: { org: string; id: string; value: DeliverySettingsValue }) {
  const [authType, setAuthType] = useState<"keep" | "none" | "bearer" | "basic" | "oauth2">("keep");
  const shown = authType === "keep" ? value.auth.type : authType;
  return (
    <ActionForm action={updateWebhookDelivery} success={() => <p className="text-sm text-emerald-700">Saved.</p>} className="space-y-3">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <div className="grid gap-3 sm:grid-cols-2">
        <div className="space-y-1">
          <label htmlFor="rate-limit" className="block text-sm font-medium text-slate-700">
            Rate limit (deliveries per second)
          </label>
          <Input id="rate-limit" name="rateLimit" type="number" min={1} max={1000} step={1} placeholder="no limit" defaultValue={value.rateLimit ?? ""} />
          <FieldError name="rate_limit" />
        </div>
        <div className="space-y-1">
          <label htmlFor="ordering" className="block text-sm font-medium text-slate-700">
            Ordering
          </label>
          <Select id="ordering" name="ordering" defaultValue={value.ordering}>
            <option value="none">None (fastest)</option>
            <option value="per_record">Per record, in version order</option>
          </Select>
        </div>
      </div>
      <div className="space-y-1">
        <label htmlFor="custom-headers" className="block text-sm font-medium text-slate-700">
          Custom headers
        </label>
        <p className="text-xs text-slate-500">
          {value.headerNames.length ? (
            <>
              Sent now: <span className="font-mono">{value.headerNames.join(", ")}</span> (values hidden). Leave blank to keep them; anything typed replaces
              them all.
            </>
          ) : (
            "One per line, as Name: value. Stored encrypted; only names are shown."
          )}
        </p>
        <Textarea id="custom-headers" name="headers" rows={3} className="font-mono text-xs" placeholder="X-Api-Key: …" />
        {value.headerNames.length ? (
          <label className="flex items-center gap-2 text-xs text-slate-600">
            <input type="checkbox" name="clearHeaders" value="1" /> Remove all custom headers
          </label>
        ) : null}
        <FieldError name="headers" />
      </div>
      <div className="space-y-2">
        <label htmlFor="auth-type" className="block text-sm font-medium text-slate-700">
          Receiver authentication
        </label>
        <Select id="auth-type" name="authType" value={authType} onChange={(e) => setAuthType(e.target.value as typeof authType)}>
          <option value="keep">Keep current ({value.auth.type === "none" ? "none" : value.auth.type === "oauth2" ? "OAuth 2.0" : value.auth.type})</option>
          <option value="none">None</option>
          <option value="bearer">Bearer token</option>
          <option value="basic">Basic auth</option>
          <option value="oauth2">OAuth 2.0 client credentials</option>
        </Select>
        {authType === "bearer" ? <Input aria-label="Bearer token" name="token" type="password" autoComplete="off" placeholder="token" /> : null}
        {authType === "basic" ? (
          <div className="grid gap-2 sm:grid-cols-2">
            <Input aria-label="Username" name="username" autoComplete="off" placeholder="username" defaultValue={value.auth.username ?? ""} />
            <Input aria-label="Password" name="password" type="password" autoComplete="off" placeholder="password" />
          </div>
        ) : null}
        {authType === "oauth2" ? (
          <div className="grid gap-2 sm:grid-cols-2">
            <Input
              aria-label="Token URL"
              name="tokenUrl"
              placeholder="https://auth.example.com/oauth/token"
              defaultValue={value.auth.token_url ?? ""}
              className="sm:col-span-2"
            />
            <Input aria-label="Client ID" name="clientId" autoComplete="off" placeholder="client id" defaultValue={value.auth.client_id ?? ""} />
            <Input aria-label="Client secret" name="clientSecret" type="password" autoComplete="off" placeholder="client secret" />
            <Input aria-label="Scope" name="scope" placeholder="scope (optional)" defaultValue={value.auth.scope ?? ""} className="sm:col-span-2" />
          </div>
        ) : null}
        {authType === "keep" && shown !== "none" ? (
          <p className="text-xs text-slate-500">The stored secret is never shown. Pick the same kind again to replace it.</p>
        ) : null}
        <FieldError name="auth" />
      </div>
      <SubmitButton variant="secondary">Save delivery settings</SubmitButton>
    </ActionForm>
  );
}
