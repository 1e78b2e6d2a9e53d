/**
 * Operational events: what happens to the organization's integrations themselves (an endpoint
 * failing, a connector paused, an import finished), as their own group in the event catalog.
 * They are delivered, signed, like any event — but only to endpoints that subscribe to them by
 * name (an endpoint subscribed to "every event" keeps receiving record events only).
 */
export { OPERATIONAL_EVENTS, isOperationalEvent, type OperationalEvent } from "@/lib/events/names";
import type { OperationalEvent } from "@/lib/events/names";

/** What each event is about: the `data.object` and the record type stored with the event. */
export const OPERATIONAL_EVENT_INFO: Record<OperationalEvent, { object: string; description: string; title: (d: Record<string, unknown>) => string }> = {
  "endpoint.failing": {
    object: "webhook_endpoint",
    description: "An endpoint's circuit opened after repeated failures: its deliveries wait, and a probe is sent after a cool-down.",
    title: (d) => `Webhook endpoint failing: ${String(d.url ?? "")}`,
  },
  "endpoint.recovered": {
    object: "webhook_endpoint",
    description: "An endpoint whose circuit was open answered again: its waiting deliveries are being sent.",
    title: (d) => `Webhook endpoint recovered: ${String(d.url ?? "")}`,
  },
  "endpoint.disabled": {
    object: "webhook_endpoint",
    description: "An endpoint was disabled: by an admin, by a 410 Gone, or after failing every delivery for WEBHOOK_DISABLE_AFTER.",
    title: (d) => `Webhook endpoint disabled: ${String(d.url ?? "")}`,
  },
  "delivery.exhausted": {
    object: "webhook_delivery",
    description: "Every attempt of a delivery failed; it stays in the log, and an admin can re-deliver it.",
    title: (d) => `Webhook delivery failed for good: ${String(d.event_type ?? "")} to ${String(d.url ?? "")}`,
  },
  "api_key.expiring": {
    object: "api_key",
    description: "An API key expires in 7 days.",
    title: (d) => `API key expiring soon: ${String(d.name ?? "")}`,
  },
  "connector.paused": {
    object: "connector",
    description: "A pull connector was paused and no longer runs on its schedule.",
    title: (d) => `Connector paused: ${String(d.name ?? "")}`,
  },
  "import.completed": {
    object: "import",
    description: "A file import finished; `data` carries its counts.",
    title: (d) => `Import finished: ${String(d.file_name ?? d.id ?? "")}`,
  },
};
