import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listConnectors } from "@/lib/connectors/connectors";
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { CreateConnectorForm } from "@/components/settings/data-in";
import { formatDateTime } from "@/components/ui/dates";

export default async function ConnectorsPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const connectors = await listConnectors(await getDb(), me.org.id);
  return (
    <>
      <PageHeader
        title="Connectors"
        description="Smarfle polls another system on a schedule and upserts what changed. Five failed runs in a row pause a connector."
      />
      <Card title="Create a connector" className="mb-6">
        <CreateConnectorForm org={me.org.slug} />
      </Card>
      {connectors.length === 0 ? (
        <EmptyState title="No connectors yet">
          Create one above to pull records from another system&apos;s API on a schedule; Preview shows what its mapping makes of a sample.
        </EmptyState>
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>Name</Th>
              <Th>Every</Th>
              <Th>Status</Th>
              <Th>Last run</Th>
              <Th>Next run</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {connectors.map((c) => (
              <tr key={c.id}>
                <Td>
                  <Link href={`/${me.org.slug}/settings/connectors/${c.id}`} className="font-medium hover:text-brand-600">
                    {c.name}
                  </Link>
                  <div className="text-xs text-slate-500">{c.url}</div>
                </Td>
                <Td>{c.intervalMinutes} min</Td>
                <Td>
                  <Badge color={c.status === "active" ? (c.consecutiveFailures ? "amber" : "green") : "red"}>{c.status}</Badge>
                </Td>
                <Td className="text-xs">{formatDateTime(c.lastRunAt)}</Td>
                <Td className="text-xs">{c.status === "active" ? formatDateTime(c.nextRunAt) : "—"}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
