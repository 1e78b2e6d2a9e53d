import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { isAppError } from "@/lib/errors";
import { connectorView, getConnector, listRuns } from "@/lib/connectors/connectors";
import { Badge, Card, Code, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { ConnectorControls } from "@/components/settings/data-in";
import { formatDateTime } from "@/components/ui/dates";

export default async function ConnectorPage({ params }: { params: Promise<{ org: string; id: string }> }) {
  const { org: slug, id } = await params;
  const me = await requireMembership(slug, "admin");
  const db = await getDb();
  const connector = await getConnector(db, me.org.id, id).catch((err) => {
    if (isAppError(err) && err.code === "not_found") notFound();
    throw err;
  });
  const view = connectorView(connector);
  const runs = await listRuns(db, me.org.id, id, 50);
  return (
    <>
      <p className="mb-1 text-sm">
        <Link href={`/${me.org.slug}/settings/connectors`} className="text-slate-500 hover:underline">
          ← Connectors
        </Link>
      </p>
      <PageHeader
        title={connector.name}
        description={
          <>
            <Badge color={connector.status === "active" ? "green" : "red"}>{connector.status}</Badge>{" "}
            {connector.pausedReason ? <span className="text-red-700">{connector.pausedReason}</span> : null}
          </>
        }
        actions={<ConnectorControls org={me.org.slug} id={id} active={connector.status === "active"} />}
      />
      <Card title="Definition" className="mb-6">
        <Code>
          {JSON.stringify(
            {
              url: view.url,
              header_names: view.header_names,
              interval_minutes: view.interval_minutes,
              records_path: view.records_path,
              pagination: view.pagination,
              cursor: view.cursor,
              mapping: view.mapping,
            },
            null,
            2,
          )}
        </Code>
      </Card>
      <Table>
        <thead className="bg-slate-50">
          <tr>
            <Th>Started</Th>
            <Th>Status</Th>
            <Th>Duration</Th>
            <Th>Pages</Th>
            <Th>Fetched</Th>
            <Th>Created</Th>
            <Th>Updated</Th>
            <Th>Failed</Th>
            <Th>Error</Th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {runs.map((r) => (
            <tr key={r.id}>
              <Td className="text-xs">
                {formatDateTime(r.startedAt, { seconds: true })} <span className="text-slate-400">({r.trigger})</span>
              </Td>
              <Td>
                <Badge color={r.status === "succeeded" ? "green" : r.status === "failed" ? "red" : "amber"}>{r.status}</Badge>
              </Td>
              <Td>{r.durationMs !== null ? `${r.durationMs} ms` : "—"}</Td>
              <Td>{r.pages}</Td>
              <Td>{r.fetched}</Td>
              <Td>{r.created}</Td>
              <Td>{r.updated}</Td>
              <Td>{r.failed}</Td>
              <Td className="max-w-xs text-xs text-red-700">{r.error}</Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
