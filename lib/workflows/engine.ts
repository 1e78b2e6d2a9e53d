import type { ConditionOp, WorkflowAction, WorkflowCondition, WorkflowTrigger } from "@/db/schema";

/**
 * Workflow rules, the pure part: does a change trigger a rule, do its conditions hold, and how
 * a notification's text reads. No database here; lib/workflows/run.ts carries out the actions.
 */

export interface RuleDefinition {
  id: string;
  name: string;
  recordType: string;
  trigger: WorkflowTrigger;
  triggerField: string | null;
  conditions: WorkflowCondition[];
  actions: WorkflowAction[];
}

type Rec = Record<string, unknown>;

export const OP_LABELS: Record<ConditionOp, string> = {
  equals: "equals",
  not_equals: "does not equal",
  contains: "contains",
  greater_than: "is greater than",
  less_than: "is less than",
  is_empty: "is empty",
  is_not_empty: "is not empty",
  changed_to: "changed to",
};

export const OPS_WITHOUT_VALUE: readonly ConditionOp[] = ["is_empty", "is_not_empty"];

/**
 * A value at a dotted path in the API's shape: `status`, `custom_fields.plan` on a record; a
 * webhook filter reads `data.amount` or `previous.status` of an event the same way.
 */
export function fieldValue(record: Rec | null | undefined, field: string): unknown {
  let at: unknown = record;
  for (const key of field.split(".")) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = Object.hasOwn(at, key) ? (at as Rec)[key] : undefined;
  }
  return at;
}

const isEmpty = (v: unknown) => v === null || v === undefined || (typeof v === "string" && v.trim() === "");

function asNumber(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

function asTime(v: unknown): number | null {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? null : t;
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== null && nb !== null) return na === nb;
  if (typeof a === "boolean" || typeof b === "boolean") return String(a) === String(b);
  return String(a ?? "") === String(b ?? "");
}

function compare(a: unknown, b: unknown): number | null {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== null && nb !== null) return na - nb;
  const ta = asTime(a);
  const tb = asTime(b);
  if (ta !== null && tb !== null) return ta - tb;
  if (isEmpty(a) || isEmpty(b)) return null;
  return String(a).localeCompare(String(b));
}

export function conditionHolds(c: WorkflowCondition, before: Rec | null, after: Rec): boolean {
  const actual = fieldValue(after, c.field);
  switch (c.op) {
    case "equals":
      return sameValue(actual, c.value);
    case "not_equals":
      return !sameValue(actual, c.value);
    case "contains":
      return (
        !isEmpty(actual) &&
        String(actual)
          .toLowerCase()
          .includes(String(c.value ?? "").toLowerCase())
      );
    case "greater_than": {
      const r = compare(actual, c.value);
      return r !== null && r > 0;
    }
    case "less_than": {
      const r = compare(actual, c.value);
      return r !== null && r < 0;
    }
    case "is_empty":
      return isEmpty(actual);
    case "is_not_empty":
      return !isEmpty(actual);
    case "changed_to":
      return sameValue(actual, c.value) && (before === null || !sameValue(fieldValue(before, c.field), c.value));
  }
}

/** Whether the kind of change is one the rule listens to (before any condition). */
export function triggerMatches(rule: Pick<RuleDefinition, "trigger" | "triggerField">, before: Rec | null, after: Rec | null): boolean {
  if (!after) return false; // deletes trigger nothing
  switch (rule.trigger) {
    case "created":
      return before === null;
    case "updated":
      return before !== null;
    case "created_or_updated":
      return true;
    case "field_changed": {
      const f = rule.triggerField;
      if (!f) return false;
      // On create, a field that was set counts as changed (from nothing).
      return before === null ? !isEmpty(fieldValue(after, f)) : !sameValue(fieldValue(before, f), fieldValue(after, f));
    }
  }
}

/** Every condition holds for the change from `before` (null: none) to `after`: rules and webhook filters both ask this. */
export function conditionsHold(conditions: readonly WorkflowCondition[], before: Rec | null, after: Rec): boolean {
  return conditions.every((c) => conditionHolds(c, before, after));
}

export function ruleMatches(rule: RuleDefinition, before: Rec | null, after: Rec | null): boolean {
  return triggerMatches(rule, before, after) && conditionsHold(rule.conditions, before, after!);
}

/** `{{name}}`, `{{custom_fields.plan}}` → the record's values. */
export function renderTemplate(template: string, record: Rec): string {
  return template.replace(/\{\{\s*([a-z0-9_.]+)\s*\}\}/gi, (_, field: string) => {
    const v = fieldValue(record, field);
    return isEmpty(v) ? "" : typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** "a" or "an", by the sound of the word's first letter (good enough for field and type labels). */
const article = (word: string) => (/^[aeiou]/i.test(word) ? "an" : "a");

export function describeTrigger(rule: Pick<RuleDefinition, "trigger" | "triggerField" | "recordType">, label = rule.recordType.replace("_", " ")): string {
  const a = `When ${article(label)} ${label}`;
  switch (rule.trigger) {
    case "created":
      return `${a} is created`;
    case "updated":
      return `${a} is updated`;
    case "created_or_updated":
      return `${a} is created or updated`;
    case "field_changed":
      return `${a}'s ${rule.triggerField} changes`;
  }
}

export function describeCondition(c: WorkflowCondition): string {
  return OPS_WITHOUT_VALUE.includes(c.op) ? `${c.field} ${OP_LABELS[c.op]}` : `${c.field} ${OP_LABELS[c.op]} ${JSON.stringify(c.value ?? null)}`;
}

export function describeAction(a: WorkflowAction, endpointLabel?: (id: string) => string): string {
  switch (a.type) {
    case "set_field":
      return `set ${a.target === "self" ? "" : `its ${a.target.replace(/_id$/, "").replace(/_/g, " ")}'s `}${a.field} to ${JSON.stringify(a.value)}`;
    case "notify":
      return `notify ${a.audience}: "${a.title}"`;
    case "webhook":
      return `send workflow_triggered to ${endpointLabel ? endpointLabel(a.endpoint_id) : a.endpoint_id}`;
  }
}
