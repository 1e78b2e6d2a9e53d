import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { PageHeader } from "@/components/ui/layout";
import { RecordForm } from "@/components/records/record-form";
import { referenceOptions, typeFromSlug } from "@/components/records/load";

export default async function NewRecordPage({ params }: { params: Promise<{ org: string; type: string }> }) {
  const { org: slug, type } = await params;
  const me = await requireMembership(slug);
  const def = typeFromSlug(type);
  const references = await referenceOptions(await getDb(), me.org.id, def);
  return (
    <>
      <PageHeader title={`New ${def.label.toLowerCase()}`} />
      <RecordForm org={me.org.slug} type={def.type} fields={def.fields} references={references} viewPath={`/${me.org.slug}/records/${def.slug}`} />
    </>
  );
}
