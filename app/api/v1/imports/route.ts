import { serve } from "@/lib/api/define";
import { importRoutes } from "@/lib/api/imports";

export const { POST } = serve(importRoutes, "/api/v1/imports");
