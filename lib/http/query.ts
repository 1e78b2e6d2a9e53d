import { z } from "zod";

/** `?limit=` as the list endpoints take it: a whole number from 1 to 100. */
export const limitParam = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be between 1 and 100").max(100, "must be between 1 and 100"));
