import "server-only";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { isSupportedCountry } from "libphonenumber-js";
import { organizations, type Source } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { writeAudit, type Actor } from "@/lib/audit/write";
import { credentialsChanged } from "@/lib/api-keys/verify";

const origin = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "https:" || u.protocol === "http:") && u.origin === v.replace(/\/$/, "");
    } catch {
      return false;
    }
  }, "must be an origin like https://www.example.com (scheme and host, no path)")
  .transform((v) => v.replace(/\/$/, ""));

const redirectUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "https:" || u.protocol === "http:";
    } catch {
      return false;
    }
  }, "must be an http(s) URL");

export const leadSettingsSchema = z.object({
  allowedOrigins: z.array(origin).max(50, "at most 50 origins"),
  redirectUrls: z.array(redirectUrl).max(50, "at most 50 URLs"),
  /** Repeat leads (same email or phone) attach to the existing client. */
  merge: z.boolean().optional(),
  /** ISO 3166 alpha-2 country for phone numbers without a `+` prefix; empty for none. */
  defaultCountry: z
    .string()
    .trim()
    .toUpperCase()
    .refine((v) => v === "" || isSupportedCountry(v), "must be a two-letter country code such as US or GB")
    .optional(),
});

/** Lines of a textarea → list, blanks dropped. */
export const splitLines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

export async function updateLeadSettings(db: Db, ctx: { orgId: string; actor: Actor; source: Source }, input: z.input<typeof leadSettingsSchema>) {
  const parsed = leadSettingsSchema.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid lead capture settings.", zodDetails(parsed.error.issues));
  const updated = await db.transaction(async (tx) => {
    const [before] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!before) throw new AppError("not_found", "Organization not found.");
    const [after] = await tx
      .update(organizations)
      .set({
        leadAllowedOrigins: [...new Set(parsed.data.allowedOrigins)],
        leadRedirectUrls: [...new Set(parsed.data.redirectUrls)],
        leadMerge: parsed.data.merge ?? before.leadMerge,
        defaultCountry: parsed.data.defaultCountry === undefined ? before.defaultCountry : parsed.data.defaultCountry || null,
        updatedAt: new Date(),
      })
      .where(eq(organizations.id, ctx.orgId))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "lead_capture.settings_changed",
        targetType: "organization",
        targetId: ctx.orgId,
        before: {
          allowed_origins: before.leadAllowedOrigins,
          redirect_urls: before.leadRedirectUrls,
          merge: before.leadMerge,
          default_country: before.defaultCountry,
        },
        after: {
          allowed_origins: after!.leadAllowedOrigins,
          redirect_urls: after!.leadRedirectUrls,
          merge: after!.leadMerge,
          default_country: after!.defaultCountry,
        },
      },
    ]);
    return after!;
  });
  credentialsChanged(ctx.orgId);
  return updated;
}
