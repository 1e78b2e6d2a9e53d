import "server-only";
import { z } from "zod";
import { API_SCOPES } from "@/db/schema";
import { createApiKey, GRACE_PERIODS, revokeApiKey, rotateApiKey, type GracePeriod } from "@/lib/api-keys/keys";
import { defineOrgAction, uiChange } from "@/lib/auth/action";

/** Form checkboxes arrive as one string or an array of strings. */
const scopesField = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.enum(API_SCOPES)));

/** An optional expiry as a date (YYYY-MM-DD): the key stops working at the end of that UTC day. */
const expiryField = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined))
  .pipe(
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date")
      .optional(),
  )
  .transform((v) => (v ? new Date(`${v}T23:59:59.999Z`) : null));

const keyId = z.string().min(1).max(64);
const graceField = z.enum(Object.keys(GRACE_PERIODS) as [GracePeriod, ...GracePeriod[]], { message: "must be none, 1h, 24h or 7d" });

export const createApiKeyAction = defineOrgAction({
  name: "api_keys.create",
  role: "admin",
  input: z.object({ org: z.string(), name: z.string().max(100), scopes: scopesField, expires: expiryField }),
  async run(ctx, input) {
    const { key, apiKey } = await createApiKey(ctx.db, uiChange(ctx), {
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expires,
      createdByUserId: ctx.userId,
    });
    return { key, id: apiKey.id, prefix: apiKey.prefix, name: apiKey.name, scopes: apiKey.scopes };
  },
});

export const rotateApiKeyAction = defineOrgAction({
  name: "api_keys.rotate",
  role: "admin",
  input: z.object({ org: z.string(), id: keyId, grace: graceField }),
  async run(ctx, input) {
    const { key, apiKey } = await rotateApiKey(ctx.db, uiChange(ctx), input.id, input.grace, ctx.userId);
    return { key, id: apiKey.id, prefix: apiKey.prefix, name: apiKey.name, scopes: apiKey.scopes };
  },
});

export const revokeApiKeyAction = defineOrgAction({
  name: "api_keys.revoke",
  role: "admin",
  input: z.object({ org: z.string(), id: keyId }),
  run: (ctx, input) => revokeApiKey(ctx.db, uiChange(ctx), input.id),
});
