import { serve } from "@/lib/api/define";
import { connectorRoutes } from "@/lib/api/connectors";

export const { GET } = serve(connectorRoutes, "/api/v1/connectors/{id}/runs");
