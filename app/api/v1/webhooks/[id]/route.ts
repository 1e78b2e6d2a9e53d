import { serve } from "@/lib/api/define";
import { webhookRoutes } from "@/lib/api/webhooks";

export const { GET, PATCH, DELETE } = serve(webhookRoutes, "/api/v1/webhooks/{id}");
