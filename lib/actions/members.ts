import "server-only";
import { z } from "zod";
import { changeMemberRole, removeMember, renameOrganization, roleSchema } from "@/lib/orgs/service";
import { inviteMember, resendInvitation, revokeInvitation } from "@/lib/orgs/invitations";
import { defineOrgAction, uiChange, type OrgActionContext } from "@/lib/auth/action";

const inviter = (ctx: OrgActionContext) => ({ ...uiChange(ctx), inviterRole: ctx.role, inviterEmail: ctx.actor.label ?? "A member" });

/** Owners invite any role; admins members and admins (checked in inviteMember). */
export const inviteMemberAction = defineOrgAction({
  name: "members.invite",
  role: "admin",
  input: z.object({ org: z.string(), email: z.string().max(254), role: roleSchema }),
  run: async (ctx, input) => {
    const inv = await inviteMember(ctx.db, inviter(ctx), { email: input.email, role: input.role });
    return { id: inv.id, email: inv.email };
  },
});

export const resendInvitationAction = defineOrgAction({
  name: "members.resend_invitation",
  role: "admin",
  input: z.object({ org: z.string(), id: z.string().min(1).max(64) }),
  run: (ctx, input) => resendInvitation(ctx.db, inviter(ctx), input.id),
});

export const revokeInvitationAction = defineOrgAction({
  name: "members.revoke_invitation",
  role: "admin",
  input: z.object({ org: z.string(), id: z.string().min(1).max(64) }),
  run: (ctx, input) => revokeInvitation(ctx.db, inviter(ctx), input.id),
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

export const renameOrganizationAction = defineOrgAction({
  name: "organization.rename",
  role: "admin",
  input: z.object({ org: z.string(), name: z.string().max(200) }),
  run: async (ctx, input) => {
    const org = await renameOrganization(ctx.db, uiChange(ctx), input.name);
    return { name: org.name };
  },
});
