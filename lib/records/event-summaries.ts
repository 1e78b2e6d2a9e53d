import "server-only";
import { and, eq, inArray } from "drizzle-orm";
import { clients, workOrders } from "@/db/schema";
import type { Executor } from "@/db/client";
import type { OutboxEvent } from "@/lib/webhooks/outbox";
import { TYPES_WITH_CLIENT, type ClientSummary, type WorkOrderSummary } from "@/lib/events/summaries";

const hasClient = (recordType: string) => (TYPES_WITH_CLIENT as readonly string[]).includes(recordType);
const idOf = (v: unknown) => (typeof v === "string" ? v : null);

/**
 * Adds the client and work order summaries (lib/events/summaries.ts) to events' `data` (a copy: the caller's records are left as they are). One
 * query per kind of summary for the whole batch.
 */
export async function withSummaries(tx: Executor, orgId: string, events: OutboxEvent[]): Promise<OutboxEvent[]> {
  const about = events.filter((e) => hasClient(e.recordType));
  if (about.length === 0) return events;
  const clientIds = [...new Set(about.map((e) => idOf(e.data.client_id)).filter((id) => id !== null))];
  const workOrderIds = [
    ...new Set(
      about
        .filter((e) => e.recordType === "invoice")
        .map((e) => idOf(e.data.work_order_id))
        .filter((id) => id !== null),
    ),
  ];
  const [clientRows, workOrderRows] = await Promise.all([
    clientIds.length
      ? tx
          .select({ id: clients.id, name: clients.name, email: clients.email, phone: clients.phone, address: clients.address })
          .from(clients)
          .where(and(eq(clients.orgId, orgId), inArray(clients.id, clientIds)))
      : [],
    workOrderIds.length
      ? tx
          .select({ id: workOrders.id, title: workOrders.title })
          .from(workOrders)
          .where(and(eq(workOrders.orgId, orgId), inArray(workOrders.id, workOrderIds)))
      : [],
  ]);
  const clientById = new Map<string, ClientSummary>(clientRows.map((c) => [c.id, c]));
  const workOrderById = new Map<string, WorkOrderSummary>(workOrderRows.map((w) => [w.id, w]));
  // Events of one change share one `data`: they keep sharing the enriched copy.
  const copies = new Map<Record<string, unknown>, Record<string, unknown>>();
  return events.map((e) => {
    if (!hasClient(e.recordType)) return e;
    let data = copies.get(e.data);
    if (!data) {
      data = { ...e.data, client: clientById.get(idOf(e.data.client_id) ?? "") ?? null };
      if (e.recordType === "invoice") data.work_order = workOrderById.get(idOf(e.data.work_order_id) ?? "") ?? null;
      copies.set(e.data, data);
    }
    return { ...e, data };
  });
}
