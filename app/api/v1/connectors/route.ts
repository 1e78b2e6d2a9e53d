import { serve } from "@/lib/api/define";
import { connectorRoutes } from "@/lib/api/connectors";

export const { GET, POST } = serve(connectorRoutes, "/api/v1/connectors");
