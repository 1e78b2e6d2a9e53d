"use client";

import { useState } from "react";
import { dryRunImport, undoImport } from "@/app/(app)/[org]/actions";
import { Button } from "@/components/ui/button";
import { FormError, Select } from "@/components/ui/form";

/** The wizard's match key and policy, its dry run, and the undo of a finished import. */

export interface MatchChoice {
  match_on: "" | "external_id" | "email" | "phone";
  on_match: "update" | "skip" | "create";
}

interface Preview {
  total: number;
  new: number;
  updates: number;
  unchanged: number;
  skipped: number;
  errors: number;
  examples: Record<string, { line: number; errors?: { path: string; message: string }[]; changes?: Record<string, { from: unknown; to: unknown }> }[]>;
}

function formData(values: Record<string, string>) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(values)) fd.set(k, v);
  return fd;
}

const n = (x: number) => x.toLocaleString("en-US");

export function ImportMatch({
  org,
  id,
  type,
  mapping,
  value,
  onChange,
}: {
  org: string;
  id: string;
  type: string;
  mapping: () => unknown;
  value: MatchChoice;
  onChange: (v: MatchChoice) => void;
}) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function dryRun() {
    setBusy(true);
    const r = await dryRunImport(null, formData({ org, id, mapping: JSON.stringify(mapping()), ...(value.match_on ? value : {}) }));
    setBusy(false);
    if (r?.ok) {
      setError(null);
      setPreview(r.data as Preview);
    } else if (r) setError(r.error.message);
  }

  return (
    <div className="space-y-3 rounded-md p-3 ring-1 ring-slate-200">
      <div className="grid gap-3 sm:grid-cols-3">
        <div className="space-y-1">
          <label htmlFor="match-on" className="block text-xs font-medium text-slate-600">
            Find existing records by
          </label>
          <Select id="match-on" value={value.match_on} onChange={(e) => onChange({ ...value, match_on: e.target.value as MatchChoice["match_on"] })}>
            <option value="">(nothing: create, or update by External ID)</option>
            <option value="external_id">External ID</option>
            {type === "client" ? <option value="email">Email (any capitalisation)</option> : null}
            {type === "client" ? <option value="phone">Phone (any format)</option> : null}
          </Select>
        </div>
        <div className="space-y-1">
          <label htmlFor="on-match" className="block text-xs font-medium text-slate-600">
            When a row matches
          </label>
          <Select
            id="on-match"
            value={value.on_match}
            disabled={!value.match_on}
            onChange={(e) => onChange({ ...value, on_match: e.target.value as MatchChoice["on_match"] })}
          >
            <option value="update">Update the record</option>
            <option value="skip">Skip the row</option>
            <option value="create">Create a new record anyway</option>
          </Select>
        </div>
        <div className="flex items-end">
          <Button type="button" variant="secondary" onClick={dryRun} disabled={busy}>
            Dry run (writes nothing)
          </Button>
        </div>
      </div>
      <FormError message={error} />
      {preview ? (
        <div data-testid="dry-run" className="space-y-1 text-sm">
          <p className="font-medium">
            {n(preview.new)} new, {n(preview.updates)} updates, {n(preview.unchanged)} unchanged, {n(preview.skipped)} skipped, {n(preview.errors)} errors (of{" "}
            {n(preview.total)} rows)
          </p>
          <ul className="space-y-0.5 text-xs text-slate-600">
            {preview.examples.updates?.slice(0, 3).map((u) => (
              <li key={`u${u.line}`} className="break-words">
                Line {u.line}:{" "}
                {Object.entries(u.changes ?? {})
                  .map(([k, c]) => `${k} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
                  .join(", ")}
              </li>
            ))}
            {preview.examples.errors?.slice(0, 3).map((e) => (
              <li key={`e${e.line}`} className="break-words text-red-700">
                Line {e.line}: {(e.errors ?? []).map((x) => `${x.path} ${x.message}`).join("; ")}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

export function UndoImport({ org, id, onStarted }: { org: string; id: string; onStarted: (job: unknown) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function undo() {
    if (!window.confirm("Undo this import? Records it created are deleted and records it updated get their previous values back.")) return;
    setBusy(true);
    const r = await undoImport(null, formData({ org, id }));
    setBusy(false);
    if (r?.ok) onStarted(r.data);
    else if (r) setError(r.error.message);
  }
  return (
    <div className="space-y-1">
      <Button type="button" variant="secondary" onClick={undo} disabled={busy}>
        Undo this import
      </Button>
      <FormError message={error} />
    </div>
  );
}

export function UndoReport({ report }: { report: { deleted: number; restored: number; not_restored: number; conflicts?: { id: string; reason: string }[] } }) {
  return (
    <div data-testid="undo-result" className="rounded-md bg-slate-50 px-4 py-3 text-sm ring-1 ring-slate-200">
      <p className="font-medium">
        Undone: {n(report.deleted)} created records deleted, {n(report.restored)} updated records restored
        {report.not_restored ? `, ${n(report.not_restored)} left as they are (changed since)` : ""}.
      </p>
      {report.conflicts?.length ? <p className="break-words text-xs text-slate-600">{report.conflicts.map((c) => c.id).join(", ")}</p> : null}
    </div>
  );
}
