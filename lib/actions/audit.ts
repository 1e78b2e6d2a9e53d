import "server-only";
import { z } from "zod";
import { setRetention } from "@/lib/audit/retention";
import { defineOrgAction, uiChange } from "@/lib/auth/action";

/** How long the org's audit entries, request logs and webhook events are kept: an owner's decision. */
export const updateAuditRetentionAction = defineOrgAction({
  name: "audit.retention",
  role: "owner",
  input: z.object({ org: z.string(), auditDays: z.string().max(10), requestDays: z.string().max(10), eventDays: z.string().max(10).optional() }),
  run: (ctx, input) => setRetention(ctx.db, uiChange(ctx), input),
});
