import type { ErrorDetail } from "@/lib/errors";

// NUL cannot be stored in PostgreSQL text or jsonb, and a lone UTF-16 surrogate is not valid
// Unicode: both are refused up front as validation errors instead of failing in the database.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Keys that reach an object's prototype when assigned: refused wherever they appear.
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Paths of every string or object key in `value` that the database could not store, and of
 * every prototype-polluting key (zod would drop those silently; we refuse them instead).
 */
export function invalidTextPaths(value: unknown, path = "", out: ErrorDetail[] = [], depth = 0): ErrorDetail[] {
  if (out.length >= 20 || depth > 20) return out;
  if (typeof value === "string") {
    if (BAD_TEXT.test(value)) out.push({ path, message: "contains a NUL character or invalid Unicode" });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => invalidTextPaths(v, `${path}[${i}]`, out, depth + 1));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (RESERVED_KEYS.has(k)) out.push({ path: p, message: "is a reserved name" });
      else if (BAD_TEXT.test(k)) out.push({ path: p, message: "field name contains a NUL character or invalid Unicode" });
      else invalidTextPaths(v, p, out, depth + 1);
    }
  }
  return out;
}
