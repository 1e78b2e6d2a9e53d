import "server-only";
import { eq } from "drizzle-orm";
import { z } from "zod";
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
});

/** Lines of a textarea → list, blanks dropped. */
export const splitLines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

export async function updateLeadSettings(
  db: Db,
  ctx: { orgId: string; actor: Actor; source: Source },
  input: { allowedOrigins: string[]; redirectUrls: string[] },
) {
  const parsed = leadSettingsSchema.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid lead capture settings.", zodDetails(parsed.error.issues));
  const updated = await db.transaction(async (tx) => {
    const [before] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!before) throw new AppError("not_found", "Organization not found.");
    const [after] = await tx
      .update(organizations)
      .set({ leadAllowedOrigins: [...new Set(parsed.data.allowedOrigins)], leadRedirectUrls: [...new Set(parsed.data.redirectUrls)], updatedAt: new Date() })
      .where(eq(organizations.id, ctx.orgId))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "lead_capture.settings_changed",
        targetType: "organization",
        targetId: ctx.orgId,
        before: { allowed_origins: before.leadAllowedOrigins, redirect_urls: before.leadRedirectUrls },
        after: { allowed_origins: after!.leadAllowedOrigins, redirect_urls: after!.leadRedirectUrls },
      },
    ]);
    return after!;
  });
  credentialsChanged(ctx.orgId);
  return updated;
}
