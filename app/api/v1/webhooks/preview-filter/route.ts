import { serve } from "@/lib/api/define";
import { webhookLogRoutes } from "@/lib/api/webhook-log";

export const { POST } = serve(webhookLogRoutes, "/api/v1/webhooks/preview-filter");
