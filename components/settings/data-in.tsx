"use client";

import { useState } from "react";
import { ToggleAndDelete } from "@/components/ui/toggle-delete";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select, Textarea } from "@/components/ui/form";
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
  { target: "client", external_id: "customer.id", fields: { name: "customer.first_name", email: { from: "customer.email", transform: "lower" }, phone: "customer.phone", status: { value: "active" } } },
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

export function CreateSourceForm({ org }: { org: string }) {
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
            Signature
          </label>
          <Select id="source-kind" name="kind" defaultValue="shopify">
            <option value="shopify">Shopify-style: X-Shopify-Hmac-Sha256 (base64)</option>
            <option value="hmac_sha256_hex">Generic HMAC: X-Signature (hex)</option>
            <option value="standard_webhooks">Standard Webhooks (webhook-signature)</option>
          </Select>
        </div>
      </div>
      <MappingEditor org={org} initial={SAMPLE_MAPPING} />
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

export function SourceSecret({ org, id }: { org: string; id: string }) {
  return (
    <ActionForm
      action={revealSourceSecret}
      refresh={false}
      success={(d) => <SecretReveal secret={(d as { secret: string }).secret} label="source secret" />}
      className="space-y-2"
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="secondary">Reveal secret</SubmitButton>
    </ActionForm>
  );
}

export function SourceControls({ org, id, enabled }: { org: string; id: string; enabled: boolean }) {
  return (
    <div className="flex gap-2">
      <ToggleAndDelete org={org} id={id} on={enabled} toggle={updateSource} remove={deleteSource} confirmDelete="Delete this source and its request log?" afterDelete={`/${org}/settings/inbound`} />
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
      <MappingEditor org={org} initial={JSON.stringify({ target: "client", external_id: "id", fields: { name: "name", email: "email" } }, null, 2)} initialSample={CONNECTOR_SAMPLE} />
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
      <ToggleAndDelete org={org} id={id} on={active} toggle={updateConnector} remove={deleteConnector} labels={["Pause", "Resume"]} confirmDelete="Delete this connector and its run log?" afterDelete={`/${org}/settings/connectors`} />
    </div>
  );
}
