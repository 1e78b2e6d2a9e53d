import { z } from "zod";
import { CONDITION_OPS, type WorkflowCondition } from "@/db/schema";
import type { ErrorDetail } from "@/lib/errors";
import { OPS_WITHOUT_VALUE } from "./engine";

/**
 * The condition language workflow rules and webhook filters share: `{field, op, value}`, all of
 * which must hold. Rules read a record's fields; filters read an event's `data.*` and `previous.*`.
 */

export const MAX_CONDITIONS = 20;

export const conditionValue = z.union([z.string().max(500), z.number().finite(), z.boolean(), z.null()]);

export function conditionListSchema(field: z.ZodType<string>) {
  return z
    .array(z.strictObject({ field, op: z.enum(CONDITION_OPS), value: conditionValue.optional() }))
    .max(MAX_CONDITIONS, `at most ${MAX_CONDITIONS} conditions`);
}

/** Problems with the values (an op that compares needs one); drops the value of ops that take none. */
export function checkConditionValues(conditions: WorkflowCondition[], path: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  conditions.forEach((c, i) => {
    if (OPS_WITHOUT_VALUE.includes(c.op)) delete c.value;
    else if (c.value === undefined || c.value === null || c.value === "")
      problems.push({ path: `${path}.${i}.value`, message: "needs a value to compare with" });
  });
  return problems;
}
