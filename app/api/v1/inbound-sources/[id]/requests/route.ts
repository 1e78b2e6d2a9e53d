import { serve } from "@/lib/api/define";
import { inboundSourceRoutes } from "@/lib/api/inbound-sources";

export const { GET } = serve(inboundSourceRoutes, "/api/v1/inbound-sources/{id}/requests");
