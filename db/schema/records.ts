import { sql } from "drizzle-orm";
import { boolean, date, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, type AnyPgColumn } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";
import { orgIdColumn } from "./identity";

/**
 * The columns every record type shares: tenancy, an optional external id (unique per org and
 * type, for idempotent upserts from other systems), free-form custom fields and a version
 * that grows with every change so webhook receivers can drop stale events.
 */
const recordColumns = () => ({
  id: text("id").primaryKey(),
  orgId: orgIdColumn(),
  externalId: text("external_id"),
  customFields: jsonb("custom_fields").$type<Record<string, unknown>>().notNull().default({}),
  version: integer("version").notNull().default(1),
  ...timestamps,
});

const recordIndexes = (name: string) => (t: { orgId: AnyPgColumn; externalId: AnyPgColumn; id: AnyPgColumn; updatedAt: AnyPgColumn }) => [
  uniqueIndex(`${name}_org_external_id_key`).on(t.orgId, t.externalId),
  index(`${name}_org_id_idx`).on(t.orgId, t.id),
  index(`${name}_org_updated_idx`).on(t.orgId, t.updatedAt),
];

export const CLIENT_STATUSES = ["lead", "active", "inactive"] as const;
export const clients = pgTable(
  "clients",
  {
    ...recordColumns(),
    name: text("name").notNull(),
    email: text("email"),
    phone: text("phone"),
    company: text("company"),
    address: text("address"),
    source: text("source"),
    status: text("status", { enum: CLIENT_STATUSES }).notNull().default("active"),
  },
  (t) => [
    ...recordIndexes("clients")(t),
    index("clients_org_status_idx").on(t.orgId, t.status),
    index("clients_org_email_idx").on(t.orgId, sql`lower(${t.email})`),
    // Finds a returning lead (or an import row) by phone: the last digits narrow, the normalized number decides.
    index("clients_org_phone_tail_idx").on(t.orgId, sql`right(regexp_replace(${t.phone}, '[^0-9]', '', 'g'), 7)`),
  ],
);

/** Every lead capture a client came from or returned through: when, which channel, what was sent. */
export const leadCaptures = pgTable(
  "lead_captures",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    clientId: text("client_id")
      .notNull()
      .references(() => clients.id, { onDelete: "cascade" }),
    channel: text("channel").notNull(),
    /** Whether this capture created the client (false: a returning lead). */
    created: boolean("created").notNull(),
    message: text("message"),
    fields: jsonb("fields").$type<Record<string, unknown>>().notNull().default({}),
    ...createdAt,
  },
  (t) => [index("lead_captures_client_idx").on(t.clientId, t.createdAt), index("lead_captures_org_idx").on(t.orgId, t.createdAt)],
);

export const OPPORTUNITY_STAGES = ["new", "qualified", "proposal", "negotiation", "closed_won", "closed_lost"] as const;
export const opportunities = pgTable(
  "opportunities",
  {
    ...recordColumns(),
    clientId: text("client_id").references(() => clients.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    value: numeric("value", { precision: 14, scale: 2, mode: "number" }),
    currency: text("currency").notNull().default("USD"),
    stage: text("stage", { enum: OPPORTUNITY_STAGES }).notNull().default("new"),
  },
  (t) => [...recordIndexes("opportunities")(t), index("opportunities_org_stage_idx").on(t.orgId, t.stage)],
);

export const WORK_ORDER_STATUSES = ["open", "scheduled", "in_progress", "completed", "cancelled"] as const;
export const workOrders = pgTable(
  "work_orders",
  {
    ...recordColumns(),
    clientId: text("client_id").references(() => clients.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true, mode: "date" }),
    status: text("status", { enum: WORK_ORDER_STATUSES }).notNull().default("open"),
  },
  (t) => [...recordIndexes("work_orders")(t), index("work_orders_org_status_idx").on(t.orgId, t.status)],
);

export const INVOICE_STATUSES = ["draft", "sent", "paid", "void"] as const;
export const invoices = pgTable(
  "invoices",
  {
    ...recordColumns(),
    clientId: text("client_id").references(() => clients.id, { onDelete: "set null" }),
    workOrderId: text("work_order_id").references(() => workOrders.id, { onDelete: "set null" }),
    number: text("number").notNull(),
    amount: numeric("amount", { precision: 14, scale: 2, mode: "number" }).notNull(),
    currency: text("currency").notNull().default("USD"),
    status: text("status", { enum: INVOICE_STATUSES }).notNull().default("draft"),
    dueDate: date("due_date", { mode: "string" }),
  },
  (t) => [...recordIndexes("invoices")(t), index("invoices_org_status_idx").on(t.orgId, t.status)],
);

export const BOOKING_STATUSES = ["pending", "confirmed", "completed", "cancelled", "no_show"] as const;
export const bookings = pgTable(
  "bookings",
  {
    ...recordColumns(),
    clientId: text("client_id").references(() => clients.id, { onDelete: "set null" }),
    service: text("service").notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true, mode: "date" }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true, mode: "date" }),
    status: text("status", { enum: BOOKING_STATUSES }).notNull().default("confirmed"),
  },
  (t) => [...recordIndexes("bookings")(t), index("bookings_org_status_idx").on(t.orgId, t.status)],
);
