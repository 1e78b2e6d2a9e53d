import { serve } from "@/lib/api/define";
import { recordRoutes } from "@/lib/api/records";

export const { GET, POST } = serve(recordRoutes, "/api/v1/records/{type}");
