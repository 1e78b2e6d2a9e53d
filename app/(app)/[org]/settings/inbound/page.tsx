import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { listSources } from "@/lib/inbound/sources";
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { CreateSourceForm } from "@/components/settings/data-in";
import { PRESETS } from "@/lib/inbound/presets";

export default async function InboundPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const sources = await listSources(await getDb(), me.org.id);
  return (
    <>
      <PageHeader
        title="Inbound webhooks"
        description="Other systems post their events here; each verified payload is mapped onto a record and upserted by its external id."
      />
      <Card title="Create a source" className="mb-6">
        <CreateSourceForm org={me.org.slug} />
      </Card>
      {sources.length === 0 ? (
        <EmptyState title="No inbound sources yet">
          Create one above to receive another system&apos;s webhooks (Stripe, Shopify, Typeform, Calendly…) as records.
        </EmptyState>
      ) : (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>Name</Th>
              <Th>Signature</Th>
              <Th>Target</Th>
              <Th>Status</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {sources.map((s) => (
              <tr key={s.id}>
                <Td>
                  <Link href={`/${me.org.slug}/settings/inbound/${s.id}`} className="font-medium hover:text-brand-600">
                    {s.name}
                  </Link>
                </Td>
                <Td className="font-mono text-xs">{s.kind}</Td>
                <Td>{PRESETS[s.kind].lead ? "lead capture" : String((s.mapping as { target?: string }).target ?? "")}</Td>
                <Td>
                  <Badge color={s.enabled ? "green" : "gray"}>{s.enabled ? "enabled" : "disabled"}</Badge>
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}
