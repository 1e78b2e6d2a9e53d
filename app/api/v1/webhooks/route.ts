import { serve } from "@/lib/api/define";
import { webhookRoutes } from "@/lib/api/webhooks";

export const { GET, POST } = serve(webhookRoutes, "/api/v1/webhooks");
