"use client";

import { useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { importStatus, previewImport, startImportDraft } from "@/app/(app)/[org]/actions";
import { Button } from "@/components/ui/button";
import { FormError, Select } from "@/components/ui/form";
import { ImportMatch, UndoImport, UndoReport, type MatchChoice } from "@/components/settings/import-match";
import { ImportResult, type ImportOutcome } from "./import-result";

interface FieldInfo {
  name: string;
  label: string;
  required: boolean;
}
interface PreviewRow {
  line: number;
  data: Record<string, unknown>;
  errors: { path: string; message: string }[];
}
interface Mapping {
  target: string;
  external_id?: unknown;
  fields: Record<string, unknown>;
}
interface ImportInfo extends ImportOutcome {
  filename: string;
  undo?: { deleted: number; restored: number; not_restored: number; conflicts?: { id: string; reason: string }[] } | null;
}

/** A column choice: a header, or several joined ("First name" + "Last name"), kept as JSON. */
const JOINED = "join:";
const columnRule = (choice: string): unknown => (choice.startsWith(JOINED) ? { join: JSON.parse(choice.slice(JOINED.length)) } : choice);
const joinedLabel = (choice: string) => (JSON.parse(choice.slice(JOINED.length)) as string[]).join(" + ");

function formData(values: Record<string, string>) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(values)) fd.set(k, v);
  return fd;
}

/** Upload → map columns → preview with per-cell errors → import with progress → download failures. */
export function ImportWizard({ org, types }: { org: string; types: { type: string; label: string; fields: FieldInfo[] }[] }) {
  const [type, setType] = useState(types[0]!.type);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [draft, setDraft] = useState<ImportInfo | null>(null);
  const [headers, setHeaders] = useState<string[]>([]);
  const [columns, setColumns] = useState<Record<string, string>>({});
  const [externalId, setExternalId] = useState("");
  const [rows, setRows] = useState<PreviewRow[]>([]);
  const [job, setJob] = useState<ImportInfo | null>(null);
  const [match, setMatch] = useState<MatchChoice>({ match_on: "", on_match: "update" });
  const [asLeads, setAsLeads] = useState(false);
  const router = useRouter();
  const fields = types.find((t) => t.type === type)!.fields;
  const unmapped = fields.filter((f) => f.required && !columns[f.name]);

  const mapping = (): Mapping => ({
    target: type,
    ...(externalId ? { external_id: externalId } : {}),
    fields: Object.fromEntries(
      Object.entries(columns)
        .filter(([, col]) => col)
        .map(([field, col]) => [field, columnRule(col)]),
    ),
  });

  const accept = (preview: { headers: string[]; mapping: Mapping; rows: PreviewRow[] }) => {
    setHeaders(preview.headers);
    setRows(preview.rows);
    const cols: Record<string, string> = {};
    for (const [field, rule] of Object.entries(preview.mapping.fields)) {
      if (typeof rule === "string") cols[field] = rule;
      else if (rule && typeof rule === "object" && "join" in rule) cols[field] = JOINED + JSON.stringify(rule.join);
    }
    setColumns(cols);
    setExternalId(typeof preview.mapping.external_id === "string" ? preview.mapping.external_id : "");
  };

  async function upload(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/${org}/settings/import/upload`, { method: "POST", body: new FormData(e.currentTarget) });
      const body = await res.json();
      if (!res.ok) setError(body.error.message);
      else {
        setDraft(body.import);
        accept(body);
      }
    } catch {
      setError("The upload failed. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  async function refreshPreview() {
    setBusy(true);
    const r = await previewImport(null, formData({ org, id: draft!.id, mapping: JSON.stringify(mapping()) }));
    setBusy(false);
    if (r?.ok) {
      setError(null);
      setRows((r.data as { rows: PreviewRow[] }).rows);
    } else if (r) setError(r.error.message);
  }

  async function start() {
    setBusy(true);
    const r = await startImportDraft(
      null,
      formData({ org, id: draft!.id, mapping: JSON.stringify(mapping()), ...(match.match_on ? match : {}), ...(asLeads ? { leads: "on" } : {}) }),
    );
    setBusy(false);
    if (r?.ok) {
      setError(null);
      setJob(r.data as ImportInfo);
    } else if (r) setError(r.error.message);
  }

  const finished = job?.status === "completed" || job?.status === "failed";
  // The history below the wizard is a server component: show the finished import there too.
  useEffect(() => {
    if (finished) router.refresh();
  }, [finished, router]);

  useEffect(() => {
    if (!job || job.status === "completed" || job.status === "failed" || job.status === "undone") return;
    const timer = setTimeout(async () => {
      const r = await importStatus(null, formData({ org, id: job.id }));
      if (r?.ok) setJob(r.data as ImportInfo);
    }, 700);
    return () => clearTimeout(timer);
  }, [job, org]);

  if (job) {
    const pct = job.total ? Math.round((job.processed / job.total) * 100) : job.status === "completed" ? 100 : 0;
    return (
      <div className="space-y-4">
        <p className="text-sm">
          Importing <span className="font-medium">{job.filename}</span>: {job.processed.toLocaleString("en-US")} of{" "}
          {job.total ? job.total.toLocaleString("en-US") : "…"} rows
        </p>
        <div
          role="progressbar"
          aria-label="Import progress"
          aria-valuenow={pct}
          aria-valuemin={0}
          aria-valuemax={100}
          className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
        >
          <div className="h-full bg-brand-600 transition-all" style={{ width: `${pct}%` }} />
        </div>
        <ImportResult org={org} job={job}>
          {job.status === "completed" ? <UndoImport org={org} id={job.id} onStarted={(j) => setJob(j as ImportInfo)} /> : null}
        </ImportResult>
        {job.status === "undone" && job.undo ? <UndoReport report={job.undo} /> : null}
      </div>
    );
  }

  if (!draft) {
    return (
      <form onSubmit={upload} className="space-y-4">
        <FormError message={error} />
        <div className="flex flex-wrap items-end gap-4">
          <div className="space-y-1">
            <label htmlFor="import-file" className="block text-sm font-medium text-slate-700">
              File
            </label>
            <input id="import-file" name="file" type="file" accept=".csv,.xlsx" required className="text-sm" />
          </div>
          <div className="space-y-1">
            <label htmlFor="import-type" className="block text-sm font-medium text-slate-700">
              Record type
            </label>
            <Select id="import-type" name="type" value={type} onChange={(e) => setType(e.target.value)}>
              {types.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.label}
                </option>
              ))}
            </Select>
          </div>
          <Button type="submit" disabled={busy}>
            {busy ? "Uploading…" : "Upload"}
          </Button>
        </div>
        <p className="text-xs text-slate-500">
          A .csv or .xlsx file with a header row, up to 100 MB. You choose which column goes where before anything is imported.
        </p>
      </form>
    );
  }

  const shown = fields.filter((f) => columns[f.name]);
  return (
    <div className="space-y-5">
      <FormError message={error} />
      <p className="text-sm">
        <span className="font-medium">{draft.filename}</span> — match its columns to {types.find((t) => t.type === type)!.label.toLowerCase()} fields:
      </p>
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {fields.map((f) => (
          <div key={f.name} className="space-y-1">
            <label htmlFor={`col-${f.name}`} className="block text-xs font-medium text-slate-600">
              Column for {f.label}
              {f.required ? " (required)" : ""}
            </label>
            <Select id={`col-${f.name}`} value={columns[f.name] ?? ""} onChange={(e) => setColumns({ ...columns, [f.name]: e.target.value })}>
              <option value="">(not imported)</option>
              {columns[f.name]?.startsWith(JOINED) ? <option value={columns[f.name]}>{joinedLabel(columns[f.name]!)}</option> : null}
              {headers.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </Select>
          </div>
        ))}
        <div className="space-y-1">
          <label htmlFor="col-external-id" className="block text-xs font-medium text-slate-600">
            Column for External ID (updates instead of duplicates)
          </label>
          <Select id="col-external-id" value={externalId} onChange={(e) => setExternalId(e.target.value)}>
            <option value="">(none: always create)</option>
            {headers.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </Select>
        </div>
      </div>
      <ImportMatch org={org} id={draft.id} type={type} mapping={mapping} value={match} onChange={setMatch} />
      {type === "client" ? (
        <label className="flex items-start gap-2 text-sm text-slate-700">
          <input type="checkbox" className="mt-0.5" checked={asLeads} onChange={(e) => setAsLeads(e.target.checked)} />
          <span>
            These are new leads: count clients with status “lead” as leads captured and notify the team.
            <span className="block text-xs text-slate-500">
              Leave it off for customers you already had: they are imported without notifications and stay out of the leads figures.
            </span>
          </span>
        </label>
      ) : null}
      <div className="flex flex-wrap items-center gap-2">
        <Button type="button" variant="secondary" onClick={refreshPreview} disabled={busy}>
          Update preview
        </Button>
        <Button type="button" onClick={start} disabled={busy || unmapped.length > 0} aria-describedby={unmapped.length ? "start-blocked" : undefined}>
          Start import
        </Button>
        {unmapped.length ? (
          <p id="start-blocked" className="text-sm text-amber-800">
            Choose a column for {unmapped.map((f) => f.label).join(", ")} (required) to start.
          </p>
        ) : null}
      </div>
      <div className="overflow-x-auto rounded-lg ring-1 ring-slate-200">
        <table data-testid="preview-table" className="min-w-full divide-y divide-slate-200 text-xs">
          <thead className="bg-slate-50">
            <tr>
              <th className="px-2 py-1.5 text-left font-medium text-slate-500">Line</th>
              {shown.map((f) => (
                <th key={f.name} className="px-2 py-1.5 text-left font-medium text-slate-500">
                  {f.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 bg-white">
            {rows.map((r) => (
              <tr key={r.line}>
                <td className="px-2 py-1 text-slate-400">{r.line}</td>
                {shown.map((f) => {
                  const err = r.errors.find((e) => e.path === f.name);
                  return (
                    <td key={f.name} title={err?.message} className={`px-2 py-1 ${err ? "bg-red-50 text-red-700" : ""}`}>
                      {String(r.data[f.name] ?? "")}
                      {err ? <span className="block text-[10px]">{err.message}</span> : null}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="text-xs text-slate-500">
        The first {rows.length} rows, as they will be imported. Rows with errors are skipped and listed for download afterwards.
      </p>
    </div>
  );
}
