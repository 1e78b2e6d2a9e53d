import { AppError, zodDetails } from "@/lib/errors";
import { z } from "zod";

/** `?limit=` as the list endpoints take it: a whole number from 1 to 100. */
export const limitParam = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be between 1 and 100").max(100, "must be between 1 and 100"));

/**
 * The query of a list route: `limit` (1–100) and, where the list pages, a `cursor` that must look
 * like one of its ids. Any other parameter, or a bad value, is a 400 naming it.
 */
export function listQuery(search: URLSearchParams, options: { defaultLimit?: number; cursorPrefix?: string } = {}): { limit: number; cursor?: string } {
  const schema = z.strictObject({
    limit: limitParam.optional(),
    ...(options.cursorPrefix
      ? {
          cursor: z
            .string()
            .max(64)
            .regex(new RegExp(`^${options.cursorPrefix}_[A-Za-z0-9]+$`), `must be an id starting with ${options.cursorPrefix}_`)
            .optional(),
        }
      : {}),
  });
  const parsed = schema.safeParse(Object.fromEntries(search));
  if (!parsed.success) throw new AppError("validation_failed", "Invalid query parameters.", zodDetails(parsed.error.issues));
  const data = parsed.data as { limit?: number; cursor?: string };
  return { limit: data.limit ?? options.defaultLimit ?? 25, cursor: data.cursor };
}

/** A route that takes no query parameters refuses any, each named, as bodies refuse unknown fields. */
export function refuseQuery(search: URLSearchParams): void {
  if (search.size === 0) return;
  const parsed = z.strictObject({}).safeParse(Object.fromEntries(search));
  if (!parsed.success) throw new AppError("validation_failed", "This route takes no query parameters.", zodDetails(parsed.error.issues));
}
