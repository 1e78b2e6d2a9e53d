import "server-only";
import { z } from "zod";
import { addMember, changeMemberRole, removeMember, roleSchema } from "@/lib/orgs/service";
import { defineOrgAction, uiChange } from "@/lib/auth/action";


export const addMemberAction = defineOrgAction({
  name: "members.add",
  role: "owner",
  input: z.object({ org: z.string(), email: z.string().max(254), role: roleSchema }),
  run: (ctx, input) => addMember(ctx.db, uiChange(ctx), { email: input.email, role: input.role }),
});

export const changeMemberRoleAction = defineOrgAction({
  name: "members.change_role",
  role: "owner",
  input: z.object({ org: z.string(), userId: z.string().min(1).max(64), role: roleSchema }),
  run: (ctx, input) => changeMemberRole(ctx.db, uiChange(ctx), { userId: input.userId, role: input.role }),
});

export const removeMemberAction = defineOrgAction({
  name: "members.remove",
  role: "owner",
  input: z.object({ org: z.string(), userId: z.string().min(1).max(64) }),
  run: (ctx, input) => removeMember(ctx.db, uiChange(ctx), { userId: input.userId }),
});
