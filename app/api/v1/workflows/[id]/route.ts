import { serve } from "@/lib/api/define";
import { workflowRoutes } from "@/lib/api/workflows";

export const { GET, PATCH, DELETE } = serve(workflowRoutes, "/api/v1/workflows/{id}");
