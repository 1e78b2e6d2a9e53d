import "server-only";
import type { Role, WorkflowAction, WorkflowRule } from "@/db/schema";
import type { Tx } from "@/db/client";
import { writeAudit, type AuditInput } from "@/lib/audit/write";
import { notifyMembers, type NotificationInput } from "@/lib/notifications/notify";
import { writeOutbox, type OutboxEvent, type SubscribedEndpoint } from "@/lib/webhooks/outbox";
import { WORKFLOW_EVENT, registry, type RecordType, type RecordTypeDef } from "@/lib/records/registry";
import type { ApiRecord } from "@/lib/records/serialize";
import type { OpResult, WriteContext, WriteOp } from "@/lib/records/pipeline";
import { describeAction, describeTrigger, renderTemplate, ruleMatches } from "./engine";
import { actionTargetType, setFieldPatch } from "./rules";

/**
 * Carries out the workflow rules a batch of changes triggers, inside the pipeline's
 * transaction: field updates (through the pipeline again, as the rule, with rules switched off
 * for those writes), notifications, and `workflow_triggered` webhooks to the endpoint a rule
 * names. Each firing is an audit entry listing what each action did.
 */

interface WorkflowChange {
  before: ApiRecord | null;
  after: ApiRecord | null;
}

type NestedWrite = (type: RecordType, ops: WriteOp[], ctx: WriteContext) => Promise<{ results: OpResult[]; deliveries: number }>;

interface ActionOutcome {
  type: WorkflowAction["type"];
  summary: string;
  ok: boolean;
  error?: string;
}

interface Firing {
  rule: WorkflowRule;
  record: ApiRecord;
  outcomes: ActionOutcome[];
}

const AUDIENCE_ROLES: Record<"members" | "admins" | "owners", Role[] | undefined> = {
  members: undefined,
  admins: ["owner", "admin"],
  owners: ["owner"],
};

export interface WorkflowRunResult {
  /** Deliveries queued by the rules' writes and webhooks. */
  deliveries: number;
  /** The latest state of records the rules changed, by id. */
  latest: Map<string, ApiRecord>;
}

export async function runWorkflows(
  tx: Tx,
  ctx: WriteContext,
  def: RecordTypeDef,
  rules: WorkflowRule[],
  changes: WorkflowChange[],
  endpoints: SubscribedEndpoint[],
  writeNested: NestedWrite,
): Promise<WorkflowRunResult> {
  const result: WorkflowRunResult = { deliveries: 0, latest: new Map() };
  const firings: Firing[] = [];
  for (const ch of changes) {
    if (!ch.after) continue;
    for (const rule of rules) if (ruleMatches(rule, ch.before, ch.after)) firings.push({ rule, record: ch.after, outcomes: [] });
  }
  if (firings.length === 0) return result;

  const enabledEndpoints = new Set(endpoints.map((e) => e.id));
  const notifications = new Map<string, NotificationInput[]>(); // audience → items
  const events: OutboxEvent[] = [];
  // Field updates, per rule and target type, merged per target record: a rule that fires for
  // two opportunities of one client updates that client once.
  const updates = new Map<
    string,
    { rule: WorkflowRule; type: RecordType; patches: Map<string, Record<string, unknown>>; waiting: Map<string, ActionOutcome[]> }
  >();

  for (const f of firings) {
    for (const action of f.rule.actions) {
      const outcome: ActionOutcome = { type: action.type, summary: describeAction(action), ok: true };
      f.outcomes.push(outcome);
      if (action.type === "set_field") {
        const targetType = actionTargetType(def, action.target);
        const targetId = action.target === "self" ? f.record.id : (f.record[action.target] as string | null | undefined);
        if (!targetType || !targetId) {
          Object.assign(outcome, { ok: false, error: `skipped: the ${def.label.toLowerCase()} has no ${action.target}` });
          continue;
        }
        const key = `${f.rule.id}|${targetType}`;
        let u = updates.get(key);
        if (!u) updates.set(key, (u = { rule: f.rule, type: targetType, patches: new Map(), waiting: new Map() }));
        u.patches.set(targetId, mergePatch(u.patches.get(targetId), setFieldPatch(action)));
        u.waiting.set(targetId, [...(u.waiting.get(targetId) ?? []), outcome]);
      } else if (action.type === "notify") {
        const item: NotificationInput = {
          kind: "workflow",
          title: renderTemplate(action.title, f.record),
          body: action.body
            ? renderTemplate(action.body, f.record)
            : `${f.rule.name}: ${registry[def.type].label} ${String(f.record[def.titleField] ?? f.record.id)}`,
          link: `records/${def.slug}/${f.record.id}`,
        };
        notifications.set(action.audience, [...(notifications.get(action.audience) ?? []), item]);
      } else if (action.type === "webhook") {
        if (!enabledEndpoints.has(action.endpoint_id)) {
          Object.assign(outcome, { ok: false, error: "not sent: the endpoint is disabled or gone" });
          continue;
        }
        events.push({
          type: WORKFLOW_EVENT,
          recordType: def.type,
          recordId: f.record.id,
          data: {
            object: "workflow_trigger",
            rule: { id: f.rule.id, name: f.rule.name, trigger: describeTrigger(f.rule, def.label.toLowerCase()) },
            record: f.record,
          },
          endpointId: action.endpoint_id,
        });
      }
    }
  }

  for (const u of updates.values()) {
    const ids = [...u.patches.keys()];
    const { results, deliveries } = await writeNested(
      u.type,
      ids.map((id) => ({ kind: "update", id, data: u.patches.get(id) })),
      { orgId: ctx.orgId, actor: { type: "workflow", id: u.rule.id, label: u.rule.name }, source: ctx.source, skipWorkflows: true },
    );
    result.deliveries += deliveries;
    results.forEach((r, i) => {
      if (r.ok) result.latest.set(r.record.id, r.record);
      else for (const o of u.waiting.get(ids[i]!) ?? []) Object.assign(o, { ok: false, error: r.error.message });
    });
  }

  await Promise.all(
    [...notifications].map(([audience, items]) => notifyMembers(tx, ctx.orgId, items, AUDIENCE_ROLES[audience as keyof typeof AUDIENCE_ROLES])),
  );
  result.deliveries += await writeOutbox(tx, ctx.orgId, events, endpoints);

  // One audit entry per firing, written as the rule, through the door the change came in by.
  const byRule = new Map<string, { rule: WorkflowRule; entries: AuditInput[] }>();
  for (const f of firings) {
    let g = byRule.get(f.rule.id);
    if (!g) byRule.set(f.rule.id, (g = { rule: f.rule, entries: [] }));
    g.entries.push({
      action: "workflow.fired",
      targetType: def.type,
      targetId: f.record.id,
      after: { rule_id: f.rule.id, rule_name: f.rule.name, trigger: describeTrigger(f.rule, def.label.toLowerCase()), actions: f.outcomes },
    });
  }
  for (const g of byRule.values()) {
    await writeAudit(tx, ctx.orgId, { type: "workflow", id: g.rule.id, label: g.rule.name }, ctx.source, g.entries);
  }
  return result;
}

function mergePatch(current: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  if (!current) return next;
  const merged = { ...current, ...next };
  if (current.custom_fields && next.custom_fields) merged.custom_fields = { ...(current.custom_fields as object), ...(next.custom_fields as object) };
  return merged;
}
