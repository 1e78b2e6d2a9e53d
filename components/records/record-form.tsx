"use client";

import { useState } from "react";
import type { FieldDef } from "@/lib/records/registry";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select, Textarea } from "@/components/ui/form";
import { createRecord, updateRecord } from "@/app/(app)/[org]/actions";

export interface ReferenceOptions {
  [field: string]: { id: string; title: string }[];
}

/** `2026-12-01T09:00:00.000Z` → the value a datetime-local input shows, in the browser's zone. */
function toLocalInput(iso: unknown): string {
  if (typeof iso !== "string" || !iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input whose submitted value is the ISO instant (so time zones are kept). */
function DateTimeInput({ id, name, initial, required }: { id: string; name: string; initial: unknown; required?: boolean }) {
  const [local, setLocal] = useState(toLocalInput(initial));
  return (
    <>
      <Input id={id} type="datetime-local" value={local} onChange={(e) => setLocal(e.target.value)} required={required} />
      <input type="hidden" name={name} value={local ? new Date(local).toISOString() : ""} />
    </>
  );
}

export function RecordForm({
  org,
  type,
  fields,
  record,
  references,
  viewPath,
}: {
  org: string;
  type: string;
  fields: FieldDef[];
  record?: Record<string, unknown>;
  references: ReferenceOptions;
  viewPath: string;
}) {
  const value = (name: string) => (record?.[name] === null || record?.[name] === undefined ? "" : String(record[name]));
  return (
    <ActionForm
      action={record ? updateRecord : createRecord}
      redirectTo={record ? `${viewPath}/${String(record.id)}` : `${viewPath}/{id}`}
      className="max-w-xl space-y-4"
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="type" value={type} />
      {record ? <input type="hidden" name="id" value={String(record.id)} /> : null}
      {fields.map((f) => {
        const id = `f-${f.name}`;
        const name = `f.${f.name}`;
        let control: React.ReactNode;
        switch (f.kind) {
          case "longtext":
            control = <Textarea id={id} name={name} defaultValue={value(f.name)} rows={3} />;
            break;
          case "enum":
            control = (
              <Select id={id} name={name} defaultValue={value(f.name) || (f.required ? f.options![0] : "")}>
                {f.required ? null : <option value="">(default)</option>}
                {f.options!.map((o) => (
                  <option key={o} value={o}>
                    {o.replace(/_/g, " ")}
                  </option>
                ))}
              </Select>
            );
            break;
          case "money":
            control = <Input id={id} name={name} type="number" step="0.01" defaultValue={value(f.name)} required={f.required} />;
            break;
          case "currency":
            control = <Input id={id} name={name} defaultValue={value(f.name) || "USD"} maxLength={3} className="w-24 uppercase" />;
            break;
          case "datetime":
            control = <DateTimeInput id={id} name={name} initial={record?.[f.name]} required={f.required} />;
            break;
          case "date":
            control = <Input id={id} name={name} type="date" defaultValue={value(f.name)} required={f.required} />;
            break;
          case "reference":
            control = (
              <Select id={id} name={name} defaultValue={value(f.name)}>
                <option value="">(none)</option>
                {(references[f.name] ?? []).map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.title}
                  </option>
                ))}
              </Select>
            );
            break;
          default:
            control = <Input id={id} name={name} type={f.kind === "email" ? "email" : "text"} defaultValue={value(f.name)} required={f.required} />;
        }
        return (
          <div key={f.name} className="space-y-1">
            <label htmlFor={id} className={`block text-sm font-medium text-slate-700 ${f.required ? "after:text-red-600 after:content-['_*']" : ""}`}>
              {f.label}
            </label>
            {control}
            <FieldError name={f.name} />
          </div>
        );
      })}
      <div className="space-y-1">
        <label htmlFor="f-external_id" className="block text-sm font-medium text-slate-700">
          External ID
        </label>
        <Input id="f-external_id" name="f.external_id" defaultValue={value("external_id")} />
        <p className="text-xs text-slate-500">The id of this record in another system, for syncing. Optional.</p>
        <FieldError name="external_id" />
      </div>
      <SubmitButton pendingText="Saving…">Save</SubmitButton>
    </ActionForm>
  );
}
