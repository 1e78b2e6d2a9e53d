"use client";

import { ActionForm, FieldError, SubmitButton } from "@/components/ui/action-form";
import { Input, Select } from "@/components/ui/form";
import {
  changeMemberRole,
  inviteMember,
  removeMember,
  resendInvitation,
  revokeApiKey,
  revokeInvitation,
  rotateSourceSecret,
  rotateWebhookSecret,
} from "@/app/(app)/[org]/actions";

const roles = ["member", "admin", "owner"] as const;

/** `canInviteOwners`: admins may invite members and admins only. */
export function InviteMemberForm({ org, canInviteOwners }: { org: string; canInviteOwners: boolean }) {
  return (
    <ActionForm
      action={inviteMember}
      resetOnSuccess
      success={() => <p className="text-sm text-green-700">Invitation sent.</p>}
      className="flex flex-wrap items-start gap-3"
    >
      <input type="hidden" name="org" value={org} />
      <div className="w-72 space-y-1">
        <label htmlFor="member-email" className="block text-sm font-medium text-slate-700">
          Email
        </label>
        <Input id="member-email" name="email" type="email" required placeholder="colleague@example.com" />
        <FieldError name="email" />
      </div>
      <div className="space-y-1">
        <label htmlFor="member-role" className="block text-sm font-medium text-slate-700">
          Role
        </label>
        <Select id="member-role" name="role" defaultValue="member">
          {roles
            .filter((r) => canInviteOwners || r !== "owner")
            .map((r) => (
              <option key={r}>{r}</option>
            ))}
        </Select>
      </div>
      <div className="pt-6">
        <SubmitButton>Send invitation</SubmitButton>
      </div>
    </ActionForm>
  );
}

export function MemberControls({ org, userId, role, email }: { org: string; userId: string; role: string; email: string }) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <ActionForm action={changeMemberRole} className="flex items-center gap-2">
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="userId" value={userId} />
        <Select name="role" defaultValue={role} aria-label={`Role of ${email}`} className="w-28">
          {roles.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </Select>
        <SubmitButton variant="secondary">Change role</SubmitButton>
      </ActionForm>
      <ActionForm action={removeMember} className="" confirm={`Remove ${email} from this organization?`}>
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="userId" value={userId} />
        <SubmitButton variant="danger">Remove</SubmitButton>
      </ActionForm>
    </div>
  );
}

export function InvitationControls({ org, id, email }: { org: string; id: string; email: string }) {
  return (
    <div className="flex flex-wrap items-center gap-2">
      <ActionForm action={resendInvitation} success={() => <span className="text-xs text-green-700">Sent again.</span>}>
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <SubmitButton variant="secondary">Resend</SubmitButton>
      </ActionForm>
      <ActionForm action={revokeInvitation} confirm={`Revoke the invitation to ${email}?`}>
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <SubmitButton variant="danger">Revoke</SubmitButton>
      </ActionForm>
    </div>
  );
}

const secretShown = (data: unknown) => {
  const secret = (data as { secret?: string } | null)?.secret;
  return secret ? (
    <span className="text-xs text-green-800">
      New secret (shown once): <code className="break-all">{secret}</code>
    </span>
  ) : (
    <span className="text-xs text-green-700">Done.</span>
  );
};

/** One click per credential someone who left could still use. */
export function DepartureControls({
  org,
  kind,
  id,
  label,
}: {
  org: string;
  kind: "api_key" | "webhook_endpoint" | "inbound_source";
  id: string;
  label: string;
}) {
  const action = kind === "api_key" ? revokeApiKey : kind === "webhook_endpoint" ? rotateWebhookSecret : rotateSourceSecret;
  const verb = kind === "api_key" ? "Revoke" : "Rotate secret";
  return (
    <ActionForm
      action={action}
      refresh={kind === "api_key"}
      success={secretShown}
      confirm={`${verb}: ${label}? The sender or integration using it must be given the new one.`}
    >
      <input type="hidden" name="org" value={org} />
      <input type="hidden" name="id" value={id} />
      {kind === "webhook_endpoint" ? <input type="hidden" name="grace" value="none" /> : null}
      <SubmitButton variant="danger">{verb}</SubmitButton>
    </ActionForm>
  );
}
