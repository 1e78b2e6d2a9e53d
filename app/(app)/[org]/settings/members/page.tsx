import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { hasRole, listMembers } from "@/lib/orgs/service";
import { Badge, Card, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { AddMemberForm, MemberControls } from "@/components/settings/members";

export default async function MembersPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug);
  const members = await listMembers(await getDb(), me.org.id);
  const owner = hasRole(me.role, "owner");
  return (
    <>
      <PageHeader title="Members" description={owner ? "Add people who already have a Smarfle account, change their role or remove them." : "Owners manage the members of this organization."} />
      {owner ? (
        <Card title="Add a member" className="mb-4">
          <AddMemberForm org={me.org.slug} />
        </Card>
      ) : null}
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
              <Td className="text-slate-500">{m.createdAt.toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" })}</Td>
              {owner ? <Td>{m.userId === me.userId ? <span className="text-xs text-slate-400">you</span> : <MemberControls org={me.org.slug} userId={m.userId} role={m.role} email={m.email} />}</Td> : null}
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
