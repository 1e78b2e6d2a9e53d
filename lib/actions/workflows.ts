import "server-only";
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { defineOrgAction, uiChange } from "@/lib/auth/action";
import { createRule, deleteRule, ruleView, setRuleEnabled, testRule, updateRule } from "@/lib/workflows/rules";

const id = z.string().min(1).max(64);

/** The rule builder posts the whole rule as one JSON field. */
function ruleJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new AppError("invalid_json", "The rule could not be read.");
  }
}

export const createWorkflowAction = defineOrgAction({
  name: "workflows.create",
  role: "admin",
  input: z.object({ org: z.string(), rule: z.string().max(100_000) }),
  run: async (ctx, input) => ruleView(await createRule(ctx.db, uiChange(ctx), ruleJson(input.rule), ctx.userId)),
});

export const updateWorkflowAction = defineOrgAction({
  name: "workflows.update",
  role: "admin",
  input: z.object({ org: z.string(), id, rule: z.string().max(100_000) }),
  run: async (ctx, input) => ruleView(await updateRule(ctx.db, uiChange(ctx), input.id, ruleJson(input.rule))),
});

export const setWorkflowEnabledAction = defineOrgAction({
  name: "workflows.set_enabled",
  role: "admin",
  input: z.object({ org: z.string(), id, enabled: z.enum(["true", "false"]) }),
  run: async (ctx, input) => ruleView(await setRuleEnabled(ctx.db, uiChange(ctx), input.id, input.enabled === "true")),
});

export const deleteWorkflowAction = defineOrgAction({
  name: "workflows.delete",
  role: "admin",
  input: z.object({ org: z.string(), id }),
  run: async (ctx, input) => {
    await deleteRule(ctx.db, uiChange(ctx), input.id);
    return { id: input.id };
  },
});

/** A dry run against one of the org's records: nothing is written. */
export const testWorkflowAction = defineOrgAction({
  name: "workflows.test",
  role: "admin",
  input: z.object({ org: z.string(), rule: z.string().max(100_000), recordId: z.string().trim().min(1, "enter a record id").max(64) }),
  run: (ctx, input) => testRule(ctx.db, ctx.org.id, ruleJson(input.rule), input.recordId),
});
