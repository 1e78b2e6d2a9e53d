import { serve } from "@/lib/api/define";
import { meRoutes } from "@/lib/api/me";

export const { GET } = serve(meRoutes, "/api/v1/me");
