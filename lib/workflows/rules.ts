import "server-only";
import { and, asc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { WORKFLOW_TRIGGERS, webhookEndpoints, workflowRules, type WorkflowAction, type WorkflowRule } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError, zodDetails, type ErrorDetail } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { RECORD_TYPES, registry, schemasFor, type RecordType, type RecordTypeDef } from "@/lib/records/registry";
import { getRecord } from "@/lib/records/queries";
import { checkConditionValues, conditionListSchema, conditionValue } from "./conditions";
import { conditionHolds, describeAction, describeCondition, fieldValue, renderTemplate, sameValue } from "./engine";
import { assertQuota } from "@/lib/orgs/quotas";

const fieldPath = z
  .string()
  .trim()
  .min(1, "pick a field")
  .max(120)
  .regex(/^[a-z_]+(\.[A-Za-z0-9_-]{1,100})?$/, "must be a field name, or custom_fields.<name>");

const actionSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("set_field"), target: z.string().trim().min(1).max(50).default("self"), field: fieldPath, value: conditionValue }),
  z.strictObject({
    type: z.literal("notify"),
    audience: z.enum(["members", "admins", "owners"]).default("members"),
    title: z.string().trim().min(1, "must not be empty").max(200),
    body: z.string().trim().max(1000).nullish(),
  }),
  z.strictObject({
    type: z.literal("webhook"),
    endpoint_id: z
      .string()
      .trim()
      .regex(/^we_[A-Za-z0-9]+$/, "pick an endpoint"),
  }),
]);

export const ruleInput = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(100),
  enabled: z.boolean().default(false),
  record_type: z.enum(RECORD_TYPES),
  trigger: z.enum(WORKFLOW_TRIGGERS),
  trigger_field: z.preprocess((v) => (v === "" ? null : v), fieldPath.nullish()),
  conditions: conditionListSchema(fieldPath).default([]),
  actions: z.array(actionSchema).min(1, "add at least one action").max(10, "at most 10 actions"),
});
export type RuleInput = z.infer<typeof ruleInput>;

/** Fields a rule can read or set on a type: its own, plus external_id and custom fields. */
export function ruleFields(def: RecordTypeDef): string[] {
  return [...def.fields.map((f) => f.name), "external_id"];
}

function knownField(def: RecordTypeDef, field: string): boolean {
  return field.startsWith("custom_fields.") || ruleFields(def).includes(field);
}

/** What the target of a set_field action is: the record itself, or a record one of its references points at. */
export function actionTargetType(def: RecordTypeDef, target: string): RecordType | null {
  if (target === "self") return def.type;
  const ref = def.fields.find((f) => f.name === target && f.kind === "reference");
  return ref?.references ?? null;
}

/** The record patch a set_field action writes. */
export function setFieldPatch(action: Extract<WorkflowAction, { type: "set_field" }>): Record<string, unknown> {
  if (action.field.startsWith("custom_fields.")) return { custom_fields: { [action.field.slice("custom_fields.".length)]: action.value } };
  return { [action.field]: action.value };
}

/** Validates shape and meaning: fields exist, values fit the target type, endpoints are the org's. */
export async function validateRule(db: Executor, orgId: string, input: unknown): Promise<RuleInput> {
  const parsed = ruleInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "The workflow rule is invalid.", zodDetails(parsed.error.issues));
  const rule = parsed.data;
  const def = registry[rule.record_type];
  const problems: ErrorDetail[] = [];
  if (rule.trigger === "field_changed") {
    if (!rule.trigger_field) problems.push({ path: "trigger_field", message: "pick the field whose change triggers the rule" });
    else if (!knownField(def, rule.trigger_field))
      problems.push({ path: "trigger_field", message: `${def.label.toLowerCase()}s have no field ${rule.trigger_field}` });
  } else rule.trigger_field = null;
  rule.conditions.forEach((c, i) => {
    if (!knownField(def, c.field)) problems.push({ path: `conditions.${i}.field`, message: `${def.label.toLowerCase()}s have no field ${c.field}` });
  });
  problems.push(...checkConditionValues(rule.conditions, "conditions"));
  const endpointIds = new Set<string>();
  rule.actions.forEach((a, i) => {
    if (a.type === "set_field") {
      const targetType = actionTargetType(def, a.target);
      if (!targetType) {
        problems.push({
          path: `actions.${i}.target`,
          message: `must be "self" or one of: ${
            def.fields
              .filter((f) => f.kind === "reference")
              .map((f) => f.name)
              .join(", ") || "(no references)"
          }`,
        });
        return;
      }
      const targetDef = registry[targetType];
      if (!knownField(targetDef, a.field)) {
        problems.push({ path: `actions.${i}.field`, message: `${targetDef.label.toLowerCase()}s have no field ${a.field}` });
        return;
      }
      const fieldDef = targetDef.fields.find((f) => f.name === a.field);
      if (fieldDef?.defaulted && (a.value === null || a.value === "")) {
        problems.push({ path: `actions.${i}.value`, message: `pick a ${fieldDef.label.toLowerCase()}: it cannot be emptied` });
        return;
      }
      const check = schemasFor(targetDef).update.safeParse(setFieldPatch(a));
      if (!check.success) for (const d of zodDetails(check.error.issues)) problems.push({ path: `actions.${i}.value`, message: d.message });
    }
    if (a.type === "webhook") endpointIds.add(a.endpoint_id);
  });
  if (endpointIds.size) {
    const found = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.orgId, orgId), inArray(webhookEndpoints.id, [...endpointIds])));
    const ok = new Set(found.map((e) => e.id));
    rule.actions.forEach((a, i) => {
      if (a.type === "webhook" && !ok.has(a.endpoint_id))
        problems.push({ path: `actions.${i}.endpoint_id`, message: "no such webhook endpoint in this organization" });
    });
  }
  if (problems.length) throw new AppError("validation_failed", "The workflow rule is invalid.", problems);
  return rule;
}

export function ruleView(r: WorkflowRule) {
  return {
    id: r.id,
    object: "workflow_rule" as const,
    name: r.name,
    enabled: r.enabled,
    record_type: r.recordType,
    trigger: r.trigger,
    trigger_field: r.triggerField,
    conditions: r.conditions,
    actions: r.actions,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** Whether an org has enabled rules for a record type, as a column the pipeline reads with the org row. */
export function hasEnabledRulesSql(orgId: string, type: RecordType): SQL<boolean> {
  return sql<boolean>`exists (select 1 from ${workflowRules} w where w.org_id = ${orgId} and w.record_type = ${type} and w.enabled)`;
}

/** The enabled rules the pipeline evaluates for one org and record type. */
export function enabledRules(tx: Executor, orgId: string, type: RecordType): Promise<WorkflowRule[]> {
  return tx
    .select()
    .from(workflowRules)
    .where(and(eq(workflowRules.orgId, orgId), eq(workflowRules.recordType, type), eq(workflowRules.enabled, true)))
    .orderBy(asc(workflowRules.createdAt), asc(workflowRules.id));
}

export function listRules(db: Executor, orgId: string): Promise<WorkflowRule[]> {
  return db.select().from(workflowRules).where(eq(workflowRules.orgId, orgId)).orderBy(asc(workflowRules.createdAt), asc(workflowRules.id));
}

export async function getRule(db: Executor, orgId: string, id: string): Promise<WorkflowRule> {
  const [r] = await db
    .select()
    .from(workflowRules)
    .where(and(eq(workflowRules.orgId, orgId), eq(workflowRules.id, id)));
  if (!r) throw new AppError("not_found", `No workflow rule with id ${id}.`);
  return r;
}

const ruleColumns = (r: RuleInput) => ({
  name: r.name,
  enabled: r.enabled,
  recordType: r.record_type,
  trigger: r.trigger,
  triggerField: r.trigger_field ?? null,
  conditions: r.conditions,
  actions: r.actions as WorkflowAction[],
});

export async function createRule(db: Db, ctx: ChangeContext, input: unknown, createdByUserId: string | null): Promise<WorkflowRule> {
  const rule = await validateRule(db, ctx.orgId, input);
  return db.transaction(async (tx) => {
    await assertQuota(tx, ctx.orgId, "workflow_rule");
    const [row] = await tx
      .insert(workflowRules)
      .values({ id: newId("wfr"), orgId: ctx.orgId, ...ruleColumns(rule), createdByUserId })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "workflow_rule.created", targetType: "workflow_rule", targetId: row!.id, after: ruleView(row!) },
    ]);
    return row!;
  });
}

export async function updateRule(db: Db, ctx: ChangeContext, id: string, input: unknown): Promise<WorkflowRule> {
  const rule = await validateRule(db, ctx.orgId, input);
  return db.transaction(async (tx) => {
    const before = await getRule(tx, ctx.orgId, id);
    const [row] = await tx
      .update(workflowRules)
      .set({ ...ruleColumns(rule), updatedAt: new Date() })
      .where(and(eq(workflowRules.orgId, ctx.orgId), eq(workflowRules.id, id)))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "workflow_rule.updated", targetType: "workflow_rule", targetId: id, before: ruleView(before), after: ruleView(row!) },
    ]);
    return row!;
  });
}

export async function setRuleEnabled(db: Db, ctx: ChangeContext, id: string, enabled: boolean): Promise<WorkflowRule> {
  return db.transaction(async (tx) => {
    const before = await getRule(tx, ctx.orgId, id);
    if (before.enabled === enabled) return before;
    const [row] = await tx
      .update(workflowRules)
      .set({ enabled, updatedAt: new Date() })
      .where(and(eq(workflowRules.orgId, ctx.orgId), eq(workflowRules.id, id)))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: enabled ? "workflow_rule.enabled" : "workflow_rule.disabled",
        targetType: "workflow_rule",
        targetId: id,
        before: { enabled: before.enabled },
        after: { enabled },
      },
    ]);
    return row!;
  });
}

export async function deleteRule(db: Db, ctx: ChangeContext, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await getRule(tx, ctx.orgId, id);
    await tx.delete(workflowRules).where(and(eq(workflowRules.orgId, ctx.orgId), eq(workflowRules.id, id)));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "workflow_rule.deleted", targetType: "workflow_rule", targetId: id, before: ruleView(before) },
    ]);
  });
}

export interface RuleTestResult {
  record: { id: string; type: string; title: string };
  /** The change the dry run played on the record ("stage: proposal → closed_won"), if any. */
  simulated: string | null;
  conditions: { description: string; actual: unknown; holds: boolean }[];
  wouldFire: boolean;
  actions: string[];
}

/**
 * A dry run against an existing record, as if the rule's trigger had just happened to it: a
 * "field changes" rule with a "changed to X" condition on that field plays that change on the
 * record (a deal still in proposal shows what winning it would do); otherwise the record as it is.
 * Are the conditions met, and what would the actions do? Nothing is written.
 */
export async function testRule(db: Executor, orgId: string, input: unknown, recordId: string): Promise<RuleTestResult> {
  const rule = await validateRule(db, orgId, input);
  const def = registry[rule.record_type];
  const record = await getRecord(db, orgId, rule.record_type, recordId);
  const played = rule.trigger === "field_changed" ? rule.conditions.find((c) => c.op === "changed_to" && c.field === rule.trigger_field) : undefined;
  const changes = played && !sameValue(fieldValue(record, played.field), played.value);
  const before = changes ? record : null;
  const after = changes ? { ...record, [played.field]: played.value } : record;
  // With no earlier state, "changed to X" reads as "is now X".
  const conditions = rule.conditions.map((c) => ({
    description: describeCondition(c),
    actual: fieldValue(after, c.field) ?? null,
    holds: conditionHolds(c, before, after),
  }));
  const wouldFire = conditions.every((c) => c.holds);
  return {
    record: { id: record.id, type: rule.record_type, title: String(record[def.titleField] ?? record.id) },
    simulated: changes ? `${played.field}: ${JSON.stringify(fieldValue(record, played.field) ?? null)} → ${JSON.stringify(played.value)}` : null,
    conditions,
    wouldFire,
    actions: rule.actions.map((a) => {
      const what = describeAction(a as WorkflowAction);
      if (a.type === "notify") return `${what} — reads "${renderTemplate(a.title, after)}"`;
      if (a.type === "set_field" && a.target !== "self") {
        const ref = after[a.target];
        return ref ? `${what} (on ${String(ref)})` : `${what} — skipped: this record has no ${a.target}`;
      }
      return what;
    }),
  };
}
