import "server-only";
import { eq } from "drizzle-orm";
import { CONDITION_OPS, WORKFLOW_TRIGGERS, webhookEndpoints } from "@/db/schema";
import type { Executor } from "@/db/client";
import { RECORD_TYPES, registry } from "@/lib/records/registry";
import { listRecords } from "@/lib/records/queries";
import { OPS_WITHOUT_VALUE, OP_LABELS } from "./engine";

const TRIGGER_LABELS: Record<(typeof WORKFLOW_TRIGGERS)[number], string> = {
  created: "is created",
  updated: "is updated",
  created_or_updated: "is created or updated",
  field_changed: "changes a field",
};

/** What the rule editor offers: each type's fields, triggers, operators, endpoints, recent records to try a rule on. */
export async function workflowBuilderMeta(db: Executor, orgId: string) {
  const [endpoints, recent] = await Promise.all([
    db
      .select({ id: webhookEndpoints.id, url: webhookEndpoints.url, description: webhookEndpoints.description })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.orgId, orgId)),
    Promise.all(RECORD_TYPES.map((t) => listRecords(db, orgId, t, { limit: 20 }))),
  ]);
  return {
    types: RECORD_TYPES.map((t) => {
      const def = registry[t];
      return {
        type: t,
        label: def.label,
        idPrefix: def.idPrefix,
        fields: [...def.fields.map((f) => ({ name: f.name, label: f.label, options: f.options })), { name: "external_id", label: "External id" }],
        references: def.fields.filter((f) => f.kind === "reference").map((f) => ({ name: f.name, label: f.label, target: f.references! })),
      };
    }),
    triggers: WORKFLOW_TRIGGERS.map((t) => ({ value: t, label: TRIGGER_LABELS[t] })),
    ops: CONDITION_OPS.map((o) => ({ value: o, label: OP_LABELS[o], needsValue: !OPS_WITHOUT_VALUE.includes(o) })),
    endpoints: endpoints.map((e) => ({ id: e.id, label: e.description ? `${e.description} (${e.url})` : e.url })),
    recent: Object.fromEntries(RECORD_TYPES.map((t, i) => [t, recent[i]!.data.map((r) => ({ id: r.id, title: String(r[registry[t].titleField] ?? r.id) }))])),
  };
}
