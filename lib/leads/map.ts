import { AppError } from "@/lib/errors";

/**
 * Turns what a web form, an ad platform or a script posts into a client record: the usual field
 * names map to columns, UTM parameters and anything else go to custom fields. Pure.
 */

export const HONEYPOT_FIELD = "_gotcha";
const CONTROL_FIELDS = new Set(["api_key", "key", "redirect_to", HONEYPOT_FIELD]);
const RESERVED = new Set(["__proto__", "constructor", "prototype"]);
const ALIASES: Record<string, string> = {
  name: "name",
  full_name: "name",
  fullname: "name",
  your_name: "name",
  email: "email",
  email_address: "email",
  mail: "email",
  phone: "phone",
  phone_number: "phone",
  tel: "phone",
  telephone: "phone",
  mobile: "phone",
  company: "company",
  company_name: "company",
  organization: "company",
  address: "address",
  source: "source",
};
const UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
const MAX_CUSTOM_FIELDS = 50;
const MAX_VALUE_LENGTH = 5000;

export interface MappedLead {
  data: Record<string, unknown>;
  /** The honeypot was filled in: a bot. Answer as if accepted, write nothing. */
  spam: boolean;
  redirectTo: string | null;
}

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() || undefined;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

const normKey = (k: string) =>
  k
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");

export function mapLead(raw: unknown, defaultSource: string): MappedLead {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new AppError("validation_failed", "A lead must be a JSON object or form fields.", [{ path: "", message: "expected an object" }]);
  }
  const input = raw as Record<string, unknown>;
  const spam = Boolean(text(input[HONEYPOT_FIELD]));
  const data: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  let firstName: string | undefined;
  let lastName: string | undefined;

  for (const [rawKey, value] of Object.entries(input)) {
    const key = normKey(rawKey);
    if (CONTROL_FIELDS.has(key) || RESERVED.has(rawKey) || RESERVED.has(key) || key === "") continue;
    if (key === "first_name" || key === "firstname") firstName = text(value);
    else if (key === "last_name" || key === "lastname" || key === "surname") lastName = text(value);
    else if (ALIASES[key]) {
      // Strings only: a number or object here is a mistake the pipeline's validation names.
      if (typeof value === "string") {
        if (value.trim()) data[ALIASES[key]!] = value.trim();
      } else if (value !== undefined && value !== null) data[ALIASES[key]!] = value;
    } else if (key === "message" || key === "notes" || key === "comments" || UTM.includes(key)) {
      const v = text(value);
      if (v !== undefined) custom[key === "notes" || key === "comments" ? "message" : key] = v.slice(0, MAX_VALUE_LENGTH);
    } else if (Object.keys(custom).length < MAX_CUSTOM_FIELDS) {
      custom[key.slice(0, 100)] = typeof value === "string" ? value.slice(0, MAX_VALUE_LENGTH) : value;
    }
  }
  if (!data.name && (firstName || lastName)) data.name = [firstName, lastName].filter(Boolean).join(" ");
  if (!data.name) data.name = (typeof data.email === "string" && data.email) || (typeof data.phone === "string" && data.phone) || undefined;
  if (!data.name) {
    throw new AppError("validation_failed", "A lead needs at least a name, an email address or a phone number.", [
      { path: "name", message: "give a name, email or phone" },
    ]);
  }
  data.source ??= text(input.utm_source) ?? defaultSource;
  data.status = "lead";
  if (Object.keys(custom).length) data.custom_fields = custom;
  return { data, spam, redirectTo: text(input.redirect_to) ?? null };
}
