import { serve } from "@/lib/api/define";
import { recordRoutes } from "@/lib/api/records";

export const { GET, PATCH, DELETE } = serve(recordRoutes, "/api/v1/records/{type}/{id}");
