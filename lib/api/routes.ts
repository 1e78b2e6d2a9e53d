import "server-only";
import { connectorRoutes } from "./connectors";
import { eventRoutes } from "./events";
import { importRoutes } from "./imports";
import { inboundSourceRoutes } from "./inbound-sources";
import { meRoutes } from "./me";
import { recordRoutes } from "./records";
import { webhookRoutes } from "./webhooks";
import { webhookLogRoutes } from "./webhook-log";
import { workflowRoutes } from "./workflows";
import type { RouteDeclaration } from "./define";

/** Every keyed /api/v1 route, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly RouteDeclaration[] = [
  ...meRoutes,
  ...recordRoutes,
  ...webhookRoutes,
  ...webhookLogRoutes,
  ...eventRoutes,
  ...workflowRoutes,
  ...inboundSourceRoutes,
  ...connectorRoutes,
  ...importRoutes,
];
