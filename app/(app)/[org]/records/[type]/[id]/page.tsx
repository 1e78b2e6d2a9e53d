import Link from "next/link";
import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { registry } from "@/lib/records/registry";
import { ButtonLink } from "@/components/ui/button";
import { Card, Code, PageHeader } from "@/components/ui/layout";
import { DeleteRecord } from "@/components/records/delete-record";
import { display, referenceTitles, typeFromSlug, recordOr404 } from "@/components/records/load";
import { LeadHistory } from "@/components/records/lead-history";
import { leadHistory } from "@/lib/leads/capture";
import { relatedToClient } from "@/lib/records/related";
import { queryAuditStream } from "@/lib/audit/query";
import { ENQUIRY_FIELDS, LeadEnquiry } from "@/components/records/lead-enquiry";
import { RelatedRecords } from "@/components/records/related-records";
import { ChangeHistory } from "@/components/records/change-history";

export default async function RecordPage({ params }: { params: Promise<{ org: string; type: string; id: string }> }) {
  const { org: slug, type, id } = await params;
  const me = await requireMembership(slug);
  const def = typeFromSlug(type);
  const db = await getDb();
  const record = await recordOr404(db, me.org.id, def, id);
  const [refs, related, history] = await Promise.all([
    referenceTitles(db, me.org.id, def, [record]),
    def.type === "client" ? relatedToClient(db, me.org.id, record.id) : null,
    queryAuditStream(db, me.org.id, { kind: "changes", target_type: def.type, target_id: record.id }, { limit: 20 }),
  ]);
  const base = `/${me.org.slug}/records/${def.slug}`;
  const isClient = def.type === "client";
  // The enquiry card shows the message and campaign: the rest of the custom fields stay below.
  const customFields = Object.fromEntries(
    Object.entries(record.custom_fields as Record<string, unknown>).filter(([k]) => !isClient || !(ENQUIRY_FIELDS as readonly string[]).includes(k)),
  );
  const captures = isClient ? await leadHistory(db, me.org.id, record.id) : [];
  return (
    <>
      <p className="mb-1 text-sm">
        <Link href={base} className="text-slate-500 hover:underline">
          ← {def.pluralLabel}
        </Link>
      </p>
      <PageHeader
        title={String(record[def.titleField] ?? record.id)}
        description={`${def.label} · ${record.id}`}
        actions={
          <>
            <ButtonLink href={`${base}/${record.id}/edit`} variant="secondary">
              Edit
            </ButtonLink>
            <DeleteRecord org={me.org.slug} type={def.type} id={record.id} listPath={base} label={def.label.toLowerCase()} />
          </>
        }
      />
      {isClient ? <LeadEnquiry record={record} /> : null}
      <Card>
        <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-2">
          {def.fields.map((f) => (
            <div key={f.name}>
              <dt className="text-xs font-medium text-slate-500">{f.label}</dt>
              <dd className="text-sm">
                {f.kind === "reference" && typeof record[f.name] === "string" ? (
                  <Link href={`/${me.org.slug}/records/${registry[f.references!].slug}/${String(record[f.name])}`} className="text-brand-600 hover:underline">
                    {refs[f.name]?.get(String(record[f.name])) ?? String(record[f.name])}
                  </Link>
                ) : (
                  display(record[f.name], f.kind)
                )}
              </dd>
            </div>
          ))}
          <div>
            <dt className="text-xs font-medium text-slate-500">External ID</dt>
            <dd className="text-sm">{display(record.external_id, "text")}</dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-slate-500">Version</dt>
            <dd className="text-sm">{record.version}</dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-slate-500">Created</dt>
            <dd className="text-sm">{display(record.created_at, "datetime")}</dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-slate-500">Updated</dt>
            <dd className="text-sm">{display(record.updated_at, "datetime")}</dd>
          </div>
        </dl>
      </Card>
      <LeadHistory captures={captures} />
      {Object.keys(customFields).length ? (
        <Card title="Custom fields" className="mt-4">
          <Code>{JSON.stringify(customFields, null, 2)}</Code>
        </Card>
      ) : null}
      {related ? <RelatedRecords org={me.org.slug} groups={related} /> : null}
      <ChangeHistory org={me.org.slug} targetType={def.type} targetId={record.id} entries={history.entries} />
    </>
  );
}
