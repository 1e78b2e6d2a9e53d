import { z } from "zod";

/**
 * What a receiver needs without a second, authenticated call: events about a work order,
 * opportunity, invoice or booking carry `data.client`, a summary of the record's client, and
 * invoices carry `data.work_order`, the work order's title. The shapes are the public contract
 * (the event catalog's samples and schemas take them from here).
 */
export const clientSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    address: z.string().nullable(),
  })
  .meta({ description: "The record's client, as it was when the event was written; null when the record names no client." });
export type ClientSummary = z.infer<typeof clientSummarySchema>;

export const workOrderSummarySchema = z
  .object({ id: z.string(), title: z.string() })
  .meta({ description: "An invoice's work order; null when the invoice names none." });
export type WorkOrderSummary = z.infer<typeof workOrderSummarySchema>;

/** The record types whose events embed a client summary. */
export const TYPES_WITH_CLIENT = ["opportunity", "work_order", "invoice", "booking"] as const;
