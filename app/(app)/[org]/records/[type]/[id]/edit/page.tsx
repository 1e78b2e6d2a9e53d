import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { PageHeader } from "@/components/ui/layout";
import { RecordForm } from "@/components/records/record-form";
import { referenceOptions, typeFromSlug, recordOr404 } from "@/components/records/load";

export default async function EditRecordPage({ params }: { params: Promise<{ org: string; type: string; id: string }> }) {
  const { org: slug, type, id } = await params;
  const me = await requireMembership(slug);
  const def = typeFromSlug(type);
  const db = await getDb();
  const record = await recordOr404(db, me.org.id, def, id);
  const references = await referenceOptions(db, me.org.id, def);
  return (
    <>
      <PageHeader title={`Edit ${String(record[def.titleField] ?? record.id)}`} />
      <RecordForm
        org={me.org.slug}
        type={def.type}
        fields={def.fields}
        record={record}
        references={references}
        viewPath={`/${me.org.slug}/records/${def.slug}`}
      />
    </>
  );
}
