/**
 * Every event name Smarfle sends, in one place. The names are the public contract (DESIGN.md):
 * the record registry, the outbox, endpoint subscriptions, the events feed, the catalog and the
 * OpenAPI document all take their types from here, so a new event is a compile error until each
 * of them knows it (the catalog's descriptions and samples are keyed by these unions).
 */

/** A record's lifecycle, named for what happened to it. */
export const LIFECYCLE_EVENTS = [
  "client_created",
  "client_updated",
  "work_order_created",
  "work_order_completed",
  "invoice_sent",
  "invoice_paid",
  "booking_received",
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

/** The same changes for every record type. */
export const GENERIC_EVENTS = ["record.created", "record.updated", "record.deleted"] as const;
export type GenericEvent = (typeof GENERIC_EVENTS)[number];

/** The events a record change emits: what an endpoint subscribed to "every event" receives. */
export const EVENT_TYPES = [...LIFECYCLE_EVENTS, ...GENERIC_EVENTS] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Sent by a workflow rule to the endpoint it names, whatever that endpoint subscribes to. */
export const WORKFLOW_EVENT = "workflow_triggered" as const;
export type WorkflowEvent = typeof WORKFLOW_EVENT;

/** Record events and the workflow event: the catalog's "records" group, the events feed, test events. */
export const ALL_EVENT_TYPES = [...EVENT_TYPES, WORKFLOW_EVENT] as const;
export type RecordEventName = (typeof ALL_EVENT_TYPES)[number];

/**
 * Operational events: what happens to the organization's integrations themselves. Delivered only
 * to endpoints that subscribe to them by name.
 */
export const OPERATIONAL_EVENTS = [
  "endpoint.failing",
  "endpoint.recovered",
  "endpoint.disabled",
  "delivery.exhausted",
  "api_key.expiring",
  "connector.paused",
  "import.completed",
] as const;
export type OperationalEvent = (typeof OPERATIONAL_EVENTS)[number];

/** Any event Smarfle writes to the outbox. */
export type EventName = RecordEventName | OperationalEvent;

export function isOperationalEvent(type: string): type is OperationalEvent {
  return (OPERATIONAL_EVENTS as readonly string[]).includes(type);
}
