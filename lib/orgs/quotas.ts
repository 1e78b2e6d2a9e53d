import "server-only";
import { count, eq } from "drizzle-orm";
import { connectors, inboundSources, organizations, workflowRules } from "@/db/schema";
import type { Executor } from "@/db/client";
import { AppError } from "@/lib/errors";
import { planLimits, type PlanLimits } from "./plans";

/**
 * Per-plan quotas on the objects an organization configures, checked in the domain function that
 * creates one (so the settings UI, the API and the CLI are refused alike), inside its transaction.
 */
const QUOTAS = {
  inbound_source: { table: inboundSources, limit: "maxInboundSources", noun: "inbound sources" },
  connector: { table: connectors, limit: "maxConnectors", noun: "connectors" },
  workflow_rule: { table: workflowRules, limit: "maxWorkflowRules", noun: "workflow rules" },
} as const satisfies Record<string, { table: typeof inboundSources | typeof connectors | typeof workflowRules; limit: keyof PlanLimits; noun: string }>;

export type QuotaKind = keyof typeof QUOTAS;

/**
 * Refuses one more object of `kind` when the organization's plan allows no more. Locks the
 * organization's row, so two concurrent creations cannot both take the last place.
 */
export async function assertQuota(tx: Executor, orgId: string, kind: QuotaKind): Promise<void> {
  const quota = QUOTAS[kind];
  const [org] = await tx.select({ plan: organizations.plan }).from(organizations).where(eq(organizations.id, orgId)).for("update");
  if (!org) throw new AppError("not_found", "Organization not found.");
  const limits = planLimits(org.plan);
  const max = limits[quota.limit];
  const [n] = await tx.select({ n: count() }).from(quota.table).where(eq(quota.table.orgId, orgId));
  if ((n?.n ?? 0) >= max)
    throw new AppError(
      "plan_limit_reached",
      `Your ${limits.label} plan allows ${max.toLocaleString("en-US")} ${quota.noun}. Delete one or upgrade the plan to add more.`,
      [{ path: quota.limit, message: `limit of ${max} reached` }],
    );
}
