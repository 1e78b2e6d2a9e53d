import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { importView, listImports } from "@/lib/imports/imports";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { Badge, Card, PageHeader, Table, Td, Th } from "@/components/ui/layout";
import { ImportWizard } from "@/components/settings/import-wizard";

export default async function ImportPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const recent = (await listImports(await getDb(), me.org.id, 10)).map(importView).filter((j) => j.status !== "draft");
  const types = RECORD_TYPES.map((t) => ({
    type: t,
    label: registry[t].pluralLabel,
    fields: registry[t].fields.map((f) => ({ name: f.name, label: f.label, required: Boolean(f.required) })),
  }));
  return (
    <>
      <PageHeader
        title="Import"
        description="Bring clients, jobs, invoices and more in from a spreadsheet. Every row goes through the same checks, audit log and webhooks as a record typed in by hand."
      />
      <Card title="Import a file" className="mb-6">
        <ImportWizard org={me.org.slug} types={types} />
      </Card>
      {recent.length ? (
        <Table>
          <thead className="bg-slate-50">
            <tr>
              <Th>File</Th>
              <Th>Status</Th>
              <Th>Created</Th>
              <Th>Updated</Th>
              <Th>Failed</Th>
              <Th />
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {recent.map((j) => (
              <tr key={j.id}>
                <Td>
                  {j.filename} <span className="text-xs text-slate-400">({j.type})</span>
                </Td>
                <Td>
                  <Badge
                    color={
                      j.status === "failed" || (j.status === "completed" && j.failed > 0 && j.created + j.updated === 0)
                        ? "red"
                        : j.status === "completed" && j.failed === 0
                          ? "green"
                          : "amber"
                    }
                  >
                    {j.status === "completed" && j.failed > 0 ? "completed with failures" : j.status}
                  </Badge>
                </Td>
                <Td>{j.created}</Td>
                <Td>{j.updated}</Td>
                <Td>{j.failed}</Td>
                <Td>
                  {j.failed ? (
                    <a href={`/${me.org.slug}/settings/import/${j.id}/errors.csv`} className="text-xs text-brand-600 hover:underline">
                      Failed rows (CSV)
                    </a>
                  ) : null}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </>
  );
}
