import "server-only";
import { z } from "zod";
import { markAllRead } from "@/lib/notifications/notify";
import { defineOrgAction } from "@/lib/auth/action";

export const markNotificationsReadAction = defineOrgAction({
  name: "notifications.mark_all_read",
  role: "member",
  input: z.object({ org: z.string() }),
  run: (ctx) => markAllRead(ctx.db, ctx.org.id, ctx.userId),
});
