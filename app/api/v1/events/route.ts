import { serve } from "@/lib/api/define";
import { eventRoutes } from "@/lib/api/events";

export const { GET } = serve(eventRoutes, "/api/v1/events");
