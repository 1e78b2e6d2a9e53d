import type { ErrorDetail } from "@/lib/errors";
import { registry, type RecordType } from "@/lib/records/registry";

/**
 * Import errors written for the person who made the spreadsheet: "Row 7: the email address
 * 'bob@' is not valid", not a validator's "expected string, received null". Pure: built from the
 * field's definition and the cell's value; a problem these rules do not know keeps its own words.
 */

const quoted = (v: unknown) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return `'${s.length > 60 ? `${s.slice(0, 60)}…` : s}'`;
};
const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** One cell's problem, in words; `message` is what the validator said. */
export function cellProblem(type: RecordType, path: string, value: unknown, message: string): string {
  const field = registry[type].fields.find((f) => f.name === path);
  if (!field) return path ? `${path}: ${message}` : message;
  const label = field.label;
  if (isEmpty(value)) return field.required ? `${label} is required, and this row has none` : `${label}: ${message}`;
  if (typeof value === "string" && field.max && value.length > field.max) return `${label} is longer than ${field.max.toLocaleString("en-US")} characters`;
  switch (field.kind) {
    case "email":
      return `the email address ${quoted(value)} is not valid`;
    case "enum":
      return `${quoted(value)} is not a valid ${label.toLowerCase()}: use one of ${field.options!.join(", ")}`;
    case "money":
      return `${label} ${quoted(value)} is not a number`;
    case "currency":
      return `${label} ${quoted(value)} is not a three-letter currency code such as USD`;
    case "date":
    case "datetime":
      return `${label} ${quoted(value)} is not a date (write it as 2026-12-31${field.kind === "datetime" ? " or 2026-12-31 14:00" : ""})`;
    case "reference":
      return /must be a \w+ id/.test(message)
        ? `${label} ${quoted(value)} is not a ${field.references!.replace("_", " ")} id (${registry[field.references!].idPrefix}_…)`
        : `${label} ${quoted(value)}: ${message}`;
    default:
      return `${label} ${quoted(value)}: ${message}`;
  }
}

/** A failed row's reason, for the error file: "Row 7: …; …". */
export function rowProblem(type: RecordType, line: number, data: Record<string, unknown>, error: { message: string; details: ErrorDetail[] }): string {
  const problems = error.details.length ? error.details.map((d) => cellProblem(type, d.path, data[d.path], d.message)) : [error.message];
  return `Row ${line}: ${[...new Set(problems)].join("; ")}`;
}
