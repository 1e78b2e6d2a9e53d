import { getDb } from "@/db/client";
import { requireMembership } from "@/lib/auth/session";
import { workflowBuilderMeta } from "@/lib/workflows/meta";
import { PageHeader } from "@/components/ui/layout";
import { WorkflowBuilder } from "@/components/settings/workflows";

export default async function NewWorkflowPage({ params }: { params: Promise<{ org: string }> }) {
  const { org: slug } = await params;
  const me = await requireMembership(slug, "admin");
  const meta = await workflowBuilderMeta(await getDb(), me.org.id);
  return (
    <>
      <PageHeader title="New workflow rule" description="Rules start disabled unless you tick Enabled; try one on an existing record first." />
      <WorkflowBuilder
        org={me.org.slug}
        meta={meta}
        initial={{
          name: "",
          enabled: false,
          record_type: "opportunity",
          trigger: "field_changed",
          trigger_field: "stage",
          conditions: [{ field: "stage", op: "changed_to", value: "closed_won" }],
          actions: [{ type: "set_field", target: "client_id", field: "status", value: "active" }],
        }}
      />
    </>
  );
}
