"use client";

import { useState } from "react";
import { ToggleAndDelete } from "@/components/ui/toggle-delete";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select, Textarea } from "@/components/ui/form";
import type { InboundKind } from "@/db/schema";
import { PRESETS } from "@/lib/inbound/presets";
import { SecretReveal } from "@/components/ui/secret-reveal";
import { buttonClass } from "@/components/ui/button";
import {
  createConnector,
  createSource,
  deleteConnector,
  deleteSource,
  previewMapping,
  reprocessInbound,
  revealSourceSecret,
  runConnector,
  updateConnector,
  updateSource,
} from "@/app/(app)/[org]/actions";

export const SAMPLE_MAPPING = JSON.stringify(
  {
    target: "client",
    external_id: "customer.id",
    fields: { name: "customer.first_name", email: { from: "customer.email", transform: "lower" }, phone: "customer.phone", status: { value: "active" } },
  },
  null,
  2,
);

/** A mapping textarea with a live preview against a pasted sample payload. */
const INBOUND_SAMPLE = '{"customer": {"id": 42, "first_name": "Ada", "email": "ADA@example.com", "phone": "555-0100"}}';
/** One item of a feed: what the connector's default mapping reads, so its preview works out of the box. */
const CONNECTOR_SAMPLE = '{"id": 42, "name": "Ada Lovelace", "email": "ada@example.com"}';

function MappingEditor({ org, initial, initialSample = INBOUND_SAMPLE }: { org: string; initial: string; initialSample?: string }) {
  const [mapping, setMapping] = useState(initial);
  const [sample, setSample] = useState(initialSample);
  const [preview, setPreview] = useState<string | null>(null);
  async function run() {
    const fd = new FormData();
    fd.set("org", org);
    fd.set("mapping", mapping);
    fd.set("sample", sample);
    const r = await previewMapping(null, fd);
    setPreview(r?.ok ? JSON.stringify(r.data, null, 2) : `${r?.error.message} ${r?.error.details.map((d) => `${d.path}: ${d.message}`).join("; ") ?? ""}`);
  }
  return (
    <div className="grid gap-3 lg:grid-cols-2">
      <div className="space-y-1">
        <label htmlFor="mapping" className="block text-sm font-medium text-slate-700">
          Mapping (JSON)
        </label>
        <Textarea id="mapping" name="mapping" rows={10} value={mapping} onChange={(e) => setMapping(e.target.value)} className="font-mono text-xs" />
        <FieldError name="mapping" />
        <p className="text-xs text-slate-500">
          Per field: a path (dots and [n]) or {"{from, transform, map, default, value}"}; transforms: trim, lower, upper, number, date, boolean.
        </p>
      </div>
      <div className="space-y-1">
        <label htmlFor="sample" className="block text-sm font-medium text-slate-700">
          Sample payload
        </label>
        <Textarea id="sample" rows={4} value={sample} onChange={(e) => setSample(e.target.value)} className="font-mono text-xs" />
        <button type="button" onClick={run} className={buttonClass("secondary")}>
          Preview
        </button>
        {preview ? <pre className="overflow-x-auto rounded-md bg-slate-900 px-3 py-2 text-xs text-slate-100">{preview}</pre> : null}
      </div>
    </div>
  );
}

/** The kinds created here: the lead channels have their own page (Settings → Lead capture). */
const SIGNED_KINDS = (Object.keys(PRESETS) as InboundKind[]).filter((k) => !PRESETS[k].lead);
const KIND_HINTS: Partial<Record<InboundKind, string>> = {
  shopify: "X-Shopify-Hmac-Sha256 (base64)",
  hmac_sha256_hex: "X-Signature (hex)",
  standard_webhooks: "webhook-signature",
  stripe: "Stripe-Signature",
  github: "X-Hub-Signature-256",
  typeform: "Typeform-Signature",
  calendly: "Calendly-Webhook-Signature",
  basic_auth: "Authorization: Basic",
  header_secret: "X-Webhook-Secret",
};
const presetMapping = (kind: InboundKind) => {
  const preset = PRESETS[kind].mappings[0]?.mapping;
  return preset ? JSON.stringify(preset, null, 2) : SAMPLE_MAPPING;
};

export function CreateSourceForm({ org }: { org: string }) {
  const [kind, setKind] = useState<InboundKind>("shopify");
  const preset = PRESETS[kind];
  return (
    <ActionForm action={createSource} redirectTo={`/${org}/settings/inbound/{id}`} className="space-y-4">
      <input type="hidden" name="org" value={org} />
      <div className="grid gap-4 sm:grid-cols-2">
        <div className="space-y-1">
          <label htmlFor="source-name" className="block text-sm font-medium text-slate-700">
            Name
          </label>
          <Input id="source-name" name="name" required placeholder="Shopify orders" />
          <FieldError name="name" />
        </div>
        <div className="space-y-1">
          <label htmlFor="source-kind" className="block text-sm font-medium text-slate-700">
            Sender
          </label>
          <Select id="source-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value as InboundKind)}>
            {SIGNED_KINDS.map((k) => (
              <option key={k} value={k}>
                {PRESETS[k].label}: {KIND_HINTS[k]}
              </option>
            ))}
          </Select>
        </div>
      </div>
      {preset.secret !== "generated" ? (
        <div className="space-y-1">
          <label htmlFor="source-secret" className="block text-sm font-medium text-slate-700">
            {preset.label} signing secret{preset.secret === "either" ? " (optional: leave empty and Smarfle makes one)" : ""}
          </label>
          <Input id="source-secret" name="secret" required={preset.secret === "provided"} autoComplete="off" />
          <FieldError name="secret" />
        </div>
      ) : null}
      {preset.mappings.length > 1 ? (
        <p className="text-xs text-slate-500">
          Starts with the {preset.mappings[0]!.label} mapping; for{" "}
          {preset.mappings
            .slice(1)
            .map((m) => m.label)
            .join(", ")}{" "}
          create a second source and paste that mapping from the README.
        </p>
      ) : null}
      <MappingEditor key={kind} org={org} initial={presetMapping(kind)} />
      <SubmitButton>Create source</SubmitButton>
    </ActionForm>
  );
}

export function SourceMappingForm({ org, id, mapping }: { org: string; id: string; mapping: string }) {
  return (
    <ActionForm action={updateSource} success={() => <p className="text-sm text-emerald-700">Saved.</p>} className="space-y-3">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <MappingEditor org={org} initial={mapping} />
      <SubmitButton variant="secondary">Save mapping</SubmitButton>
    </ActionForm>
  );
}

export function SourceSecret({ org, id, label = "Reveal secret" }: { org: string; id: string; label?: string }) {
  return (
    <ActionForm
      action={revealSourceSecret}
      refresh={false}
      success={(d) => <SecretReveal secret={(d as { secret: string }).secret} label="source secret" />}
      className="space-y-2"
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="secondary">{label}</SubmitButton>
    </ActionForm>
  );
}

export function SourceControls({ org, id, enabled }: { org: string; id: string; enabled: boolean }) {
  return (
    <div className="flex gap-2">
      <ToggleAndDelete
        org={org}
        id={id}
        on={enabled}
        toggle={updateSource}
        remove={deleteSource}
        confirmDelete="Delete this source and its request log?"
        afterDelete={`/${org}/settings/inbound`}
      />
    </div>
  );
}

export function Reprocess({ org, requestId }: { org: string; requestId: string }) {
  return (
    <ActionForm action={reprocessInbound} className="inline">
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="requestId" value={requestId} />
      <SubmitButton variant="secondary">Process again</SubmitButton>
    </ActionForm>
  );
}

export function CreateConnectorForm({ org }: { org: string }) {
  return (
    <ActionForm action={createConnector} redirectTo={`/${org}/settings/connectors/{id}`} className="space-y-4">
      <input type="hidden" name="org" value={org} />
      <div className="grid gap-4 sm:grid-cols-2">
        <div className="space-y-1">
          <label htmlFor="con-name" className="block text-sm font-medium text-slate-700">
            Name
          </label>
          <Input id="con-name" name="name" required placeholder="Booking system" />
          <FieldError name="name" />
        </div>
        <div className="space-y-1">
          <label htmlFor="con-url" className="block text-sm font-medium text-slate-700">
            URL
          </label>
          <Input id="con-url" name="url" type="url" required placeholder="https://api.example.com/customers" />
          <FieldError name="url" />
        </div>
        <div className="space-y-1">
          <label htmlFor="con-header-name" className="block text-sm font-medium text-slate-700">
            Credentials header
          </label>
          <div className="flex gap-2">
            <Input id="con-header-name" name="headerName" placeholder="Authorization" className="w-40" />
            <Input aria-label="Header value" name="headerValue" type="password" placeholder="Bearer …" />
          </div>
          <p className="text-xs text-slate-500">Stored encrypted; never shown again.</p>
        </div>
        <div className="space-y-1">
          <label htmlFor="con-interval" className="block text-sm font-medium text-slate-700">
            Every (minutes)
          </label>
          <Input id="con-interval" name="intervalMinutes" type="number" min={5} max={1440} defaultValue={60} />
          <FieldError name="interval_minutes" />
        </div>
        <div className="space-y-1">
          <label htmlFor="con-path" className="block text-sm font-medium text-slate-700">
            Path to the records
          </label>
          <Input id="con-path" name="recordsPath" placeholder="data.items (empty: the response is the list)" />
        </div>
        <div className="space-y-1">
          <label htmlFor="con-pagination" className="block text-sm font-medium text-slate-700">
            Pagination
          </label>
          <Select id="con-pagination" name="pagination" defaultValue='{"type":"none"}'>
            <option value='{"type":"none"}'>none: one request</option>
            <option value='{"type":"next_url","path":"next"}'>next page URL in the body (next)</option>
            <option value='{"type":"cursor","param":"cursor","path":"next_cursor"}'>cursor (next_cursor → ?cursor=)</option>
            <option value='{"type":"updated_since","param":"updated_since","field":"updated_at"}'>only changes (?updated_since= highest updated_at)</option>
          </Select>
          <FieldError name="pagination" />
        </div>
      </div>
      <MappingEditor
        org={org}
        initial={JSON.stringify({ target: "client", external_id: "id", fields: { name: "name", email: "email" } }, null, 2)}
        initialSample={CONNECTOR_SAMPLE}
      />
      <SubmitButton>Create connector</SubmitButton>
    </ActionForm>
  );
}

export function ConnectorControls({ org, id, active }: { org: string; id: string; active: boolean }) {
  return (
    <div className="flex flex-wrap gap-2">
      <ActionForm
        action={runConnector}
        className="inline"
        success={() => <span className="mr-2 text-sm">Run queued: it starts in a moment, and the run log below shows how it went.</span>}
      >
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <SubmitButton pendingText="Running…">Run now</SubmitButton>
      </ActionForm>
      <ToggleAndDelete
        org={org}
        id={id}
        on={active}
        toggle={updateConnector}
        remove={deleteConnector}
        labels={["Pause", "Resume"]}
        confirmDelete="Delete this connector and its run log?"
        afterDelete={`/${org}/settings/connectors`}
      />
    </div>
  );
}
