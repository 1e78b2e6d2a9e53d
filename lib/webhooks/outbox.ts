import "server-only";
import { EventEmitter } from "node:events";
import { and, eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, webhookEvents } from "@/db/schema";
import type { Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { insertRows } from "@/lib/db-utils";
import type { EventName } from "@/lib/events/names";
import { eventMatchesFilter, type EndpointFilter } from "./filter";
import { onePerChange } from "./one-per-change";

export interface OutboxEvent {
  type: EventName;
  recordType: string;
  recordId: string;
  data: Record<string, unknown>;
  previous?: Record<string, unknown> | null;
  /** Delivered to this endpoint only, whatever it subscribes to (a workflow rule's webhook). */
  endpointId?: string;
}

/**
 * Writes events and one pending delivery per subscribed, enabled endpoint, inside the caller's
 * transaction (the transactional outbox). Returns how many deliveries were queued.
 */
export type SubscribedEndpoint = { id: string; eventTypes: string[]; ordering?: "none" | "per_record"; filter?: EndpointFilter };

/** The org's enabled endpoints and what they subscribe to. */
export function subscribedEndpoints(tx: Executor, orgId: string): Promise<SubscribedEndpoint[]> {
  return tx
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes, ordering: webhookEndpoints.ordering, filter: webhookEndpoints.filter })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.status, "enabled")));
}

export async function writeOutbox(tx: Executor, orgId: string, events: OutboxEvent[], endpointsKnown?: SubscribedEndpoint[]): Promise<number> {
  if (events.length === 0) return 0;
  const now = new Date();
  const eventRows = events.map((e) => ({
    id: newId("evt"),
    orgId,
    type: e.type,
    recordType: e.recordType,
    recordId: e.recordId,
    data: e.data,
    previous: e.previous ?? null,
    createdAt: now,
  }));
  const endpoints = endpointsKnown ?? (await subscribedEndpoints(tx, orgId));
  await insertRows(tx, webhookEvents, eventRows);
  if (endpoints.length === 0) return 0;

  const matched = eventRows.flatMap((e, i) => {
    const only = events[i]!.endpointId;
    return endpoints
      .filter((ep) => (only ? ep.id === only : subscribes(ep, e)))
      .map((ep) => ({ event: events[i]!, row: e, endpointId: ep.id, ordering: ep.ordering }));
  });
  const deliveries = onePerChange(matched).map(({ row: e, endpointId, ordering }) => {
    // Per-record ordering: deliveries of one record to this endpoint go in version order.
    const version = e.data.version;
    const ordered = ordering === "per_record" && typeof version === "number";
    return {
      id: newId("dlv"),
      orgId,
      eventId: e.id,
      endpointId,
      status: "pending" as const,
      orderKey: ordered ? e.recordId : null,
      orderSeq: ordered ? version : null,
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    };
  });
  await insertRows(tx, webhookDeliveries, deliveries);
  return deliveries.length;
}

/** An endpoint takes an event of its types that passes its filter (most endpoints have none: no work). */
function subscribes(ep: SubscribedEndpoint, e: { type: string; data: Record<string, unknown>; previous: Record<string, unknown> | null }): boolean {
  if (ep.eventTypes.length > 0 && !ep.eventTypes.includes(e.type)) return false;
  return !ep.filter || eventMatchesFilter(ep.filter, e);
}

/**
 * Raised after a transaction that queued deliveries has committed, so a dispatcher in this
 * process can pick them up at once instead of waiting for its next poll. Kept on globalThis:
 * Next.js bundles instrumentation (where the dispatcher listens) apart from the route handlers
 * (where commits happen), and each bundle would otherwise hold an emitter of its own.
 */
const holder = globalThis as unknown as { __smarfleOutboxSignal?: EventEmitter };
export const outboxSignal = (holder.__smarfleOutboxSignal ??= new EventEmitter().setMaxListeners(50));

export function signalDeliveriesCommitted(orgId: string, count: number): void {
  if (count > 0) outboxSignal.emit("deliveries", { orgId, count });
}
