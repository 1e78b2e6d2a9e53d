import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listEndpoints } from "@/lib/webhooks/endpoints";
import { EVENT_TYPES } from "@/lib/records/registry";
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { AddEndpointForm } from "@/components/settings/webhooks";
import { formatDateTime } from "@/components/ui/dates";

export default async function WebhooksPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const endpoints = await listEndpoints(await getDb(), me.org.id);
  return (
    <>
      <PageHeader title="Webhooks" description="Smarfle POSTs signed events to these URLs as records change, retrying failures for a day." />
      <Card title="Add an endpoint" className="mb-6">
        <AddEndpointForm org={me.org.slug} events={EVENT_TYPES} subscribed={endpoints.map((e) => e.url)} />
      </Card>
      {endpoints.length === 0 ? (
        <EmptyState title="No endpoints yet">
          Add one above: a Zapier &ldquo;Catch Hook&rdquo; URL, Make&apos;s custom webhook, or your own app. Then send it a test event from its page.
        </EmptyState>
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>URL</Th>
              <Th>Events</Th>
              <Th>Status</Th>
              <Th>Last success</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {endpoints.map((e) => (
              <tr key={e.id}>
                <Td>
                  <Link href={`/${me.org.slug}/settings/webhooks/${e.id}`} className="font-medium text-slate-900 hover:text-brand-600">
                    {e.url}
                  </Link>
                  {e.description ? <div className="text-xs text-slate-500">{e.description}</div> : null}
                </Td>
                <Td className="text-xs">
                  {e.eventTypes.length ? e.eventTypes.join(", ") : "all events"}
                  {e.filter?.length ? (
                    <div className="text-slate-500">
                      filtered: {e.filter.length} condition{e.filter.length === 1 ? "" : "s"}
                    </div>
                  ) : null}
                </Td>
                <Td>
                  <Badge color={e.status === "enabled" ? (e.failingSince ? "amber" : "green") : "red"}>
                    {e.status === "enabled" && e.failingSince ? "failing" : e.status}
                  </Badge>
                </Td>
                <Td className="text-xs text-slate-500">{formatDateTime(e.lastSuccessAt)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
