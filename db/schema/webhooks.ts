import { sql } from "drizzle-orm";
import { boolean, customType, doublePrecision, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { WorkflowCondition } from "./workflows";
import { OPERATIONAL_EVENTS } from "@/lib/events/names";
import { createdAt, timestamps } from "./columns";
import { orgIdColumn } from "./identity";

/** A URL an org subscribed to some or all event types (an empty list means all). */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    url: text("url").notNull(),
    description: text("description"),
    eventTypes: text("event_types")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Conditions over the event's data/previous, all of which must hold (null: every event of its types). */
    filter: jsonb("filter").$type<WorkflowCondition[] | null>(),
    /** Encrypted at rest: it must be readable to sign. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** During a rotation's grace period both secrets sign. */
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true, mode: "date" }),
    status: text("status", { enum: ["enabled", "disabled"] })
      .notNull()
      .default("enabled"),
    /** Why it was disabled: by an admin, a 410 Gone from the receiver, or 5 days of failures. */
    disabledReason: text("disabled_reason"),
    /** First failed delivery since the last success; cleared by a success or by re-enabling. */
    failingSince: timestamp("failing_since", { withTimezone: true, mode: "date" }),
    lastSuccessAt: timestamp("last_success_at", { withTimezone: true, mode: "date" }),
    /** Deliveries per second the receiver asked for (1–1,000); null: as fast as the worker goes. */
    rateLimit: integer("rate_limit"),
    /** The rate in force after 429/503 answers (AIMD); null: no back-off in force. */
    effectiveRate: doublePrecision("effective_rate"),
    rateReason: text("rate_reason"),
    /** When the effective rate last moved: it grows back one step per quiet interval. */
    rateChangedAt: timestamp("rate_changed_at", { withTimezone: true, mode: "date" }),
    /** The next free send slot when a rate is in force: claiming N deliveries reserves N slots. */
    rateNextAt: timestamp("rate_next_at", { withTimezone: true, mode: "date" }),
    /** A Retry-After on a 429/503 pauses the whole endpoint until then. */
    pausedUntil: timestamp("paused_until", { withTimezone: true, mode: "date" }),
    pauseReason: text("pause_reason"),
    ordering: text("ordering", { enum: ["none", "per_record"] })
      .notNull()
      .default("none"),
    /** The circuit breaker: closed (sending), open (waiting out a cool-down), half_open (one probe out). */
    circuitState: text("circuit_state", { enum: ["closed", "open", "half_open"] })
      .notNull()
      .default("closed"),
    /** Open: when the probe may go. Half open: when the probe's lease runs out. */
    circuitUntil: timestamp("circuit_until", { withTimezone: true, mode: "date" }),
    circuitCooldownSeconds: integer("circuit_cooldown_seconds").notNull().default(0),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** Static headers sent with every delivery, encrypted as one JSON object; their names are shown. */
    headersCiphertext: text("headers_ciphertext"),
    headerNames: text("header_names")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** How Smarfle authenticates to the receiver; the secret half is encrypted. */
    authKind: text("auth_kind", { enum: ["none", "bearer", "basic", "oauth2"] })
      .notNull()
      .default("none"),
    /** The shown half: username, or token URL, client id and scope. */
    authPublic: jsonb("auth_public").$type<Record<string, string>>(),
    authCiphertext: text("auth_ciphertext"),
    ...timestamps,
  },
  (t) => [index("webhook_endpoints_org_idx").on(t.orgId, t.status)],
);

/** PostgreSQL's 64-bit transaction id, read as a decimal string (it outgrows a JS number's exact range). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

/**
 * The transactional outbox: written in the same transaction as the change it describes, so a
 * crash after commit loses nothing. `data` is the record as it was at that moment.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    type: text("type").notNull(),
    recordType: text("record_type").notNull(),
    recordId: text("record_id").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    previous: jsonb("previous").$type<Record<string, unknown> | null>(),
    /** Sent from settings with a sample payload: never in the events feed, never counts as a failure. */
    isTest: boolean("is_test").notNull().default(false),
    /** The writing transaction's id: the events feed's `after=` order (lib/webhooks/events-feed.ts). */
    xid: xid8("xid")
      .notNull()
      .default(sql`pg_current_xact_id()`),
    ...createdAt,
  },
  (t) => [
    index("webhook_events_org_created_idx").on(t.orgId, t.createdAt, t.id),
    index("webhook_events_org_xid_idx").on(t.orgId, t.xid, t.id),
    // Operational events are few among record events: the admin mailer reads them by this.
    index("webhook_events_operational_idx")
      .on(t.createdAt)
      .where(sql`${t.type} in (${sql.raw(OPERATIONAL_EVENTS.map((e) => `'${e}'`).join(", "))})`),
  ],
);

/** `recovered`: failed, then a re-delivery of the same event to the same endpoint succeeded. */
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "recovered"] as const;

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** Attempts answered 429/503: back-pressure, so they do not use up the retry schedule. */
    throttledCount: integer("throttled_count").notNull().default(0),
    /** Per-record ordering: the record this delivery is about, and its version (null when unordered). */
    orderKey: text("order_key"),
    orderSeq: integer("order_seq"),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** Set once the delivery was handed to the queue; the sweeper re-dispatches rows left NULL. */
    dispatchedAt: timestamp("dispatched_at", { withTimezone: true, mode: "date" }),
    /** A worker holds the delivery until then; a crashed worker's claim simply expires. */
    lockedUntil: timestamp("locked_until", { withTimezone: true, mode: "date" }),
    completedAt: timestamp("completed_at", { withTimezone: true, mode: "date" }),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    ...timestamps,
  },
  (t) => [
    index("webhook_deliveries_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
    index("webhook_deliveries_endpoint_due_idx")
      .on(t.endpointId, t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_order_idx")
      .on(t.endpointId, t.orderKey, t.orderSeq)
      .where(sql`${t.status} = 'pending' and ${t.orderKey} is not null`),
    index("webhook_deliveries_event_idx").on(t.eventId),
    // A success marks the same event's earlier failed deliveries to the endpoint "recovered":
    // without this, every batch of attempts scanned the whole table for them.
    index("webhook_deliveries_failed_idx")
      .on(t.eventId, t.endpointId)
      .where(sql`${t.status} = 'failed'`),
  ],
);

export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptNumber: integer("attempt_number").notNull(),
    url: text("url").notNull(),
    requestHeaders: jsonb("request_headers").$type<Record<string, string>>().notNull(),
    requestBody: text("request_body").notNull(),
    responseStatus: integer("response_status"),
    responseHeaders: jsonb("response_headers").$type<Record<string, string>>(),
    responseBody: text("response_body"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    ...createdAt,
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attemptNumber), index("webhook_attempts_org_created_idx").on(t.orgId, t.createdAt)],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

/** Operational events whose email to the org's admins has been sent (or claimed by a server). */
export const operationalEmails = pgTable("operational_emails", {
  eventId: text("event_id")
    .primaryKey()
    .references(() => webhookEvents.id, { onDelete: "cascade" }),
  ...createdAt,
});
