import { serve } from "@/lib/api/define";
import { webhookLogRoutes } from "@/lib/api/webhook-log";

export const { GET } = serve(webhookLogRoutes, "/api/v1/deliveries/{id}");
