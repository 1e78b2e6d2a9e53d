"use client";

import { useMemo, useState } from "react";
import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select } from "@/components/ui/form";
import { Badge } from "@/components/ui/layout";
import { ToggleAndDelete } from "@/components/ui/toggle-delete";
import { createWorkflow, deleteWorkflow, setWorkflowEnabled, testWorkflow, updateWorkflow } from "@/app/(app)/[org]/actions";

export interface FieldMeta {
  name: string;
  label: string;
  options?: readonly string[];
}

export interface TypeMeta {
  type: string;
  label: string;
  idPrefix: string;
  fields: FieldMeta[];
  /** Reference fields: a set_field action can reach the record they point at. */
  references: { name: string; label: string; target: string }[];
}

export interface BuilderMeta {
  types: TypeMeta[];
  triggers: { value: string; label: string }[];
  ops: { value: string; label: string; needsValue: boolean }[];
  endpoints: { id: string; label: string }[];
  recent: Record<string, { id: string; title: string }[]>;
}

type Scalar = string | number | boolean | null;
interface Condition {
  field: string;
  op: string;
  value?: Scalar;
}
type Action =
  | { type: "set_field"; target: string; field: string; value: Scalar }
  | { type: "notify"; audience: "members" | "admins" | "owners"; title: string; body?: string | null }
  | { type: "webhook"; endpoint_id: string };

export interface RuleState {
  name: string;
  enabled: boolean;
  record_type: string;
  trigger: string;
  trigger_field: string | null;
  conditions: Condition[];
  actions: Action[];
}

const label = "block text-xs font-medium text-slate-600";

function ValueInput({
  field,
  value,
  onChange,
  name,
  ariaLabel,
}: {
  field?: FieldMeta;
  value: Scalar | undefined;
  onChange: (v: string) => void;
  name?: string;
  ariaLabel: string;
}) {
  if (field?.options) {
    return (
      <Select aria-label={ariaLabel} name={name} value={value === null || value === undefined ? "" : String(value)} onChange={(e) => onChange(e.target.value)}>
        <option value="">—</option>
        {field.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </Select>
    );
  }
  return (
    <Input aria-label={ariaLabel} name={name} value={value === null || value === undefined ? "" : String(value)} onChange={(e) => onChange(e.target.value)} />
  );
}

function FieldSelect({
  fields,
  value,
  onChange,
  ariaLabel,
  allowCustom = true,
}: {
  fields: FieldMeta[];
  value: string;
  onChange: (v: string) => void;
  ariaLabel: string;
  allowCustom?: boolean;
}) {
  const custom = value.startsWith("custom_fields.");
  return (
    <div className="flex gap-1">
      <Select
        aria-label={ariaLabel}
        value={custom ? "__custom" : value}
        onChange={(e) => onChange(e.target.value === "__custom" ? "custom_fields." : e.target.value)}
      >
        <option value="">Pick a field</option>
        {fields.map((f) => (
          <option key={f.name} value={f.name}>
            {f.label}
          </option>
        ))}
        {allowCustom ? <option value="__custom">Custom field…</option> : null}
      </Select>
      {custom ? (
        <Input
          aria-label={`${ariaLabel}: custom field name`}
          value={value.slice("custom_fields.".length)}
          onChange={(e) => onChange(`custom_fields.${e.target.value}`)}
          placeholder="name"
        />
      ) : null}
    </div>
  );
}

/** The rule editor: trigger, conditions and actions, posted as one JSON document. */
export function WorkflowBuilder({ org, meta, initial, ruleId }: { org: string; meta: BuilderMeta; initial: RuleState; ruleId?: string }) {
  const [rule, setRule] = useState<RuleState>(initial);
  const type = meta.types.find((t) => t.type === rule.record_type) ?? meta.types[0]!;
  const fieldsOf = (typeName: string) => meta.types.find((t) => t.type === typeName)?.fields ?? [];
  const fieldMeta = (typeName: string, name: string) => fieldsOf(typeName).find((f) => f.name === name);
  const json = useMemo(() => JSON.stringify(rule), [rule]);
  const update = (patch: Partial<RuleState>) => setRule((r) => ({ ...r, ...patch }));
  const setCondition = (i: number, patch: Partial<Condition>) => update({ conditions: rule.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const setAction = (i: number, next: Action) => update({ actions: rule.actions.map((a, j) => (j === i ? next : a)) });
  const targetType = (target: string) => (target === "self" ? rule.record_type : (type.references.find((r) => r.name === target)?.target ?? rule.record_type));

  return (
    <div className="space-y-6">
      <ActionForm
        action={ruleId ? updateWorkflow : createWorkflow}
        redirectTo={ruleId ? undefined : `/${org}/settings/workflows/{id}`}
        className="space-y-6"
        success={() => (ruleId ? <p className="text-sm text-emerald-700">Saved.</p> : null)}
      >
        <input type="hidden" name="org" value={org} />
        {ruleId ? <input type="hidden" name="id" value={ruleId} /> : null}
        <input type="hidden" name="rule" value={json} />

        <section className="grid gap-4 sm:grid-cols-2">
          <div className="space-y-1">
            <label htmlFor="rule-name" className="block text-sm font-medium text-slate-700">
              Name
            </label>
            <Input id="rule-name" value={rule.name} onChange={(e) => update({ name: e.target.value })} placeholder="Won deal activates client" />
            <FieldError name="name" />
          </div>
          <label className="flex items-center gap-2 self-end text-sm">
            <input type="checkbox" checked={rule.enabled} onChange={(e) => update({ enabled: e.target.checked })} /> Enabled (runs for every source: UI, API,
            lead capture, inbound, connectors, imports)
          </label>
        </section>

        <section className="space-y-2 rounded-lg bg-slate-50 p-4 ring-1 ring-slate-200">
          <h3 className="text-sm font-semibold">When</h3>
          <div className="grid gap-3 sm:grid-cols-3">
            <div className="space-y-1">
              <span className={label}>Record type</span>
              <Select
                aria-label="Record type"
                value={rule.record_type}
                onChange={(e) =>
                  update({ record_type: e.target.value, trigger_field: null, conditions: [], actions: rule.actions.filter((a) => a.type !== "set_field") })
                }
              >
                {meta.types.map((t) => (
                  <option key={t.type} value={t.type}>
                    {t.label}
                  </option>
                ))}
              </Select>
            </div>
            <div className="space-y-1">
              <span className={label}>Trigger</span>
              <Select
                aria-label="Trigger"
                value={rule.trigger}
                onChange={(e) => update({ trigger: e.target.value, trigger_field: e.target.value === "field_changed" ? rule.trigger_field : null })}
              >
                {meta.triggers.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </Select>
            </div>
            {rule.trigger === "field_changed" ? (
              <div className="space-y-1">
                <span className={label}>Field</span>
                <FieldSelect
                  ariaLabel="Trigger field"
                  fields={type.fields}
                  value={rule.trigger_field ?? ""}
                  onChange={(v) => update({ trigger_field: v || null })}
                />
                <FieldError name="trigger_field" />
              </div>
            ) : null}
          </div>
        </section>

        <section className="space-y-2 rounded-lg bg-slate-50 p-4 ring-1 ring-slate-200">
          <h3 className="text-sm font-semibold">And all of these hold</h3>
          {rule.conditions.length === 0 ? (
            <p className="text-sm text-slate-500">No conditions: every {rule.trigger.replace(/_/g, " ")} fires the rule.</p>
          ) : null}
          {rule.conditions.map((c, i) => {
            const op = meta.ops.find((o) => o.value === c.op);
            return (
              <div key={i} className="grid items-start gap-2 sm:grid-cols-[1fr_1fr_1fr_auto]" data-testid="condition">
                <div>
                  <FieldSelect ariaLabel={`Condition ${i + 1} field`} fields={type.fields} value={c.field} onChange={(v) => setCondition(i, { field: v })} />
                  <FieldError name={`conditions.${i}.field`} />
                </div>
                <Select aria-label={`Condition ${i + 1} operator`} value={c.op} onChange={(e) => setCondition(i, { op: e.target.value })}>
                  {meta.ops.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </Select>
                <div>
                  {op?.needsValue !== false ? (
                    <ValueInput
                      ariaLabel={`Condition ${i + 1} value`}
                      field={fieldMeta(rule.record_type, c.field)}
                      value={c.value}
                      onChange={(v) => setCondition(i, { value: v })}
                    />
                  ) : null}
                  <FieldError name={`conditions.${i}.value`} />
                </div>
                <button
                  type="button"
                  className="rounded px-2 py-1.5 text-sm text-slate-500 hover:bg-slate-200"
                  onClick={() => update({ conditions: rule.conditions.filter((_, j) => j !== i) })}
                >
                  Remove
                </button>
              </div>
            );
          })}
          <button
            type="button"
            className="text-sm text-brand-600 hover:underline"
            onClick={() => update({ conditions: [...rule.conditions, { field: "", op: "equals", value: "" }] })}
          >
            + Add condition
          </button>
        </section>

        <section className="space-y-3 rounded-lg bg-slate-50 p-4 ring-1 ring-slate-200">
          <h3 className="text-sm font-semibold">Then, in order</h3>
          <FieldError name="actions" exact />
          {rule.actions.map((a, i) => (
            <div key={i} className="space-y-2 rounded-md bg-white p-3 ring-1 ring-slate-200" data-testid="action">
              <div className="flex items-center justify-between gap-2">
                <Select
                  aria-label={`Action ${i + 1}`}
                  className="max-w-xs"
                  value={a.type}
                  onChange={(e) => {
                    const t = e.target.value;
                    setAction(
                      i,
                      t === "set_field"
                        ? { type: "set_field", target: "self", field: "", value: "" }
                        : t === "notify"
                          ? { type: "notify", audience: "members", title: "" }
                          : { type: "webhook", endpoint_id: meta.endpoints[0]?.id ?? "" },
                    );
                  }}
                >
                  <option value="set_field">Set a field</option>
                  <option value="notify">Notify people</option>
                  <option value="webhook">Send a signed webhook</option>
                </Select>
                <button
                  type="button"
                  className="rounded px-2 py-1 text-sm text-slate-500 hover:bg-slate-100"
                  onClick={() => update({ actions: rule.actions.filter((_, j) => j !== i) })}
                >
                  Remove
                </button>
              </div>
              {a.type === "set_field" ? (
                <div className="grid gap-2 sm:grid-cols-3">
                  <div className="space-y-1">
                    <span className={label}>On</span>
                    <Select aria-label={`Action ${i + 1} target`} value={a.target} onChange={(e) => setAction(i, { ...a, target: e.target.value, field: "" })}>
                      <option value="self">this {type.label.toLowerCase()}</option>
                      {type.references.map((r) => (
                        <option key={r.name} value={r.name}>
                          its {r.label.toLowerCase()}
                        </option>
                      ))}
                    </Select>
                    <FieldError name={`actions.${i}.target`} />
                  </div>
                  <div className="space-y-1">
                    <span className={label}>Field</span>
                    <FieldSelect
                      ariaLabel={`Action ${i + 1} field`}
                      fields={fieldsOf(targetType(a.target))}
                      value={a.field}
                      onChange={(v) => setAction(i, { ...a, field: v })}
                    />
                    <FieldError name={`actions.${i}.field`} />
                  </div>
                  <div className="space-y-1">
                    <span className={label}>Value</span>
                    <ValueInput
                      ariaLabel={`Action ${i + 1} value`}
                      field={fieldMeta(targetType(a.target), a.field)}
                      value={a.value}
                      onChange={(v) => setAction(i, { ...a, value: v })}
                    />
                    <FieldError name={`actions.${i}.value`} />
                  </div>
                </div>
              ) : a.type === "notify" ? (
                <div className="grid gap-2 sm:grid-cols-3">
                  <div className="space-y-1">
                    <span className={label}>Who</span>
                    <Select
                      aria-label={`Action ${i + 1} audience`}
                      value={a.audience}
                      onChange={(e) => setAction(i, { ...a, audience: e.target.value as "members" | "admins" | "owners" })}
                    >
                      <option value="members">every member</option>
                      <option value="admins">admins and owners</option>
                      <option value="owners">owners</option>
                    </Select>
                  </div>
                  <div className="space-y-1 sm:col-span-2">
                    <span className={label}>Title ({"{{field}}"} inserts a value)</span>
                    <Input
                      aria-label={`Action ${i + 1} title`}
                      value={a.title}
                      onChange={(e) => setAction(i, { ...a, title: e.target.value })}
                      placeholder="Deal won: {{title}}"
                    />
                    <FieldError name={`actions.${i}.title`} />
                  </div>
                </div>
              ) : (
                <div className="space-y-1">
                  <span className={label}>Endpoint (receives workflow_triggered with the rule and the record)</span>
                  {meta.endpoints.length === 0 ? (
                    <p className="text-sm text-amber-700">Add a webhook endpoint first, in Settings → Webhooks.</p>
                  ) : (
                    <Select aria-label={`Action ${i + 1} endpoint`} value={a.endpoint_id} onChange={(e) => setAction(i, { ...a, endpoint_id: e.target.value })}>
                      {meta.endpoints.map((ep) => (
                        <option key={ep.id} value={ep.id}>
                          {ep.label}
                        </option>
                      ))}
                    </Select>
                  )}
                  <FieldError name={`actions.${i}.endpoint_id`} />
                </div>
              )}
            </div>
          ))}
          <button
            type="button"
            className="text-sm text-brand-600 hover:underline"
            onClick={() => update({ actions: [...rule.actions, { type: "set_field", target: "self", field: "", value: "" }] })}
          >
            + Add action
          </button>
        </section>
        <SubmitButton pendingText="Saving…">{ruleId ? "Save rule" : "Create rule"}</SubmitButton>
      </ActionForm>

      <section className="space-y-2 rounded-lg bg-white p-4 ring-1 ring-slate-200">
        <h3 className="text-sm font-semibold">Try it on an existing {type.label.toLowerCase()}</h3>
        <p className="text-sm text-slate-500">
          A dry run of the rule as it stands in this form: are the conditions met, and what would it do? Nothing is written.
        </p>
        <ActionForm action={testWorkflow} refresh={false} className="space-y-3" success={(data) => <TestResult result={data as TestOutcome} />}>
          <input type="hidden" name="org" value={org} />
          <input type="hidden" name="rule" value={json} />
          <div className="flex flex-wrap items-end gap-2">
            <div className="space-y-1">
              <label htmlFor="test-record" className={label}>
                Record id
              </label>
              <Input id="test-record" name="recordId" list="test-records" placeholder={`${type.idPrefix}_…`} className="w-80" />
              <datalist id="test-records">
                {(meta.recent[rule.record_type] ?? []).map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.title}
                  </option>
                ))}
              </datalist>
            </div>
            <SubmitButton variant="secondary" pendingText="Trying…">
              Try it
            </SubmitButton>
          </div>
          <FieldError name="recordId" />
        </ActionForm>
      </section>
    </div>
  );
}

interface TestOutcome {
  record: { id: string; title: string };
  simulated: string | null;
  conditions: { description: string; actual: unknown; holds: boolean }[];
  wouldFire: boolean;
  actions: string[];
}

function TestResult({ result }: { result: TestOutcome }) {
  return (
    <div className="space-y-2 rounded-md bg-slate-50 p-3 text-sm" data-testid="rule-test-result">
      <p>
        <Badge color={result.wouldFire ? "green" : "amber"}>{result.wouldFire ? "Would fire" : "Would not fire"}</Badge> on {result.record.title} (
        {result.record.id})
      </p>
      {result.simulated ? <p className="text-slate-600">As if its {result.simulated.replace(":", " changed:")}</p> : null}
      {result.conditions.length ? (
        <ul className="space-y-0.5">
          {result.conditions.map((c, i) => (
            <li key={i}>
              {c.holds ? "✓" : "✗"} {c.description} <span className="text-slate-500">(is {JSON.stringify(c.actual)})</span>
            </li>
          ))}
        </ul>
      ) : null}
      {result.wouldFire ? (
        <ol className="list-decimal pl-5">
          {result.actions.map((a, i) => (
            <li key={i}>{a}</li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

export function RuleControls({ org, id, enabled }: { org: string; id: string; enabled: boolean }) {
  return (
    <div className="flex gap-2">
      <ToggleAndDelete
        org={org}
        id={id}
        on={enabled}
        toggle={setWorkflowEnabled}
        remove={deleteWorkflow}
        confirmDelete="Delete this rule? Its past firings stay in the audit log."
        afterDelete={`/${org}/settings/workflows`}
      />
    </div>
  );
}
