import "server-only";
import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { inboundRequests, inboundSources, INBOUND_KINDS, type InboundKind, type InboundSource } from "@/db/schema";
import type { Db } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId, randomBase62 } from "@/lib/ids";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { parseMapping } from "@/lib/mapping/mapping";
import { generateSecret } from "@/lib/webhooks/signing";
import { assertQuota } from "@/lib/orgs/quotas";

export const sourceInput = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(100),
  kind: z.enum(INBOUND_KINDS, { message: `must be one of: ${INBOUND_KINDS.join(", ")}` }),
  mapping: z.unknown(),
});
export const sourcePatch = z.strictObject({ name: z.string().trim().min(1).max(100).optional(), mapping: z.unknown().optional(), enabled: z.boolean().optional() });

function newSecret(kind: InboundKind): string {
  // Shopify-style HMAC keys are the secret string's bytes; Standard Webhooks uses whsec_ secrets.
  return kind === "standard_webhooks" ? generateSecret() : `insec_${randomBase62(40)}`;
}

export function sourceView(s: InboundSource, baseUrl: string) {
  return {
    id: s.id,
    object: "inbound_source" as const,
    name: s.name,
    kind: s.kind,
    url: `${baseUrl.replace(/\/$/, "")}/api/inbound/${s.id}`,
    mapping: s.mapping,
    enabled: s.enabled,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
  };
}

export async function createSource(db: Db, ctx: ChangeContext, input: unknown): Promise<{ source: InboundSource; secret: string }> {
  const r = sourceInput.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid inbound source.", zodDetails(r.error.issues));
  const mapping = parseMapping(r.data.mapping);
  const secret = newSecret(r.data.kind);
  return db.transaction(async (tx) => {
    await assertQuota(tx, ctx.orgId, "inbound_source");
    const [source] = await tx
      .insert(inboundSources)
      .values({ id: newId("src"), orgId: ctx.orgId, name: r.data.name, kind: r.data.kind, secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "inbound_sources.secret" }), mapping })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "inbound_source.created", targetType: "inbound_source", targetId: source!.id, after: { name: source!.name, kind: source!.kind } }]);
    return { source: source!, secret };
  });
}

/** Newest first; with `page`, `limit` of them after `cursor` (ids sort by creation time). */
export async function listSources(db: Db, orgId: string, page?: { limit: number; cursor?: string }) {
  const q = db
    .select()
    .from(inboundSources)
    .where(and(eq(inboundSources.orgId, orgId), ...(page?.cursor ? [lt(inboundSources.id, page.cursor)] : [])))
    .orderBy(desc(inboundSources.id));
  return page ? q.limit(page.limit) : q;
}

export async function getSource(db: Db, orgId: string, id: string): Promise<InboundSource> {
  const [s] = await db
    .select()
    .from(inboundSources)
    .where(and(eq(inboundSources.orgId, orgId), eq(inboundSources.id, id)));
  if (!s) throw new AppError("not_found", `No inbound source with id ${id}.`);
  return s;
}

export async function revealSourceSecret(db: Db, ctx: ChangeContext, id: string): Promise<string> {
  const s = await getSource(db, ctx.orgId, id);
  await writeAudit(db, ctx.orgId, ctx.actor, ctx.source, [{ action: "inbound_source.secret_revealed", targetType: "inbound_source", targetId: id }]);
  return decrypt(s.secretCiphertext, { orgId: ctx.orgId, column: "inbound_sources.secret" });
}

/**
 * A new secret, at once (the sender must be given it): for a secret someone who has left has seen.
 * The answer holds the new secret, shown once.
 */
export async function rotateSourceSecret(db: Db, ctx: ChangeContext, id: string): Promise<string> {
  const s = await getSource(db, ctx.orgId, id);
  const secret = newSecret(s.kind);
  await db.transaction(async (tx) => {
    await tx
      .update(inboundSources)
      .set({ secretCiphertext: encrypt(secret, { orgId: ctx.orgId, column: "inbound_sources.secret" }), updatedAt: new Date() })
      .where(and(eq(inboundSources.orgId, ctx.orgId), eq(inboundSources.id, id)));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "inbound_source.secret_rotated", targetType: "inbound_source", targetId: id }]);
  });
  return secret;
}

export async function updateSource(db: Db, ctx: ChangeContext, id: string, input: unknown): Promise<InboundSource> {
  const r = sourcePatch.safeParse(input);
  if (!r.success) throw new AppError("validation_failed", "Invalid inbound source.", zodDetails(r.error.issues));
  const mapping = r.data.mapping !== undefined ? parseMapping(r.data.mapping) : undefined;
  return db.transaction(async (tx) => {
    const before = await getSource(tx as unknown as Db, ctx.orgId, id);
    const [after] = await tx
      .update(inboundSources)
      .set({ name: r.data.name ?? before.name, mapping: mapping ?? before.mapping, enabled: r.data.enabled ?? before.enabled, updatedAt: new Date() })
      .where(eq(inboundSources.id, id))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "inbound_source.updated", targetType: "inbound_source", targetId: id, before: { name: before.name, mapping: before.mapping, enabled: before.enabled }, after: { name: after!.name, mapping: after!.mapping, enabled: after!.enabled } },
    ]);
    return after!;
  });
}

export async function deleteSource(db: Db, ctx: ChangeContext, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(inboundSources)
      .where(and(eq(inboundSources.orgId, ctx.orgId), eq(inboundSources.id, id)))
      .returning();
    if (!gone) throw new AppError("not_found", `No inbound source with id ${id}.`);
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [{ action: "inbound_source.deleted", targetType: "inbound_source", targetId: id, before: { name: gone.name } }]);
  });
}

export async function listRequests(db: Db, orgId: string, sourceId: string, options: { cursor?: string; limit?: number } = {}) {
  await getSource(db, orgId, sourceId);
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 100);
  const rows = await db
    .select()
    .from(inboundRequests)
    .where(and(eq(inboundRequests.orgId, orgId), eq(inboundRequests.sourceId, sourceId), ...(options.cursor ? [lt(inboundRequests.id, options.cursor)] : [])))
    .orderBy(desc(inboundRequests.id))
    .limit(limit + 1);
  return { items: rows.slice(0, limit), nextCursor: rows.length > limit ? rows[limit - 1]!.id : null };
}

export function requestView(r: typeof inboundRequests.$inferSelect) {
  return {
    id: r.id,
    object: "inbound_request" as const,
    received_at: r.createdAt.toISOString(),
    verified: r.verified,
    status: r.status,
    http_status: r.httpStatus,
    record_id: r.recordId,
    created: r.created,
    updated: r.updated,
    error: r.error,
    headers: r.headers,
    body: r.body,
    reprocessed_at: r.reprocessedAt?.toISOString() ?? null,
  };
}
