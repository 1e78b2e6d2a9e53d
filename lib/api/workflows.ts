import "server-only";
import { z } from "zod";
import { AppError, zodDetails } from "@/lib/errors";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import { deletedOf, idParam, listOf, listParams } from "@/lib/openapi/schemas";
import { createRule, deleteRule, getRule, listRules, ruleInput, ruleView, testRule, updateRule } from "@/lib/workflows/rules";
import { defineRoute } from "./define";

/**
 * Workflow rules over the API: the same functions the settings page calls, so validation, plan
 * quota and audit entries are the same.
 */

const tags = ["Workflows"];
const params = idParam("wfr");

const ruleSchema = ruleInput
  .extend({
    id: z.string(),
    object: z.literal("workflow_rule"),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    trigger_field: z.string().nullable(),
  })
  .meta({ id: "WorkflowRule" });

/** A PATCH changes the fields it names; the rule as a whole is validated again. */
const rulePatch = ruleInput.partial();
const testInput = z.strictObject({ record_id: z.string().trim().min(1).max(64) });

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new AppError("validation_failed", `Invalid ${what}.`, zodDetails(r.error.issues));
  return r.data;
}

/** The stored rule as the input its validation takes. */
function asInput(rule: ReturnType<typeof ruleView>) {
  const { name, enabled, record_type, trigger, trigger_field, conditions, actions } = rule;
  return { name, enabled, record_type, trigger, trigger_field, conditions, actions };
}

const listWorkflows = defineRoute({
  method: "GET",
  path: "/api/v1/workflows",
  scope: "admin",
  doc: {
    operationId: "list_workflows",
    summary: "List workflow rules, oldest first",
    tags,
    query: listParams(true),
    response: { status: 200, description: "Rules.", schema: listOf(ruleSchema, "WorkflowRuleList") },
    errors: [400, 403],
  },
  async handler({ db, orgId, req }) {
    const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 25, cursorPrefix: "wfr" });
    const all = await listRules(db, orgId);
    const from = cursor ? all.findIndex((r) => r.id === cursor) + 1 : 0;
    const page = all.slice(from, from + limit);
    const hasMore = from + limit < all.length;
    return { body: { object: "list", data: page.map(ruleView), has_more: hasMore, next_cursor: hasMore ? page.at(-1)!.id : null } };
  },
});

const createWorkflow = defineRoute({
  method: "POST",
  path: "/api/v1/workflows",
  scope: "admin",
  doc: {
    operationId: "create_workflow",
    summary: "Create a workflow rule",
    description:
      "“When a <record_type> <trigger>, and every condition holds, do these actions.” New rules are disabled unless `enabled: true`. Counts against the plan's workflow rule quota.",
    tags,
    body: { schema: ruleInput.meta({ id: "WorkflowRuleCreate" }) },
    response: { status: 201, description: "The rule.", schema: ruleSchema },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, req }) {
    return { status: 201, body: ruleView(await createRule(db, { orgId, actor, source: "api" }, await readJson(req), null)) };
  },
});

const getWorkflow = defineRoute({
  method: "GET",
  path: "/api/v1/workflows/{id}",
  scope: "admin",
  doc: {
    operationId: "get_workflow",
    summary: "Get a workflow rule",
    tags,
    params,
    response: { status: 200, description: "The rule.", schema: ruleSchema },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    return { body: ruleView(await getRule(db, orgId, id)) };
  },
});

const updateWorkflow = defineRoute({
  method: "PATCH",
  path: "/api/v1/workflows/{id}",
  scope: "admin",
  doc: {
    operationId: "update_workflow",
    summary: "Change a workflow rule",
    tags,
    params,
    body: { schema: rulePatch.meta({ id: "WorkflowRuleUpdate" }) },
    response: { status: 200, description: "The rule.", schema: ruleSchema },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    const body = await readJson(req);
    parse(rulePatch, body, "workflow rule");
    const current = asInput(ruleView(await getRule(db, orgId, id)));
    return { body: ruleView(await updateRule(db, { orgId, actor, source: "api" }, id, { ...current, ...(body as object) })) };
  },
});

const deleteWorkflow = defineRoute({
  method: "DELETE",
  path: "/api/v1/workflows/{id}",
  scope: "admin",
  doc: {
    operationId: "delete_workflow",
    summary: "Delete a workflow rule",
    tags,
    params,
    response: { status: 200, description: "Deleted.", schema: deletedOf("workflow_rule") },
    errors: [403, 404],
  },
  async handler({ db, orgId, actor }, { id }) {
    await deleteRule(db, { orgId, actor, source: "api" }, id);
    return { body: { id, object: "workflow_rule", deleted: true } };
  },
});

const testWorkflow = defineRoute({
  method: "POST",
  path: "/api/v1/workflows/{id}/test",
  scope: "admin",
  doc: {
    operationId: "test_workflow",
    summary: "Dry-run a rule against a record",
    description: "As if the rule's trigger had just happened to the record: does each condition hold, and what would the actions do? Nothing is written.",
    tags,
    params,
    body: { schema: testInput },
    response: {
      status: 200,
      description: "The dry run.",
      schema: z.object({
        object: z.literal("workflow_test"),
        record: z.object({ id: z.string(), type: z.string(), title: z.string() }),
        conditions: z.array(z.object({ description: z.string(), actual: z.unknown(), holds: z.boolean() })),
        would_fire: z.boolean(),
        actions: z.array(z.string()),
      }),
    },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, req }, { id }) {
    const { record_id } = parse(testInput, await readJson(req), "test request");
    const rule = asInput(ruleView(await getRule(db, orgId, id)));
    const r = await testRule(db, orgId, rule, record_id);
    return { body: { object: "workflow_test", record: r.record, conditions: r.conditions, would_fire: r.wouldFire, actions: r.actions } };
  },
});

export const workflowRoutes = [listWorkflows, createWorkflow, getWorkflow, updateWorkflow, deleteWorkflow, testWorkflow];
