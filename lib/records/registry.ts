import { z } from "zod";
import type { PgTable } from "drizzle-orm/pg-core";
import {
  BOOKING_STATUSES,
  CLIENT_STATUSES,
  INVOICE_STATUSES,
  OPPORTUNITY_STAGES,
  WORK_ORDER_STATUSES,
  bookings,
  clients,
  invoices,
  opportunities,
  workOrders,
} from "@/db/schema";
import type { IdPrefix } from "@/lib/ids";
import type { LifecycleEvent } from "@/lib/events/names";
import type { NotificationInput } from "@/lib/notifications/notify";
import { leadNotifications } from "@/lib/leads/notifications";

/**
 * One entry per record type: its table, its fields (from which the zod schemas, the API shape
 * and the UI forms are derived) and the lifecycle events it emits. Adding a type is adding an
 * entry here plus its table.
 */
export const RECORD_TYPES = ["client", "opportunity", "work_order", "invoice", "booking"] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export type FieldKind = "text" | "longtext" | "email" | "enum" | "money" | "currency" | "datetime" | "date" | "reference";

export interface FieldDef {
  /** snake_case name used by the API, webhooks, imports and forms. */
  name: string;
  /** drizzle property name on the table. */
  column: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  options?: readonly string[];
  references?: RecordType;
  max?: number;
  /** Shown as a column in list views. */
  list?: boolean;
  /** Has a default (status, currency): omitted or empty on create means the default; it cannot be cleared. */
  defaulted?: boolean;
}

/** A lifecycle event fired when `field` becomes `to` (on create or on update). */
interface Transition {
  field: string;
  to: string;
  event: LifecycleEvent;
}

export interface RecordTypeDef {
  type: RecordType;
  table: PgTable & Record<string, unknown>;
  idPrefix: IdPrefix;
  label: string;
  pluralLabel: string;
  /** URL segment in the app: /[org]/records/{slug}. */
  slug: string;
  fields: FieldDef[];
  /** The field the `status` filter applies to. */
  statusField: string;
  statusOptions: readonly string[];
  /** The field shown as the record's title. */
  titleField: string;
  /** Columns `q` searches (case-insensitive substring). */
  searchFields: string[];
  createdEvent?: LifecycleEvent;
  updatedEvent?: LifecycleEvent;
  transitions: Transition[];
  /** Who hears of new records of this type: the pipeline calls it with the records a write created. */
  notifyOnCreate?: (created: Record<string, unknown>[], options: { each: boolean }) => NotificationInput[];
}

const statusField = (options: readonly string[], name = "status"): FieldDef => ({
  name,
  column: name,
  label: name === "stage" ? "Stage" : "Status",
  kind: "enum",
  options,
  list: true,
  defaulted: true,
});
const clientRef: FieldDef = { name: "client_id", column: "clientId", label: "Client", kind: "reference", references: "client", list: true };

export const registry: Record<RecordType, RecordTypeDef> = {
  client: {
    type: "client",
    table: clients as unknown as RecordTypeDef["table"],
    idPrefix: "cli",
    label: "Client",
    pluralLabel: "Clients",
    slug: "clients",
    fields: [
      { name: "name", column: "name", label: "Name", kind: "text", required: true, list: true },
      { name: "email", column: "email", label: "Email", kind: "email", list: true },
      { name: "phone", column: "phone", label: "Phone", kind: "text", max: 50, list: true },
      { name: "company", column: "company", label: "Company", kind: "text" },
      { name: "address", column: "address", label: "Address", kind: "longtext", max: 500 },
      { name: "source", column: "source", label: "Source", kind: "text", max: 100 },
      statusField(CLIENT_STATUSES),
    ],
    statusField: "status",
    statusOptions: CLIENT_STATUSES,
    titleField: "name",
    searchFields: ["name", "email", "phone", "company"],
    createdEvent: "client_created",
    updatedEvent: "client_updated",
    transitions: [],
    notifyOnCreate: leadNotifications,
  },
  opportunity: {
    type: "opportunity",
    table: opportunities as unknown as RecordTypeDef["table"],
    idPrefix: "opp",
    label: "Opportunity",
    pluralLabel: "Opportunities",
    slug: "opportunities",
    fields: [
      { name: "title", column: "title", label: "Title", kind: "text", required: true, list: true },
      clientRef,
      { name: "value", column: "value", label: "Value", kind: "money", list: true },
      { name: "currency", column: "currency", label: "Currency", kind: "currency", defaulted: true },
      statusField(OPPORTUNITY_STAGES, "stage"),
    ],
    statusField: "stage",
    statusOptions: OPPORTUNITY_STAGES,
    titleField: "title",
    searchFields: ["title"],
    transitions: [],
  },
  work_order: {
    type: "work_order",
    table: workOrders as unknown as RecordTypeDef["table"],
    idPrefix: "wo",
    label: "Work order",
    pluralLabel: "Work orders",
    slug: "work-orders",
    fields: [
      { name: "title", column: "title", label: "Title", kind: "text", required: true, list: true },
      clientRef,
      { name: "scheduled_at", column: "scheduledAt", label: "Scheduled at", kind: "datetime", list: true },
      statusField(WORK_ORDER_STATUSES),
    ],
    statusField: "status",
    statusOptions: WORK_ORDER_STATUSES,
    titleField: "title",
    searchFields: ["title"],
    createdEvent: "work_order_created",
    transitions: [{ field: "status", to: "completed", event: "work_order_completed" }],
  },
  invoice: {
    type: "invoice",
    table: invoices as unknown as RecordTypeDef["table"],
    idPrefix: "inv",
    label: "Invoice",
    pluralLabel: "Invoices",
    slug: "invoices",
    fields: [
      { name: "number", column: "number", label: "Number", kind: "text", required: true, max: 50, list: true },
      clientRef,
      { name: "work_order_id", column: "workOrderId", label: "Work order", kind: "reference", references: "work_order" },
      { name: "amount", column: "amount", label: "Amount", kind: "money", required: true, list: true },
      { name: "currency", column: "currency", label: "Currency", kind: "currency", defaulted: true },
      { name: "due_date", column: "dueDate", label: "Due date", kind: "date", list: true },
      statusField(INVOICE_STATUSES),
    ],
    statusField: "status",
    statusOptions: INVOICE_STATUSES,
    titleField: "number",
    searchFields: ["number"],
    transitions: [
      { field: "status", to: "sent", event: "invoice_sent" },
      { field: "status", to: "paid", event: "invoice_paid" },
    ],
  },
  booking: {
    type: "booking",
    table: bookings as unknown as RecordTypeDef["table"],
    idPrefix: "bkg",
    label: "Booking",
    pluralLabel: "Bookings",
    slug: "bookings",
    fields: [
      { name: "service", column: "service", label: "Service", kind: "text", required: true, list: true },
      clientRef,
      { name: "starts_at", column: "startsAt", label: "Starts at", kind: "datetime", required: true, list: true },
      { name: "ends_at", column: "endsAt", label: "Ends at", kind: "datetime" },
      statusField(BOOKING_STATUSES),
    ],
    statusField: "status",
    statusOptions: BOOKING_STATUSES,
    titleField: "service",
    searchFields: ["service"],
    createdEvent: "booking_received",
    transitions: [],
  },
};

export function isRecordType(value: string): value is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(value);
}

export function recordTypeBySlug(slug: string): RecordTypeDef | undefined {
  return Object.values(registry).find((d) => d.slug === slug);
}

export { ALL_EVENT_TYPES, EVENT_TYPES, GENERIC_EVENTS, LIFECYCLE_EVENTS, WORKFLOW_EVENT, type EventType } from "@/lib/events/names";

// ---------------------------------------------------------------------------------------------
// Schemas, derived from the field definitions.

const emptyToNull = (v: unknown) => (typeof v === "string" && v.trim() === "" ? null : v);

function fieldSchema(def: FieldDef): z.ZodType {
  switch (def.kind) {
    case "text":
    case "longtext":
      return z
        .string()
        .trim()
        .min(1, "must not be empty")
        .max(def.max ?? 200, `must be at most ${def.max ?? 200} characters`);
    case "email":
      return z.string().trim().max(254).pipe(z.email("must be a valid email address"));
    case "enum":
      return z.enum(def.options as [string, ...string[]], { message: `must be one of: ${def.options!.join(", ")}` });
    case "money":
      return z
        .union([
          z.number(),
          z
            .string()
            .trim()
            .regex(/^-?\d+(\.\d+)?$/, "must be a number"),
        ])
        .transform(Number)
        .pipe(z.number().finite().min(-1e11, "is too small").max(1e11, "is too large"))
        .transform((n) => Math.round(n * 100) / 100);
    case "currency":
      return z
        .string()
        .trim()
        .transform((s) => s.toUpperCase())
        .pipe(z.string().regex(/^[A-Z]{3}$/, "must be a 3-letter ISO currency code"));
    case "datetime":
      return z
        .union([z.date(), z.string().trim().min(1)])
        .transform((v) => (v instanceof Date ? v : new Date(v)))
        .refine((d) => !Number.isNaN(d.getTime()), "must be an ISO 8601 date-time");
    case "date":
      return z
        .string()
        .trim()
        .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
        .refine((s) => {
          const d = new Date(`${s}T00:00:00Z`);
          return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
        }, "must be a real date");
    case "reference":
      return z
        .string()
        .trim()
        .max(64)
        .regex(new RegExp(`^${registry[def.references!].idPrefix}_[A-Za-z0-9]+$`), `must be a ${def.references} id`);
  }
}

// Keys that would reach an object's prototype when merged are refused outright.
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const customFieldsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(100)
      .refine((k) => !RESERVED_KEYS.has(k), "is a reserved name"),
    z.unknown(),
  )
  .refine((v) => JSON.stringify(v).length <= 16_384, "must be at most 16 KB as JSON");

const externalIdSchema = z.preprocess(emptyToNull, z.string().trim().min(1).max(255).nullable());

/** Validates a full record on create (required fields enforced). Input keys are snake_case. */
const emptyToUndefined = (v: unknown) => (v === null || (typeof v === "string" && v.trim() === "") ? undefined : v);

export function createSchema(def: RecordTypeDef) {
  const shape: Record<string, z.ZodType> = {};
  for (const f of def.fields) {
    const base = fieldSchema(f);
    shape[f.name] = f.required ? base : f.defaulted ? z.preprocess(emptyToUndefined, base.optional()) : z.preprocess(emptyToNull, base.nullable().optional());
  }
  shape.external_id = externalIdSchema.optional();
  shape.custom_fields = customFieldsSchema.optional();
  return z.strictObject(shape);
}

/** Validates a partial change: every field optional, optional ones may be cleared with null. */
export function updateSchema(def: RecordTypeDef) {
  const shape: Record<string, z.ZodType> = {};
  for (const f of def.fields) {
    const base = fieldSchema(f);
    // A form's "(default)" choice leaves a defaulted field as it is; an explicit null is refused.
    shape[f.name] = f.required
      ? base.optional()
      : f.defaulted
        ? z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), base.optional())
        : z.preprocess(emptyToNull, base.nullable().optional());
  }
  shape.external_id = externalIdSchema.optional();
  shape.custom_fields = customFieldsSchema.optional();
  return z.strictObject(shape);
}

const schemaCache = new Map<string, z.ZodType>();
export function schemasFor(def: RecordTypeDef): { create: z.ZodType<Record<string, unknown>>; update: z.ZodType<Record<string, unknown>> } {
  const key = def.type;
  if (!schemaCache.has(`${key}:create`)) {
    schemaCache.set(`${key}:create`, createSchema(def));
    schemaCache.set(`${key}:update`, updateSchema(def));
  }
  return {
    create: schemaCache.get(`${key}:create`) as z.ZodType<Record<string, unknown>>,
    update: schemaCache.get(`${key}:update`) as z.ZodType<Record<string, unknown>>,
  };
}

// ---------------------------------------------------------------------------------------------
// The record as the API returns it: the response schema of the OpenAPI document.

function outputFieldSchema(def: FieldDef): z.ZodType {
  switch (def.kind) {
    case "enum":
      return z.enum(def.options as [string, ...string[]]);
    case "money":
      return z.number();
    case "datetime":
      return z.iso.datetime();
    case "date":
      return z.iso.date();
    default:
      return z.string();
  }
}

const outputCache = new Map<RecordType, z.ZodObject>();
export function outputSchema(def: RecordTypeDef): z.ZodObject {
  let s = outputCache.get(def.type);
  if (!s) {
    const shape: Record<string, z.ZodType> = { id: z.string(), object: z.literal(def.type) };
    for (const f of def.fields) shape[f.name] = f.required ? outputFieldSchema(f) : outputFieldSchema(f).nullable();
    Object.assign(shape, {
      external_id: z.string().nullable(),
      custom_fields: z.record(z.string(), z.unknown()),
      version: z.number().int().min(1).meta({ description: "Grows by one with every change; drop events older than what you have." }),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
    });
    s = z.strictObject(shape).meta({ id: def.type, description: `A ${def.label.toLowerCase()}.` });
    outputCache.set(def.type, s);
  }
  return s;
}
