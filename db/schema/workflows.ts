import { boolean, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";
import { orgIdColumn, users } from "./identity";

export const WORKFLOW_TRIGGERS = ["created", "updated", "created_or_updated", "field_changed"] as const;
export type WorkflowTrigger = (typeof WORKFLOW_TRIGGERS)[number];

export const CONDITION_OPS = ["equals", "not_equals", "contains", "greater_than", "less_than", "is_empty", "is_not_empty", "changed_to"] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

export interface WorkflowCondition {
  field: string;
  op: ConditionOp;
  value?: string | number | boolean | null;
}

export type WorkflowAction =
  /** `target` is "self" or a reference field of the record (e.g. `client_id`): the record it points at. */
  | { type: "set_field"; target: string; field: string; value: string | number | boolean | null }
  | { type: "notify"; audience: "members" | "admins" | "owners"; title: string; body?: string | null }
  | { type: "webhook"; endpoint_id: string };

/**
 * "When a <record_type> is created / updated / changes <trigger_field>, and every condition
 * holds, do these actions in order." Evaluated inside the record pipeline for every source.
 */
export const workflowRules = pgTable(
  "workflow_rules",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    name: text("name").notNull(),
    enabled: boolean("enabled").notNull().default(false),
    recordType: text("record_type").notNull(),
    trigger: text("trigger", { enum: WORKFLOW_TRIGGERS }).notNull(),
    triggerField: text("trigger_field"),
    conditions: jsonb("conditions").$type<WorkflowCondition[]>().notNull(),
    actions: jsonb("actions").$type<WorkflowAction[]>().notNull(),
    createdByUserId: text("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [index("workflow_rules_org_type_idx").on(t.orgId, t.recordType)],
);

export type WorkflowRule = typeof workflowRules.$inferSelect;
