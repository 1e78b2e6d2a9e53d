import "server-only";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { connectorRuns, connectors, type Connector } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { parseMapping } from "@/lib/mapping/mapping";
import { assertSafeUrl } from "@/lib/net/guard";
import { assertQuota } from "@/lib/orgs/quotas";

export const paginationSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("next_url"), path: z.string().min(1).max(200) }),
  z.strictObject({ type: z.literal("cursor"), param: z.string().min(1).max(100), path: z.string().min(1).max(200) }),
  z.strictObject({ type: z.literal("updated_since"), param: z.string().min(1).max(100), field: z.string().min(1).max(200) }),
]);
export type Pagination = z.infer<typeof paginationSchema>;

/**
 * Headers that belong to the connection or the message framing, not to the source's credentials:
 * setting them could smuggle a second request or confuse a proxy on the way.
 */
export const FORBIDDEN_CONNECTOR_HEADERS = /^(host|content-length|transfer-encoding|connection|upgrade|te|keep-alive|expect|proxy-.*)$/i;
export const MAX_CONNECTOR_HEADERS = 20;
const headerName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "must be a header name");
const headerValue = z
  .string()
  .max(4000)
  .refine((v) => !/[\r\n\0]/.test(v), "may not contain line breaks or NUL");
const connectorHeaders = z.record(headerName, headerValue).superRefine((headers, ctx) => {
  const names = Object.keys(headers);
  if (names.length > MAX_CONNECTOR_HEADERS) ctx.addIssue({ code: "custom", message: `at most ${MAX_CONNECTOR_HEADERS} headers` });
  for (const name of names)
    if (FORBIDDEN_CONNECTOR_HEADERS.test(name))
      ctx.addIssue({ code: "custom", path: [name], message: `${name} may not be set: it belongs to the connection, not to the source's credentials` });
});
export const connectorInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().max(2000),
  headers: connectorHeaders.optional(),
  interval_minutes: z.number().int().min(5, "at least 5 minutes").max(1440, "at most 24 hours (1440 minutes)"),
  records_path: z.string().max(200).nullable().optional(),
  pagination: paginationSchema.default({ type: "none" }),
  mapping: z.unknown(),
});
export const connectorPatch = connectorInput.partial().extend({ enabled: z.boolean().optional() });

/** Headers are credentials: only their names are ever shown back. */
export function connectorView(c: Connector) {
  const headerNames = c.headersCiphertext
    ? Object.keys(JSON.parse(decrypt(c.headersCiphertext, { orgId: c.orgId, column: "connectors.headers" })) as object)
    : [];
  return {
    id: c.id,
    object: "connector" as const,
    name: c.name,
    url: c.url,
    header_names: headerNames,
    interval_minutes: c.intervalMinutes,
    records_path: c.recordsPath,
    pagination: c.pagination,
    mapping: c.mapping,
    cursor: c.cursor,
    status: c.status,
    paused_reason: c.pausedReason,
    consecutive_failures: c.consecutiveFailures,
    next_run_at: c.nextRunAt.toISOString(),
    last_run_at: c.lastRunAt?.toISOString() ?? null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid connector.", zodDetails(r.error.issues));
  return r.data;
}

export async function createConnector(db: Db, ctx: ChangeContext, input: unknown): Promise<Connector> {
  const data = parse(connectorInput, input);
  const url = (await assertSafeUrl(data.url)).toString();
  const mapping = parseMapping(data.mapping);
  return db.transaction(async (tx) => {
    await assertQuota(tx, ctx.orgId, "connector");
    const [c] = await tx
      .insert(connectors)
      .values({
        id: newId("con"),
        orgId: ctx.orgId,
        name: data.name,
        url,
        headersCiphertext:
          data.headers && Object.keys(data.headers).length ? encrypt(JSON.stringify(data.headers), { orgId: ctx.orgId, column: "connectors.headers" }) : null,
        intervalMinutes: data.interval_minutes,
        recordsPath: data.records_path ?? null,
        pagination: data.pagination,
        mapping,
      })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "connector.created", targetType: "connector", targetId: c!.id, after: { name: c!.name, url: c!.url, interval_minutes: c!.intervalMinutes } },
    ]);
    return c!;
  });
}

/** Newest first; with `page`, `limit` of them after `cursor` (ids sort by creation time). */
export async function listConnectors(db: Db, orgId: string, page?: { limit: number; cursor?: string }) {
  const q = db
    .select()
    .from(connectors)
    .where(and(eq(connectors.orgId, orgId), ...(page?.cursor ? [lt(connectors.id, page.cursor)] : [])))
    .orderBy(desc(connectors.id));
  return page ? q.limit(page.limit) : q;
}

export async function getConnector(db: Db, orgId: string, id: string): Promise<Connector> {
  const [c] = await db
    .select()
    .from(connectors)
    .where(and(eq(connectors.orgId, orgId), eq(connectors.id, id)));
  if (!c) throw new AppError("not_found", `No connector with id ${id}.`);
  return c;
}

export async function updateConnector(db: Db, ctx: ChangeContext, id: string, input: unknown): Promise<Connector> {
  const data = parse(connectorPatch, input);
  const url = data.url !== undefined ? (await assertSafeUrl(data.url)).toString() : undefined;
  const mapping = data.mapping !== undefined ? parseMapping(data.mapping) : undefined;
  return db.transaction(async (tx) => {
    const before = await getConnector(tx as unknown as Db, ctx.orgId, id);
    const set: Partial<typeof connectors.$inferInsert> = { updatedAt: new Date() };
    if (data.name !== undefined) set.name = data.name;
    if (url !== undefined) set.url = url;
    if (data.headers !== undefined)
      set.headersCiphertext = Object.keys(data.headers).length
        ? encrypt(JSON.stringify(data.headers), { orgId: ctx.orgId, column: "connectors.headers" })
        : null;
    if (data.interval_minutes !== undefined) set.intervalMinutes = data.interval_minutes;
    if (data.records_path !== undefined) set.recordsPath = data.records_path;
    if (data.pagination !== undefined) Object.assign(set, { pagination: data.pagination, cursor: null });
    if (mapping !== undefined) set.mapping = mapping;
    if (data.enabled === true) Object.assign(set, { status: "active", pausedReason: null, consecutiveFailures: 0, nextRunAt: new Date() });
    if (data.enabled === false) Object.assign(set, { status: "paused", pausedReason: "paused by an admin" });
    const [after] = await tx.update(connectors).set(set).where(eq(connectors.id, id)).returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      {
        action: "connector.updated",
        targetType: "connector",
        targetId: id,
        before: { name: before.name, url: before.url, status: before.status },
        after: { name: after!.name, url: after!.url, status: after!.status },
      },
    ]);
    return after!;
  });
}

export async function deleteConnector(db: Db, ctx: ChangeContext, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(connectors)
      .where(and(eq(connectors.orgId, ctx.orgId), eq(connectors.id, id)))
      .returning();
    if (!gone) throw new AppError("not_found", `No connector with id ${id}.`);
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "connector.deleted", targetType: "connector", targetId: id, before: { name: gone.name } },
    ]);
  });
}

/** A connector's runs, newest first; `cursor` (a run id) continues after that run. */
export async function listRuns(db: Db, orgId: string, connectorId: string, limit = 50, cursor?: string) {
  await getConnector(db, orgId, connectorId);
  const after = cursor
    ? sql`(${connectorRuns.startedAt}, ${connectorRuns.id}) < (select r.started_at, r.id from connector_runs r where r.org_id = ${orgId} and r.id = ${cursor})`
    : undefined;
  return db
    .select()
    .from(connectorRuns)
    .where(and(eq(connectorRuns.orgId, orgId), eq(connectorRuns.connectorId, connectorId), after))
    .orderBy(desc(connectorRuns.startedAt), desc(connectorRuns.id))
    .limit(Math.min(Math.max(limit, 1), 101));
}

export function runView(r: typeof connectorRuns.$inferSelect) {
  return {
    id: r.id,
    object: "connector_run" as const,
    status: r.status,
    trigger: r.trigger,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
    duration_ms: r.durationMs,
    pages: r.pages,
    fetched: r.fetched,
    created: r.created,
    updated: r.updated,
    failed: r.failed,
    error: r.error,
    cursor_before: r.cursorBefore,
    cursor_after: r.cursorAfter,
  };
}
