import "server-only";
import { z } from "zod";
import { ERROR_STATUS } from "@/lib/errors";
import { RECORD_TYPES } from "@/lib/records/registry";

/** The schemas several route declarations document with (lib/api/*). */

export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [string, ...string[]]),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
      request_id: z.string().meta({ example: "req_00VblOwM700fri7S14Fi6ew" }),
    }),
  })
  .meta({ id: "Error", description: "Every API error has this shape." });

/** A page of `schema`: `{object: "list", data, has_more, next_cursor}`, named `id` in the components. */
export const listOf = (schema: z.ZodType, id: string) =>
  z.object({ object: z.literal("list"), data: z.array(schema), has_more: z.boolean(), next_cursor: z.string().nullable() }).meta({ id });

/** `limit` (1–100) and, for lists that page, `cursor`: what lib/http/query's listQuery accepts. */
export const listParams = (paged: boolean) =>
  z.object({
    limit: z.string().optional().meta({ description: "A whole number from 1 to 100." }),
    ...(paged ? { cursor: z.string().optional().meta({ description: "The `next_cursor` of the previous page." }) } : {}),
  });

/** The `{id}` path parameter, with an example id of the resource's prefix. */
export const idParam = (prefix: string, description?: string) =>
  z.object({ id: z.string().meta({ ...(description ? { description } : {}), example: `${prefix}_00VblOwM200XQjR1cC9gEmj` }) });

export const deletedOf = (object: string) => z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

export const mappingDoc = z.object({ target: z.enum(RECORD_TYPES), external_id: z.unknown().optional(), fields: z.record(z.string(), z.unknown()) }).meta({
  id: "Mapping",
  description:
    'Maps a payload onto a record: `fields` takes, per target field, a source path (dots and [n]) or `{from, transform (trim|lower|upper|number|cents|date|boolean), map, default, value}`; `external_id` names the path used for upserts. Example: `{"target":"client","external_id":"customer.id","fields":{"name":"customer.first_name","email":{"from":"customer.email","transform":"lower"}}}`',
});
