import { z } from "zod";
import { RECORD_TYPES, registry, type RecordType } from "@/lib/records/registry";
import { AppError, zodDetails } from "@/lib/errors";

/**
 * One mapping model for every way data comes in (inbound webhooks, connectors, file imports):
 *
 *   {"target": "client", "external_id": "id",
 *    "fields": {"name": "customer.name",
 *               "email": {"from": "contact.email", "transform": "lower"},
 *               "status": {"value": "lead"}}}
 *
 * A source path walks JSON with dots and [n] (for files: the column header). Pure functions.
 */

export const TRANSFORMS = ["trim", "lower", "upper", "number", "cents", "date", "boolean"] as const;
export type Transform = (typeof TRANSFORMS)[number];

const fieldRule = z.union([
  z.string().min(1).max(300),
  z
    .strictObject({
      from: z.string().min(1).max(300).optional(),
      transform: z.union([z.enum(TRANSFORMS), z.array(z.enum(TRANSFORMS)).max(5)]).optional(),
      map: z.record(z.string(), z.unknown()).optional(),
      default: z.unknown().optional(),
      value: z.unknown().optional(),
      /** Several columns joined with a space, empty ones left out ("First name" + "Last name"). */
      join: z.array(z.string().min(1).max(300)).min(2).max(5).optional(),
    })
    .refine(
      (r) => r.from !== undefined || r.value !== undefined || r.default !== undefined || r.join !== undefined,
      "needs `from`, `join`, `value` or `default`",
    ),
]);
export type FieldRule = z.infer<typeof fieldRule>;

export const mappingSchema = z
  .strictObject({
    target: z.enum(RECORD_TYPES),
    external_id: z.union([z.string().min(1).max(300), fieldRule]).optional(),
    fields: z.record(z.string(), fieldRule),
  })
  .superRefine((m, ctx) => {
    const known = new Set([...registry[m.target].fields.map((f) => f.name), "custom_fields"]);
    for (const key of Object.keys(m.fields)) {
      if (!known.has(key) && !key.startsWith("custom_fields.")) {
        ctx.addIssue({ code: "custom", path: ["fields", key], message: `is not a field of ${m.target} (use custom_fields.${key} for extra data)` });
      }
    }
  });
export type Mapping = z.infer<typeof mappingSchema>;

/** `a.b[2].c` → ["a", "b", 2, "c"]; a key with dots can be quoted: `a["x.y"]`. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3]!);
  }
  return out;
}

export function getPath(source: unknown, path: string): unknown {
  // A flat object (a CSV row) may have a column named with dots: try it whole first.
  if (source && typeof source === "object" && !Array.isArray(source) && Object.hasOwn(source, path)) return (source as Record<string, unknown>)[path];
  let cur: unknown = source;
  for (const part of parsePath(path)) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof part === "number") cur = Array.isArray(cur) ? cur[part] : undefined;
    else cur = typeof cur === "object" && Object.hasOwn(cur as object, part) ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return cur;
}

function applyTransform(value: unknown, t: Transform): unknown {
  if (value === null || value === undefined) return value;
  switch (t) {
    case "trim":
      return typeof value === "string" ? value.trim() : value;
    case "lower":
      return typeof value === "string" ? value.toLowerCase() : value;
    case "upper":
      return typeof value === "string" ? value.toUpperCase() : value;
    case "cents": {
      // Minor units (Stripe's amounts) → the amount: 1999 → 19.99.
      const n = typeof value === "number" ? value : Number(String(value).trim());
      return Number.isInteger(n) && String(value).trim() !== "" ? n / 100 : value;
    }
    case "number": {
      if (typeof value === "number") return value;
      const n = Number(
        String(value)
          .replace(/[\s,]/g, "")
          .replace(/^[$€£]/, ""),
      );
      return Number.isFinite(n) && String(value).trim() !== "" ? n : value; // invalid stays as-is: validation names it
    }
    case "date": {
      if (value instanceof Date) return value.toISOString();
      if (typeof value === "number") {
        // Spreadsheet serial dates (days since 1899-12-30) and Unix times.
        if (value > 20_000 && value < 80_000) return new Date(Math.round((value - 25_569) * 86_400_000)).toISOString();
        return new Date(value > 1e11 ? value : value * 1000).toISOString();
      }
      const d = new Date(String(value));
      return Number.isNaN(d.getTime()) ? value : d.toISOString();
    }
    case "boolean": {
      const s = String(value).trim().toLowerCase();
      if (["true", "yes", "y", "1", "on"].includes(s)) return true;
      if (["false", "no", "n", "0", "off", ""].includes(s)) return false;
      return value;
    }
  }
}

function joined(source: unknown, paths: string[]): string {
  return paths
    .map((p) => getPath(source, p))
    .filter((v) => v !== undefined && v !== null && String(v).trim() !== "")
    .map((v) => String(v).trim())
    .join(" ");
}

function resolveRule(rule: FieldRule, source: unknown): unknown {
  if (typeof rule === "string") return getPath(source, rule);
  let v: unknown =
    rule.value !== undefined
      ? rule.value
      : rule.from !== undefined
        ? getPath(source, rule.from)
        : rule.join !== undefined
          ? joined(source, rule.join)
          : undefined;
  for (const t of rule.transform === undefined ? [] : Array.isArray(rule.transform) ? rule.transform : [rule.transform]) v = applyTransform(v, t);
  if (rule.map && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
    const key = String(v);
    if (Object.hasOwn(rule.map, key)) v = rule.map[key];
  }
  if ((v === undefined || v === null || v === "") && rule.default !== undefined) v = rule.default;
  return v;
}

export interface MappedRecord {
  data: Record<string, unknown>;
  externalId: string | null;
}

/** Applies a mapping to one source object: the record's fields, ready for the pipeline. */
export function applyMapping(mapping: Mapping, source: unknown): MappedRecord {
  const data: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [target, rule] of Object.entries(mapping.fields)) {
    const v = resolveRule(rule, source);
    if (v === undefined) continue;
    if (target.startsWith("custom_fields.")) custom[target.slice("custom_fields.".length)] = v;
    else data[target] = typeof v === "string" && v.trim() === "" ? null : v;
  }
  if (Object.keys(custom).length) data.custom_fields = { ...((data.custom_fields as object) ?? {}), ...custom };
  let externalId: string | null = null;
  if (mapping.external_id !== undefined) {
    const v = resolveRule(mapping.external_id, source);
    if (v !== undefined && v !== null && String(v).trim() !== "") externalId = String(v).trim();
  }
  if (externalId) data.external_id = externalId;
  return { data, externalId };
}

/** Headers people use for a field, beside its name and label (compared without case, spaces or punctuation). */
const HEADER_VARIANTS: Record<string, string[]> = {
  name: ["full name", "fullname", "contact name", "customer name", "client name", "customer", "client", "contact"],
  email: ["e-mail", "email address", "e-mail address", "mail", "email id"],
  phone: ["phone number", "telephone", "tel", "mobile", "mobile number", "mobile phone", "cell", "cell phone", "phone no"],
  company: ["company name", "business", "business name", "organization", "organisation"],
  address: ["street address", "street", "postal address", "full address"],
  source: ["lead source", "channel", "origin"],
  title: ["job", "job title", "name", "subject"],
  number: ["invoice number", "invoice no", "invoice #", "invoice"],
  amount: ["total", "price", "value", "amount due"],
  due_date: ["due", "due on"],
  scheduled_at: ["scheduled", "date", "scheduled for", "when"],
  starts_at: ["start", "starts", "start time", "date"],
  ends_at: ["end", "ends", "end time"],
  service: ["service name", "booking"],
};
const FIRST_NAME = ["first name", "firstname", "given name", "first"];
const LAST_NAME = ["last name", "lastname", "surname", "family name", "last"];
const EXTERNAL_ID = ["external id", "id", "ref", "reference"];

/** "E-mail", " Phone  Number", "full_name" → "email", "phonenumber", "fullname". */
const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9#]+/g, "");

/**
 * Without a mapping, columns match fields by name, label or a common variant ("Full Name",
 * "E-mail", "Phone number", "Mobile"…); "First name" and "Last name" columns are joined into a
 * required name when there is no name column. A column is used once; the exact name wins over a variant.
 */
export function mappingByName(target: RecordType, columns: string[]): Mapping {
  const fields: Record<string, FieldRule> = {};
  const used = new Set<string>();
  const find = (names: string[]) => columns.find((c) => !used.has(c) && names.map(squash).includes(squash(c)));
  const defs = registry[target].fields;
  for (const pass of ["exact", "variant"] as const) {
    for (const f of defs) {
      if (fields[f.name]) continue;
      const col = find(pass === "exact" ? [f.name, f.label] : (HEADER_VARIANTS[f.name] ?? []));
      if (col) {
        fields[f.name] = col;
        used.add(col);
      }
    }
  }
  if (!fields.name && defs.some((f) => f.name === "name")) {
    const first = find(FIRST_NAME);
    const last = find(LAST_NAME);
    if (first && last) {
      fields.name = { join: [first, last] };
      used.add(first).add(last);
    } else if (first ?? last) {
      fields.name = (first ?? last)!;
      used.add((first ?? last)!);
    }
  }
  const externalId = find(EXTERNAL_ID);
  return { target, fields, ...(externalId ? { external_id: externalId } : {}) };
}

export function parseMapping(input: unknown): Mapping {
  const r = mappingSchema.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid mapping.", zodDetails(r.error.issues, "mapping"));
  return r.data;
}
