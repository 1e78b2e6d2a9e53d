import { serve } from "@/lib/api/define";
import { inboundSourceRoutes } from "@/lib/api/inbound-sources";

export const { GET, PATCH, DELETE } = serve(inboundSourceRoutes, "/api/v1/inbound-sources/{id}");
