import { AppError } from "@/lib/errors";
import { mapLead } from "./map";
import type { CapturedLead } from "./capture";

/**
 * A Google Ads lead form's webhook payload → a lead. Google sends `lead_id`, the answers as
 * `user_column_data` items (`column_id` such as FULL_NAME, EMAIL, PHONE_NUMBER, with
 * `string_value`), the form, campaign and click ids, `google_key` and `is_test`. Known columns
 * become client fields; the rest, and the ids, are kept in custom fields. Pure.
 */

const COLUMNS: Record<string, string> = {
  FULL_NAME: "full_name",
  FIRST_NAME: "first_name",
  LAST_NAME: "last_name",
  EMAIL: "email",
  WORK_EMAIL: "work_email",
  PHONE_NUMBER: "phone",
  WORK_PHONE: "work_phone",
  COMPANY_NAME: "company",
  STREET_ADDRESS: "address",
};
const IDS = ["form_id", "campaign_id", "adgroup_id", "creative_id", "asset_group_id", "gcl_id", "api_version"] as const;
export const MAX_GOOGLE_COLUMNS = 100;
const MAX_LEAD_ID_LENGTH = 200;

export interface GoogleLead {
  leadId: string;
  lead: CapturedLead;
}

export function googleLead(payload: unknown): GoogleLead {
  const p = (typeof payload === "object" && payload !== null && !Array.isArray(payload) ? payload : {}) as Record<string, unknown>;
  const leadId = typeof p.lead_id === "string" ? p.lead_id.trim() : "";
  if (!leadId || leadId.length > MAX_LEAD_ID_LENGTH)
    throw new AppError("validation_failed", "A Google Ads lead needs its lead_id.", [{ path: "lead_id", message: "required, at most 200 characters" }]);
  const columns = Array.isArray(p.user_column_data) ? p.user_column_data : [];
  if (columns.length > MAX_GOOGLE_COLUMNS)
    throw new AppError("validation_failed", `A lead has at most ${MAX_GOOGLE_COLUMNS} columns.`, [
      { path: "user_column_data", message: `got ${columns.length}` },
    ]);

  const flat: Record<string, unknown> = {};
  for (const c of columns as Record<string, unknown>[]) {
    const id = typeof c?.column_id === "string" ? c.column_id : null;
    const value = typeof c?.string_value === "string" ? c.string_value : null;
    if (!id || value === null) continue;
    const key = COLUMNS[id] ?? (typeof c.column_name === "string" && !/^[A-Z_]+$/.test(id) ? c.column_name : id.toLowerCase());
    if (!(key in flat)) flat[key] = value;
  }
  // A work address stands in when the personal one is missing.
  flat.email ??= flat.work_email;
  flat.phone ??= flat.work_phone;
  const test = p.is_test === true;
  for (const id of IDS) if (p[id] !== undefined && p[id] !== null) flat[id === "gcl_id" ? "gclid" : id] = String(p[id]);
  flat.google_lead_id = leadId;
  if (test) flat.is_test = true;
  const { data } = mapLead(flat, "google ads");
  data.source = "google ads";
  return { leadId, lead: { data, channel: "google ads", test } };
}
