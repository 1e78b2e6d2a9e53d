import type { PlanId } from "@/db/schema";

export interface PlanLimits {
  label: string;
  /** Records across all types; null = unlimited. */
  maxRecords: number | null;
  /** API requests per minute per key (and for the whole org, see lib/rate-limit). */
  rateLimitRpm: number;
  maxApiKeys: number | null;
  maxWebhookEndpoints: number | null;
  maxMembers: number | null;
  /** For Business these are a safety ceiling, not a sales limit. */
  maxInboundSources: number;
  maxConnectors: number;
  maxWorkflowRules: number;
}

export const PLANS: Record<PlanId, PlanLimits> = {
  starter: {
    label: "Starter",
    maxRecords: 1_000,
    rateLimitRpm: 60,
    maxApiKeys: 5,
    maxWebhookEndpoints: 3,
    maxMembers: 5,
    maxInboundSources: 3,
    maxConnectors: 3,
    maxWorkflowRules: 10,
  },
  pro: {
    label: "Pro",
    maxRecords: 50_000,
    rateLimitRpm: 600,
    maxApiKeys: 25,
    maxWebhookEndpoints: 20,
    maxMembers: 25,
    maxInboundSources: 20,
    maxConnectors: 20,
    maxWorkflowRules: 100,
  },
  business: {
    label: "Business",
    maxRecords: null,
    rateLimitRpm: 3_000,
    maxApiKeys: null,
    maxWebhookEndpoints: null,
    maxMembers: null,
    maxInboundSources: 1_000,
    maxConnectors: 1_000,
    maxWorkflowRules: 1_000,
  },
};

export function planLimits(plan: PlanId): PlanLimits {
  return PLANS[plan];
}

/** Where the Plan page's "contact us" writes to change plan. */
export const SALES_EMAIL = "sales@smarfle.dev";
