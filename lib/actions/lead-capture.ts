import "server-only";
import { z } from "zod";
import { splitLines, updateLeadSettings } from "@/lib/leads/settings";
import { defineOrgAction } from "@/lib/auth/action";

export const updateLeadSettingsAction = defineOrgAction({
  name: "lead_capture.update",
  role: "admin",
  input: z.object({ org: z.string(), allowedOrigins: z.string().max(10_000).default(""), redirectUrls: z.string().max(10_000).default("") }),
  async run(ctx, input) {
    const org = await updateLeadSettings(ctx.db, { orgId: ctx.org.id, actor: ctx.actor, source: "ui" }, {
      allowedOrigins: splitLines(input.allowedOrigins),
      redirectUrls: splitLines(input.redirectUrls),
    });
    return { allowedOrigins: org.leadAllowedOrigins, redirectUrls: org.leadRedirectUrls };
  },
});
