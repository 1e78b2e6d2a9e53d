import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { hasRole, listMembers } from "@/lib/orgs/service";
import { listOpenInvitations } from "@/lib/orgs/invitations";
import { listDepartures } from "@/lib/orgs/departures";
import { emailUnavailableReason } from "@/lib/email/send";
import { Badge, Card, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { DepartureControls, InvitationControls, InviteMemberForm, MemberControls } from "@/components/settings/members";

const day = (d: Date) => d.toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" });

export default async function MembersPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const db = await getDb();
  const owner = hasRole(me.role, "owner");
  const admin = hasRole(me.role, "admin");
  const [members, invitations, departures] = await Promise.all([
    listMembers(db, me.org.id),
    admin ? listOpenInvitations(db, me.org.id) : Promise.resolve([]),
    admin ? listDepartures(db, me.org.id) : Promise.resolve([]),
  ]);
  const noEmail = emailUnavailableReason();
  return (
    <>
      <PageHeader
        title="Members"
        description={
          admin
            ? "Invite people by email: they join once they open the link and sign in or sign up with that address."
            : "Owners and admins manage the members of this organization."
        }
      />
      {admin ? (
        <Card title="Invite someone" className="mb-4">
          {noEmail ? <p className="mb-3 text-sm text-amber-700">{noEmail}</p> : null}
          <InviteMemberForm org={me.org.slug} canInviteOwners={owner} />
        </Card>
      ) : null}
      {admin && invitations.length ? (
        <Card title="Pending invitations" className="mb-4">
          <Table>
            <thead className="bg-slate-50">
              <tr>
                <Th>Email</Th>
                <Th>Role</Th>
                <Th>Expires</Th>
                <Th />
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {invitations.map((i) => (
                <tr key={i.id}>
                  <Td>{i.email}</Td>
                  <Td>
                    <Badge color="gray">{i.role}</Badge>
                  </Td>
                  <Td className="text-slate-500">{i.expiresAt < new Date() ? "expired" : day(i.expiresAt)}</Td>
                  <Td>{owner || i.role !== "owner" ? <InvitationControls org={me.org.slug} id={i.id} email={i.email} /> : null}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Card>
      ) : null}
      {departures.map((d) => (
        <Card
          key={d.userId}
          title={`${d.label} was ${d.what === "removed" ? "removed" : "demoted below admin"} on ${day(d.at)}`}
          description="What they created or saw that still works. Revoke or rotate each, then give the new secret to whatever uses it."
          className="mb-4"
        >
          <ul className="divide-y divide-slate-100 text-sm" aria-label={`Credentials ${d.label} could still use`}>
            {d.apiKeys.map((k) => (
              <li key={k.id} className="flex items-center justify-between gap-3 py-2">
                <span>
                  API key <strong>{k.name}</strong> <code className="text-xs">{k.prefix}…</code> (they created it)
                </span>
                <DepartureControls org={me.org.slug} kind="api_key" id={k.id} label={`API key ${k.name}`} />
              </li>
            ))}
            {d.webhookEndpoints.map((e) => (
              <li key={e.id} className="flex items-center justify-between gap-3 py-2">
                <span>
                  Webhook signing secret of <code className="text-xs">{e.url}</code> (they saw it)
                </span>
                <DepartureControls org={me.org.slug} kind="webhook_endpoint" id={e.id} label={`the webhook secret of ${e.url}`} />
              </li>
            ))}
            {d.inboundSources.map((s) => (
              <li key={s.id} className="flex items-center justify-between gap-3 py-2">
                <span>
                  Inbound source secret of <strong>{s.name}</strong> (they saw it)
                </span>
                <DepartureControls org={me.org.slug} kind="inbound_source" id={s.id} label={`the secret of ${s.name}`} />
              </li>
            ))}
          </ul>
        </Card>
      ))}
      <Table>
        <thead className="bg-slate-50">
          <tr>
            <Th>Email</Th>
            <Th>Name</Th>
            <Th>Role</Th>
            <Th>Joined</Th>
            {owner ? <Th /> : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {members.map((m) => (
            <tr key={m.userId}>
              <Td>{m.email}</Td>
              <Td>{m.name}</Td>
              <Td>
                <Badge color={m.role === "owner" ? "blue" : "gray"}>{m.role}</Badge>
              </Td>
              <Td className="text-slate-500">{day(m.createdAt)}</Td>
              {owner ? (
                <Td>
                  {m.userId === me.userId ? (
                    <span className="text-xs text-slate-400">you</span>
                  ) : (
                    <MemberControls org={me.org.slug} userId={m.userId} role={m.role} email={m.email} />
                  )}
                </Td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
