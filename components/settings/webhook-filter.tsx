"use client";

import { useState } from "react";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select } from "@/components/ui/form";
import { previewWebhookFilter, updateWebhookFilter } from "@/app/(app)/[org]/actions";

type Condition = { field: string; op: string; value?: string | number | boolean | null };
type Op = { value: string; label: string; needsValue: boolean };
type Preview = { examined: number; matched: number; events: { id: string; type: string; created_at: string; matched: boolean }[] };

/**
 * The endpoint's filter: conditions over the event's data.* and previous.*, all of which must
 * hold. "Preview" runs them over the last 100 events of the endpoint's types without saving.
 */
export function FilterEditor({ org, id, initial, fields, ops }: { org: string; id: string; initial: Condition[]; fields: string[]; ops: Op[] }) {
  const [conditions, setConditions] = useState<Condition[]>(initial);
  const json = JSON.stringify(conditions);
  const set = (i: number, patch: Partial<Condition>) => setConditions((cs) => cs.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const needsValue = (op: string) => ops.find((o) => o.value === op)?.needsValue !== false;
  return (
    <div className="space-y-4">
      <ActionForm
        action={updateWebhookFilter}
        success={() => <p className="text-sm text-emerald-700">Saved. Events that do not match are not delivered.</p>}
        className="space-y-3"
      >
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="filter" value={json} />
        <datalist id="filter-fields">
          {fields.map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
        {conditions.length === 0 ? <p className="text-sm text-slate-600">No filter: every event of the endpoint&apos;s types is delivered.</p> : null}
        {conditions.map((c, i) => (
          <div key={i} className="flex flex-wrap items-start gap-2" data-testid="filter-condition">
            <div className="space-y-1">
              <Input
                aria-label={`Condition ${i + 1} field`}
                list="filter-fields"
                value={c.field}
                onChange={(e) => set(i, { field: e.target.value })}
                placeholder="data.status"
                className="w-56 font-mono text-xs"
              />
              <FieldError name={`filter.${i}.field`} />
            </div>
            <Select
              aria-label={`Condition ${i + 1} operator`}
              value={c.op}
              onChange={(e) => set(i, needsValue(e.target.value) ? { op: e.target.value } : { op: e.target.value, value: undefined })}
              className="w-40"
            >
              {ops.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </Select>
            {needsValue(c.op) ? (
              <div className="space-y-1">
                <Input
                  aria-label={`Condition ${i + 1} value`}
                  value={c.value === undefined || c.value === null ? "" : String(c.value)}
                  onChange={(e) => set(i, { value: e.target.value })}
                  className="w-40"
                />
                <FieldError name={`filter.${i}.value`} />
              </div>
            ) : null}
            <button
              type="button"
              onClick={() => setConditions((cs) => cs.filter((_, j) => j !== i))}
              className="rounded-md px-2 py-2 text-sm text-slate-500 hover:text-red-700"
            >
              Remove
            </button>
          </div>
        ))}
        <FieldError name="filter" exact />
        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            onClick={() => setConditions((cs) => [...cs, { field: "data.status", op: "equals", value: "" }])}
            className="rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50"
          >
            Add condition
          </button>
          <SubmitButton>Save conditions</SubmitButton>
        </div>
      </ActionForm>
      <ActionForm action={previewWebhookFilter} refresh={false} success={(data) => <PreviewResult preview={data as Preview} />} className="space-y-2">
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="filter" value={json} />
        <SubmitButton variant="secondary">Preview on the last 100 events</SubmitButton>
      </ActionForm>
    </div>
  );
}

function PreviewResult({ preview }: { preview: Preview }) {
  return (
    <div className="space-y-2" data-testid="filter-preview">
      <p className="text-sm text-slate-700">
        {preview.examined === 0 ? "No events of these types yet." : `${preview.matched} of the last ${preview.examined} events would have been delivered.`}
      </p>
      {preview.events.length ? (
        <ul className="max-h-64 divide-y divide-slate-100 overflow-y-auto rounded-md ring-1 ring-slate-200">
          {preview.events.map((e) => (
            <li key={e.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-1.5 text-xs">
              <span className="break-all font-mono">{e.id}</span>
              <span className="font-mono text-slate-500">{e.type}</span>
              <span className={e.matched ? "font-medium text-emerald-700" : "text-slate-400"}>{e.matched ? "delivered" : "filtered out"}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
