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
}

export const PLANS: Record<PlanId, PlanLimits> = {
  starter: { label: "Starter", maxRecords: 1_000, rateLimitRpm: 60, maxApiKeys: 5, maxWebhookEndpoints: 3, maxMembers: 5 },
  pro: { label: "Pro", maxRecords: 50_000, rateLimitRpm: 600, maxApiKeys: 25, maxWebhookEndpoints: 20, maxMembers: 25 },
  business: { label: "Business", maxRecords: null, rateLimitRpm: 3_000, maxApiKeys: null, maxWebhookEndpoints: null, maxMembers: null },
};

export function planLimits(plan: PlanId): PlanLimits {
  return PLANS[plan];
}
