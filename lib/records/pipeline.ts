import "server-only";
import { and, eq, getTableName, inArray, or, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { randomInt } from "node:crypto";
import { organizations, orgRecordCounters, type Source } from "@/db/schema";
import { getDb, type Executor, type Tx } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { insertRows, pgErrorCode } from "@/lib/db-utils";
import { writeAudit, type Actor, type AuditInput } from "@/lib/audit/write";
import { notificationRecipients, notifyMembers, type NotificationInput } from "@/lib/notifications/notify";
import { subscribedEndpoints, writeOutbox, signalDeliveriesCommitted, type OutboxEvent } from "@/lib/webhooks/outbox";
import { planLimits } from "@/lib/orgs/plans";
import { registry, schemasFor, type RecordType, type RecordTypeDef } from "./registry";
import { changedFields, serializeRecord, type ApiRecord } from "./serialize";
import { eventsForChange } from "./events";
import { withSummaries } from "./event-summaries";
import { invalidTextPaths } from "./text-safety";
import { enabledRules, hasEnabledRulesSql } from "@/lib/workflows/rules";
import { runWorkflows } from "@/lib/workflows/run";

/**
 * The one record pipeline. Every write — settings UI, REST API, lead capture, inbound webhook,
 * connector, import, bulk — comes through `writeRecords`, in one transaction:
 *
 *   validate → plan limit → write rows → audit → notifications → outbox events + deliveries
 *
 * and, after commit, signals the dispatcher. Batches use the same steps with multi-row
 * statements; a single write is a batch of one.
 */

export interface WriteContext {
  orgId: string;
  actor: Actor;
  source: Source;
  /** Set on the writes a workflow rule makes: they run no rules themselves, so rules cannot loop. */
  skipWorkflows?: boolean;
}

export type WriteOp =
  | { kind: "create"; data: unknown }
  | { kind: "update"; id: string; data: unknown }
  /** Creates the record with `data.external_id`, or updates the one that has it. */
  | { kind: "upsert"; data: unknown }
  | { kind: "delete"; id: string };

export type OpOutcome = "created" | "updated" | "unchanged" | "deleted";
export type OpResult = { ok: true; outcome: OpOutcome; record: ApiRecord } | { ok: false; error: AppError };

export interface WriteOptions {
  /** All-or-nothing: the first failing op aborts the batch by throwing its error. */
  atomic?: boolean;
  db?: Executor;
  /** One notification per new lead even in a large batch (coalesced single creates), not a summary. */
  notifyEach?: boolean;
  /** New leads notify no one: an import the admin did not mark as leads. */
  silent?: boolean;
}

type Row = Record<string, unknown> & { id: string; externalId: string | null; version: number };

interface Planned {
  index: number;
  op: WriteOp;
  values?: Record<string, unknown>;
  /** Set when the op turned out to need a create (create, or upsert with no match). */
  mode?: "create" | "update" | "delete";
  existing?: Row;
}

const MAX_BATCH = 1_000;
const COUNTER_SHARDS = 16;
/** Within this many records of the plan's limit, counting switches to exact (serialized). */
const EXACT_COUNT_SLACK = 10_000;

/** An org's record count: the exact counter plus the shards. */
export const recordTotalSql = sql<number>`(${organizations.recordCount} + coalesce((select sum(c.count) from org_record_counters c where c.org_id = ${organizations.id}), 0))::int`;

interface Batch {
  def: RecordTypeDef;
  results: (OpResult | undefined)[];
  fail(p: { index: number }, error: AppError): void;
  runnable(): Planned[];
}

export async function writeRecords(ctx: WriteContext, type: RecordType, ops: WriteOp[], options: WriteOptions = {}): Promise<OpResult[]> {
  const batch = prepareBatch(type, ops, options.atomic ?? false);
  if (batch.runnable().length === 0) return batch.results as OpResult[];
  try {
    const db = options.db ?? (await getDb());
    const deliveries = await db.transaction((tx) => commitBatch(tx, ctx, batch, options));
    signalDeliveriesCommitted(ctx.orgId, deliveries);
  } catch (err) {
    throw mapDatabaseError(err);
  }
  return batch.results as OpResult[];
}

/**
 * The same pipeline inside a transaction the caller already holds (a workflow rule's writes).
 * Never atomic: a failing op is reported in its result. The caller signals the deliveries
 * after its own commit.
 */
async function writeRecordsInTx(tx: Tx, ctx: WriteContext, type: RecordType, ops: WriteOp[]): Promise<{ results: OpResult[]; deliveries: number }> {
  const batch = prepareBatch(type, ops, false);
  const deliveries = batch.runnable().length ? await commitBatch(tx, ctx, batch) : 0;
  return { results: batch.results as OpResult[], deliveries };
}

/** Step 1, before any database work: validate every op. */
function prepareBatch(type: RecordType, ops: WriteOp[], atomic: boolean): Batch {
  const def = registry[type];
  if (ops.length > MAX_BATCH) {
    throw new AppError("validation_failed", `A batch holds at most ${MAX_BATCH} records.`, [{ path: "", message: `got ${ops.length}` }]);
  }
  const results: (OpResult | undefined)[] = new Array(ops.length);
  const fail = (p: { index: number }, error: AppError) => {
    if (atomic) throw error;
    results[p.index] = { ok: false, error };
  };
  const planned: Planned[] = [];
  ops.forEach((op, index) => {
    const p: Planned = { index, op };
    if (op.kind === "delete") {
      planned.push(p);
      return;
    }
    if (typeof op.data !== "object" || op.data === null || Array.isArray(op.data)) {
      return fail(p, new AppError("validation_failed", "The record must be a JSON object.", [{ path: "", message: "expected an object" }]));
    }
    const badText = invalidTextPaths(op.data);
    if (badText.length) return fail(p, new AppError("validation_failed", `The ${def.label.toLowerCase()} is invalid.`, badText));
    const schema = op.kind === "create" ? schemasFor(def).create : schemasFor(def).update;
    const parsed = schema.safeParse(op.data);
    if (!parsed.success) {
      return fail(p, new AppError("validation_failed", `The ${def.label.toLowerCase()} is invalid.`, zodDetails(parsed.error.issues)));
    }
    if (op.kind === "upsert" && !parsed.data.external_id) {
      return fail(p, new AppError("validation_failed", "An upsert needs an external_id.", [{ path: "external_id", message: "is required" }]));
    }
    p.values = parsed.data;
    planned.push(p);
  });

  const runnable = () => planned.filter((p) => !results[p.index]);
  return { def, results, fail, runnable };
}

/** Steps 2–9 in the caller's transaction; returns how many deliveries were queued. */
async function commitBatch(tx: Tx, ctx: WriteContext, batch: Batch, notify: Pick<WriteOptions, "notifyEach" | "silent"> = {}): Promise<number> {
  const { byId, byExt } = await lockAndLoad(tx, ctx, batch);
  await checkBatchReferences(tx, ctx, batch);
  decideOps(batch, byId, byExt);
  const { org, endpoints, recipients, maxRecords } = await readOrgAndApplyPlanLimit(tx, ctx, batch);
  const changes = [...(await writeRows(tx, ctx, batch)), ...(await deleteRows(tx, ctx, batch))];
  if (changes.length === 0) return 0;

  // 8. Audit, notifications, outbox and the record counter — same transaction, sent together.
  const def = batch.def;
  const delta = changes.filter((ch) => !ch.before).length - changes.filter((ch) => !ch.after).length;
  const [, , deliveries] = await Promise.all([
    writeAudit(
      tx,
      ctx.orgId,
      ctx.actor,
      ctx.source,
      changes.map((ch) => auditEntry(def, ch)),
    ),
    notifyMembers(tx, ctx.orgId, notify.silent ? [] : notificationsFor(def, changes, notify.notifyEach), undefined, recipients),
    withSummaries(
      tx,
      ctx.orgId,
      changes.flatMap((ch) => outboxEvents(def, ch)),
    ).then((events) => writeOutbox(tx, ctx.orgId, events, endpoints)),
    updateRecordCount(tx, ctx.orgId, delta, maxRecords, org.plan, Number(org.recordCount)),
  ]);
  // Most orgs have no rules for a type: the org row above says so, and no query is spent on them.
  if (!org.hasRules) return deliveries;

  // 9. Workflow rules, on the committed-to-be state. Their own writes go through this same
  //    pipeline (nested, in this transaction) and run no rules, so a rule cannot loop.
  const rules = await enabledRules(tx, ctx.orgId, def.type);
  const fired = await runWorkflows(tx, ctx, def, rules, changes, endpoints, (t, ops, nestedCtx) => writeRecordsInTx(tx, nestedCtx, t, ops));
  for (const ch of changes) {
    const latest = ch.after && fired.latest.get(ch.after.id);
    const r = batch.results[ch.index];
    if (latest && r?.ok) r.record = latest;
  }
  return deliveries + fired.deliveries;
}

const columnOf = (def: RecordTypeDef, name: string) => def.table[name] as PgColumn;

/**
 * Steps 2–3. Serializes writers of the same external ids, so concurrent upserts of one order
 * never create it twice (transaction-scoped advisory locks, taken in a fixed order); then loads
 * and locks the rows the batch touches, by id and by external id.
 */
async function lockAndLoad(tx: Tx, ctx: WriteContext, batch: Batch): Promise<{ byId: Map<string, Row>; byExt: Map<string, Row> }> {
  const { def, runnable } = batch;
  const c = (name: string) => columnOf(def, name);
  const extIds = new Set<string>();
  for (const p of runnable()) {
    const ext = p.values?.external_id;
    if (typeof ext === "string") extIds.add(ext);
  }
  if (extIds.size > 0) {
    const keys = [...extIds].sort().map((e) => `${ctx.orgId}:${def.type}:${e}`);
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(array[${sql.join(
        keys.map((k) => sql`${k}`),
        sql`, `,
      )}]::text[]) with ordinality as t(k, n) order by n`,
    );
  }

  const ids = runnable()
    .map((p) => (p.op.kind === "update" || p.op.kind === "delete" ? p.op.id : null))
    .filter((v): v is string => typeof v === "string");
  const conds: SQL[] = [];
  if (ids.length) conds.push(inArray(c("id"), ids));
  if (extIds.size) conds.push(inArray(c("externalId"), [...extIds]));
  const existing: Row[] = conds.length
    ? ((await tx
        .select()
        .from(def.table)
        .where(and(eq(c("orgId"), ctx.orgId), or(...conds)))
        .for("update")) as Row[])
    : [];
  return {
    byId: new Map(existing.map((r) => [r.id, r])),
    byExt: new Map(existing.filter((r) => r.externalId).map((r) => [r.externalId as string, r])),
  };
}

/** Step 4. References must point at records of the same organization. */
async function checkBatchReferences(tx: Tx, ctx: WriteContext, batch: Batch): Promise<void> {
  const { def, fail } = batch;
  const refErrors = await checkReferences(tx, ctx.orgId, def, batch.runnable());
  for (const [index, detail] of refErrors) {
    fail({ index }, new AppError("validation_failed", `The ${def.label.toLowerCase()} is invalid.`, detail));
  }
}

/** Step 5. Decides what each op does (sets its `mode` and the row it changes), or fails it. */
function decideOps(batch: Batch, byId: Map<string, Row>, byExt: Map<string, Row>): void {
  const { def, fail } = batch;
  const claimedExt = new Map<string, number>();
  for (const p of batch.runnable()) {
    const ext = typeof p.values?.external_id === "string" ? (p.values.external_id as string) : null;
    if (ext) {
      if (claimedExt.has(ext)) {
        fail(
          p,
          new AppError("conflict", `external_id "${ext}" appears more than once in this batch.`, [{ path: "external_id", message: "duplicate in batch" }]),
        );
        continue;
      }
      claimedExt.set(ext, p.index);
    }
    const op = p.op;
    if (op.kind === "delete" || op.kind === "update") {
      const row = byId.get(op.id);
      if (!row) {
        fail(p, new AppError("not_found", `No ${def.label.toLowerCase()} with id ${op.id}.`));
        continue;
      }
      if (op.kind === "update" && ext && byExt.get(ext) && byExt.get(ext)!.id !== row.id) {
        fail(p, conflictError(def, ext, byExt.get(ext)!.id));
        continue;
      }
      p.existing = row;
      p.mode = op.kind;
    } else if (op.kind === "create") {
      if (ext && byExt.has(ext)) {
        fail(p, conflictError(def, ext, byExt.get(ext)!.id));
        continue;
      }
      p.mode = "create";
    } else {
      const row = byExt.get(ext!);
      if (row) {
        p.existing = row;
        p.mode = "update";
      } else {
        // A new record: the full create schema applies (required fields).
        const full = schemasFor(def).create.safeParse(op.data);
        if (!full.success) {
          fail(p, new AppError("validation_failed", `The ${def.label.toLowerCase()} is invalid.`, zodDetails(full.error.issues)));
          continue;
        }
        p.values = full.data;
        p.mode = "create";
      }
    }
  }
}

/**
 * Step 6. Plan limit: creates beyond the org's remaining quota are refused. What the later steps
 * need to read is fetched here too, in one round trip (postgres.js pipelines these).
 */
async function readOrgAndApplyPlanLimit(tx: Tx, ctx: WriteContext, batch: Batch) {
  const { def, fail } = batch;
  const [[org], endpoints, recipients] = await Promise.all([
    tx
      .select({
        plan: organizations.plan,
        recordCount: recordTotalSql,
        hasRules: ctx.skipWorkflows ? sql<boolean>`false` : hasEnabledRulesSql(ctx.orgId, def.type),
      })
      .from(organizations)
      .where(eq(organizations.id, ctx.orgId)),
    subscribedEndpoints(tx, ctx.orgId),
    def.type === "client" ? notificationRecipients(tx, ctx.orgId) : Promise.resolve([]),
  ]);
  if (!org) throw new AppError("not_found", "Organization not found.");
  const maxRecords = planLimits(org.plan).maxRecords;
  if (maxRecords !== null) {
    // Leads stop short of the quota, leaving the rest for the organization's own writes.
    const leadCap = ctx.source === "lead_capture" ? Math.floor(maxRecords * LEAD_RECORD_SHARE) : null;
    let remaining = (leadCap ?? maxRecords) - Number(org.recordCount);
    for (const p of batch.runnable()) {
      if (p.mode !== "create") continue;
      if (remaining > 0) remaining--;
      else fail(p, leadCap !== null ? leadReserveError(leadCap, maxRecords, org.plan) : planLimitError(maxRecords, org.plan));
    }
  }
  return { org, endpoints, recipients, maxRecords };
}

/** Step 7. Builds the rows and writes them: creates and updates in one multi-row upsert by id. */
async function writeRows(tx: Tx, ctx: WriteContext, batch: Batch): Promise<Change[]> {
  const { def, results } = batch;
  const table = def.table;
  const changes: Change[] = [];
  const now = new Date();
  const writes: Row[] = [];
  const pending: { p: Planned; before: ApiRecord | null; row: Row }[] = [];
  for (const p of batch.runnable()) {
    if (p.mode === "delete") continue;
    if (p.mode === "create") {
      const row = { id: newId(def.idPrefix), orgId: ctx.orgId, ...toColumns(def, p.values!), version: 1, createdAt: now, updatedAt: now } as unknown as Row;
      row.customFields ??= {};
      writes.push(row);
      pending.push({ p, before: null, row });
    } else if (p.mode === "update") {
      const before = p.existing!;
      const patch = toColumns(def, p.values!);
      if (p.values!.custom_fields) patch.customFields = mergeCustomFields(before.customFields, p.values!.custom_fields);
      const merged = { ...before, ...patch } as Row;
      const beforeApi = serializeRecord(def, before);
      if (Object.keys(changedFields(beforeApi, serializeRecord(def, merged))).length === 0) {
        results[p.index] = { ok: true, outcome: "unchanged", record: beforeApi };
        continue;
      }
      const row = { ...merged, version: before.version + 1, updatedAt: now } as Row;
      writes.push(row);
      pending.push({ p, before: beforeApi, row });
    }
  }

  const written = new Map<string, Row>();
  const rows = await insertRows(tx, table, writes, {
    upsert: {
      target: "id",
      set: [...def.fields.map((f) => f.column), "externalId", "customFields", "version", "updatedAt"],
      where: `"${getTableName(table)}"."org_id" = excluded."org_id"`,
    },
    returning: true,
  });
  for (const r of rows) written.set(r.id, r);
  for (const { p, before, row } of pending) {
    const saved = written.get(row.id);
    if (!saved) throw new Error(`pipeline: row ${row.id} was not written`);
    const after = serializeRecord(def, saved);
    results[p.index] = { ok: true, outcome: before ? "updated" : "created", record: after };
    changes.push({ index: p.index, before, after, previous: before ? changedFields(before, after) : null });
  }
  return changes;
}

/** Step 7, deletes: one statement for the batch's deletes. */
async function deleteRows(tx: Tx, ctx: WriteContext, batch: Batch): Promise<Change[]> {
  const { def, results } = batch;
  const c = (name: string) => columnOf(def, name);
  const deletes = batch.runnable().filter((p) => p.mode === "delete");
  if (deletes.length === 0) return [];
  await tx.delete(def.table).where(
    and(
      eq(c("orgId"), ctx.orgId),
      inArray(
        c("id"),
        deletes.map((p) => p.existing!.id),
      ),
    ),
  );
  return deletes.map((p) => {
    const before = serializeRecord(def, p.existing!);
    results[p.index] = { ok: true, outcome: "deleted", record: before };
    return { index: p.index, before, after: null, previous: null };
  });
}

interface Change {
  /** The op this change came from. */
  index: number;
  before: ApiRecord | null;
  after: ApiRecord | null;
  /** On updates: the changed fields' old values (the webhook `previous`, the audit `before`). */
  previous: Record<string, unknown> | null;
}

/**
 * The record counter. Near a plan's limit it is kept exactly under the org row's lock (and
 * re-checked: another writer may have taken the last slots meanwhile); far from it, each writer
 * adds to a random shard so concurrent writes do not queue on one row.
 */
async function updateRecordCount(tx: Tx, orgId: string, delta: number, maxRecords: number | null, plan: string, total: number): Promise<void> {
  if (delta > 0 && maxRecords !== null && maxRecords - (total + delta) < EXACT_COUNT_SLACK) {
    await tx
      .update(organizations)
      .set({ recordCount: sql`${organizations.recordCount} + ${delta}` })
      .where(eq(organizations.id, orgId));
    const [now] = await tx.select({ total: recordTotalSql }).from(organizations).where(eq(organizations.id, orgId));
    if (Number(now!.total) > maxRecords) throw planLimitError(maxRecords, plan);
  } else if (delta !== 0) {
    await tx
      .insert(orgRecordCounters)
      .values({ orgId, shard: randomInt(COUNTER_SHARDS), count: delta })
      .onConflictDoUpdate({ target: [orgRecordCounters.orgId, orgRecordCounters.shard], set: { count: sql`${orgRecordCounters.count} + excluded.count` } });
  }
}

function auditEntry(def: RecordTypeDef, ch: Change): AuditInput {
  const target = (ch.after ?? ch.before)!;
  if (ch.before && ch.after && ch.previous) {
    const next: Record<string, unknown> = {};
    for (const k of Object.keys(ch.previous)) next[k] = ch.after[k];
    return { action: `${def.type}.updated`, targetType: def.type, targetId: target.id, before: ch.previous, after: next };
  }
  return {
    action: `${def.type}.${ch.after ? "created" : "deleted"}`,
    targetType: def.type,
    targetId: target.id,
    before: ch.before,
    after: ch.after,
  };
}

function outboxEvents(def: RecordTypeDef, ch: Change): OutboxEvent[] {
  const data = (ch.after ?? ch.before)!;
  return eventsForChange(def, ch.before, ch.after).map((type) => ({ type, recordType: def.type, recordId: data.id, data, previous: ch.previous }));
}

/** The notifications the record type's hook asks for about the records this write created. */
function notificationsFor(def: RecordTypeDef, changes: Change[], each = false): NotificationInput[] {
  if (!def.notifyOnCreate) return [];
  const created = changes.filter((ch) => !ch.before && ch.after).map((ch) => ch.after!);
  return created.length ? def.notifyOnCreate(created, { each }) : [];
}

function toColumns(def: RecordTypeDef, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of def.fields) if (values[f.name] !== undefined) out[f.column] = values[f.name];
  if (values.external_id !== undefined) out.externalId = values.external_id;
  if (values.custom_fields !== undefined) out.customFields = values.custom_fields;
  return out;
}

/** PATCH semantics for custom fields: keys merge, a null value removes the key. */
function mergeCustomFields(current: unknown, patch: unknown): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...((current as Record<string, unknown>) ?? {}) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

async function checkReferences(tx: Executor, orgId: string, def: RecordTypeDef, planned: Planned[]): Promise<Map<number, { path: string; message: string }[]>> {
  const errors = new Map<number, { path: string; message: string }[]>();
  for (const f of def.fields) {
    if (f.kind !== "reference") continue;
    const wanted = new Set<string>();
    for (const p of planned) {
      const v = p.values?.[f.name];
      if (typeof v === "string") wanted.add(v);
    }
    if (wanted.size === 0) continue;
    const target = registry[f.references!].table;
    const found = await tx
      .select({ id: target.id as PgColumn })
      .from(target)
      .where(and(eq(target.orgId as PgColumn, orgId), inArray(target.id as PgColumn, [...wanted])));
    const ok = new Set(found.map((r) => r.id as string));
    for (const p of planned) {
      const v = p.values?.[f.name];
      if (typeof v === "string" && !ok.has(v)) {
        const list = errors.get(p.index) ?? [];
        list.push({ path: f.name, message: `no ${f.references} with id ${v} in this organization` });
        errors.set(p.index, list);
      }
    }
  }
  return errors;
}

function conflictError(def: RecordTypeDef, ext: string, id: string): AppError {
  return new AppError("conflict", `A ${def.label.toLowerCase()} with external_id "${ext}" already exists (${id}).`, [
    { path: "external_id", message: "already in use" },
  ]);
}

function planLimitError(max: number, plan: string): AppError {
  return new AppError("plan_limit_reached", `Your ${plan} plan allows ${max.toLocaleString("en-US")} records. Delete records or upgrade the plan to add more.`);
}

/** The share of the record quota lead capture may fill: the rest stays for the organization's own writes. */
export const LEAD_RECORD_SHARE = 0.9;

/** Marks a lead refused for the reserve (the lead handler tells the admins once). */
export const LEAD_RESERVE_PATH = "lead_capture_reserve";

function leadReserveError(cap: number, max: number, plan: string): AppError {
  return new AppError(
    "plan_limit_reached",
    `Lead capture stops at ${Math.round(LEAD_RECORD_SHARE * 100)}% of your ${plan} plan's ${max.toLocaleString("en-US")} records (${cap.toLocaleString("en-US")}), leaving the rest for your own work. Delete records or upgrade the plan to take more leads.`,
    [{ path: LEAD_RESERVE_PATH, message: `limit of ${cap} records through lead capture reached` }],
  );
}

function mapDatabaseError(err: unknown): unknown {
  if (pgErrorCode(err) === "23505") return new AppError("conflict", "A record with the same unique value already exists.");
  return err;
}

// ---------------------------------------------------------------------------------------------
// Single-record conveniences: a batch of one, atomic.

export async function createRecord(ctx: WriteContext, type: RecordType, data: unknown, options: Omit<WriteOptions, "atomic"> = {}): Promise<ApiRecord> {
  return unwrap(await writeRecords(ctx, type, [{ kind: "create", data }], { ...options, atomic: true }));
}

export async function updateRecord(
  ctx: WriteContext,
  type: RecordType,
  id: string,
  data: unknown,
  options: Omit<WriteOptions, "atomic"> = {},
): Promise<ApiRecord> {
  return unwrap(await writeRecords(ctx, type, [{ kind: "update", id, data }], { ...options, atomic: true }));
}

export async function deleteRecord(ctx: WriteContext, type: RecordType, id: string, options: Omit<WriteOptions, "atomic"> = {}): Promise<ApiRecord> {
  return unwrap(await writeRecords(ctx, type, [{ kind: "delete", id }], { ...options, atomic: true }));
}

function unwrap(results: OpResult[]): ApiRecord {
  const r = results[0]!;
  if (!r.ok) throw r.error;
  return r.record;
}
