import { serve } from "@/lib/api/define";
import { webhookRoutes } from "@/lib/api/webhooks";

export const { POST } = serve(webhookRoutes, "/api/v1/webhooks/{id}/test");
