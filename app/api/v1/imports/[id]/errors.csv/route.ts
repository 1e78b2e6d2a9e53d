import { serve } from "@/lib/api/define";
import { importRoutes } from "@/lib/api/imports";

export const { GET } = serve(importRoutes, "/api/v1/imports/{id}/errors.csv");
