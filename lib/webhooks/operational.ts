import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { webhookEndpoints } from "@/db/schema";
import type { Executor } from "@/db/client";
import { notifyMembers } from "@/lib/notifications/notify";
import { writeOutbox } from "./outbox";
import { OPERATIONAL_EVENT_INFO, type OperationalEvent } from "./operational-events";

export interface OperationalEventOptions {
  /** The endpoint the event is about: it never receives its own alert. */
  aboutEndpointId?: string;
  /** Skip the bell (the caller already notified the admins in its own words). */
  noBell?: boolean;
}

/**
 * Records an operational event in the caller's transaction: one event, one delivery per endpoint
 * subscribed to it by name, and a bell notification for the org's owners and admins. `data` is
 * the subject (it must carry `id`); its `object` is set from the catalog. Returns how many
 * deliveries were queued (signal them after commit).
 */
export async function emitOperationalEvent(
  tx: Executor,
  orgId: string,
  type: OperationalEvent,
  data: Record<string, unknown> & { id: string },
  options: OperationalEventOptions = {},
): Promise<number> {
  const info = OPERATIONAL_EVENT_INFO[type];
  const subscribers = await tx
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes, filter: webhookEndpoints.filter })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), eq(webhookEndpoints.status, "enabled"), sql`${type} = any(${webhookEndpoints.eventTypes})`));
  const endpoints = subscribers.filter((e) => e.id !== options.aboutEndpointId);
  const queued = await writeOutbox(tx, orgId, [{ type, recordType: info.object, recordId: data.id, data: { object: info.object, ...data } }], endpoints);
  if (!options.noBell) {
    await notifyMembers(
      tx,
      orgId,
      [{ kind: type, title: info.title(data), body: null, link: typeof data.link === "string" ? data.link : null }],
      ["owner", "admin"],
    );
  }
  return queued;
}
