import "server-only";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { DELIVERY_STATUSES, webhookDeliveries, webhookEvents, type WebhookDelivery } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { limitParam } from "@/lib/http/query";
import { CATALOG_EVENT_TYPES } from "./catalog";
import { getEndpoint, listAttempts, listDeliveries } from "./endpoints";

/** The delivery log as the API shows it: each delivery, and every attempt's exact request and response. */

export const deliveriesQuery = z.strictObject({
  status: z.enum(DELIVERY_STATUSES).optional(),
  event_type: z.enum(CATALOG_EVENT_TYPES).optional(),
  cursor: z.string().max(64).regex(/^dlv_[A-Za-z0-9]+$/, "must be a delivery id").optional(),
  limit: limitParam.optional(),
});

type Row = { delivery: WebhookDelivery; eventType: string; isTest: boolean; recordId: string };

export function deliveryView({ delivery: d, eventType, isTest, recordId }: Row) {
  return {
    id: d.id,
    object: "webhook_delivery" as const,
    endpoint_id: d.endpointId,
    event_id: d.eventId,
    event_type: eventType,
    record_id: recordId,
    test: isTest,
    status: d.status,
    attempt_count: d.attemptCount,
    next_attempt_at: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
    completed_at: d.completedAt?.toISOString() ?? null,
    last_response_status: d.lastResponseStatus,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
  };
}

type Attempt = Awaited<ReturnType<typeof listAttempts>>[number];

export function attemptView(a: Attempt) {
  return {
    attempt_number: a.attemptNumber,
    at: a.createdAt.toISOString(),
    duration_ms: a.durationMs,
    request: { method: "POST" as const, url: a.url, headers: a.requestHeaders, body: a.requestBody, body_length: Buffer.byteLength(a.requestBody) },
    response: a.responseStatus === null ? null : { status: a.responseStatus, headers: a.responseHeaders ?? {}, body: a.responseBody ?? "" },
    error: a.error,
  };
}

/** A page of an endpoint's deliveries, newest first, filtered by status and event type. */
export async function pageDeliveries(db: Db, orgId: string, endpointId: string, search: URLSearchParams) {
  const parsed = deliveriesQuery.safeParse(Object.fromEntries(search));
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const { status, event_type, cursor, limit = 25 } = parsed.data;
  await getEndpoint(db, orgId, endpointId);
  const page = await listDeliveries(db, orgId, endpointId, { status, eventType: event_type, cursor, limit });
  return { object: "list" as const, data: page.items.map(deliveryView), has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
}

/** One delivery with every attempt. */
export async function getDelivery(db: Db, orgId: string, id: string) {
  const [row] = await db
    .select({ delivery: webhookDeliveries, eventType: webhookEvents.type, isTest: webhookEvents.isTest, recordId: webhookEvents.recordId })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id)));
  if (!row) throw new AppError("not_found", `No delivery with id ${id}.`);
  const attempts = await listAttempts(db, orgId, [id]);
  return { ...deliveryView(row), attempts: attempts.map(attemptView) };
}

export const recoverInput = z.strictObject({ since: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }) });
