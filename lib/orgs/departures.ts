import "server-only";
import { and, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { apiKeys, auditLog, inboundSources, memberships, webhookEndpoints } from "@/db/schema";
import { rowsOf } from "@/lib/db-utils";

/**
 * When someone is removed or demoted below admin, what they could still use: the API keys they
 * created that still work, and the webhook and inbound secrets they saw (created, revealed or
 * rotated, says the audit log) that nobody else has rotated since. The members page lists them
 * with one-click revoke or rotate.
 */

/** Audit actions after which the actor knew the secret. */
const WEBHOOK_EXPOSURES = ["webhook_endpoint.created", "webhook_endpoint.secret_revealed", "webhook_endpoint.secret_rotated"];
const INBOUND_EXPOSURES = ["inbound_source.created", "inbound_source.secret_revealed", "inbound_source.secret_rotated"];
/** How far back departures are listed. */
const LOOKBACK_DAYS = 90;

export interface Departure {
  userId: string;
  label: string;
  what: "removed" | "demoted";
  at: Date;
  apiKeys: { id: string; name: string; prefix: string }[];
  webhookEndpoints: { id: string; url: string }[];
  inboundSources: { id: string; name: string }[];
}

export async function listDepartures(db: Executor, orgId: string): Promise<Departure[]> {
  const since = new Date(Date.now() - LOOKBACK_DAYS * 86_400_000);
  const events = await db
    .select({ userId: auditLog.targetId, action: auditLog.action, after: auditLog.after, at: auditLog.createdAt })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, orgId),
        gt(auditLog.createdAt, since),
        or(eq(auditLog.action, "member.removed"), and(eq(auditLog.action, "member.role_changed"), sql`${auditLog.after}->>'role' = 'member'`)),
      ),
    );
  // The latest departure per person; anyone who is an admin or owner again is not listed.
  const latest = new Map<string, { what: "removed" | "demoted"; at: Date }>();
  for (const e of events) {
    if (!e.userId) continue;
    const prev = latest.get(e.userId);
    if (!prev || prev.at < e.at) latest.set(e.userId, { what: e.action === "member.removed" ? "removed" : "demoted", at: e.at });
  }
  if (latest.size === 0) return [];
  const ids = [...latest.keys()];
  const current = await db
    .select({ userId: memberships.userId, role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.userId, ids)));
  const stillTrusted = new Set(current.filter((m) => m.role !== "member").map((m) => m.userId));

  const keys = await db
    .select({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, userId: apiKeys.createdByUserId })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.orgId, orgId),
        inArray(apiKeys.createdByUserId, ids),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, new Date())),
      ),
    );

  // Secrets each person saw, unless someone else rotated them afterwards.
  const exposures = rowsOf<{ user_id: string; target_type: string; target_id: string }>(
    await db.execute(sql`
      select distinct a.actor_id as user_id, a.target_type, a.target_id
      from audit_log a
      where a.org_id = ${orgId} and a.actor_type = 'user' and a.actor_id in ${ids}
        and a.action in ${[...WEBHOOK_EXPOSURES, ...INBOUND_EXPOSURES]}
        and not exists (
          select 1 from audit_log r
          where r.org_id = a.org_id and r.target_id = a.target_id and r.created_at > a.created_at
            and r.action in ('webhook_endpoint.secret_rotated', 'inbound_source.secret_rotated')
            and r.actor_id is distinct from a.actor_id)`),
  );
  const endpointIds = exposures.filter((e) => e.target_type === "webhook_endpoint").map((e) => e.target_id);
  const sourceIds = exposures.filter((e) => e.target_type === "inbound_source").map((e) => e.target_id);
  const endpoints = endpointIds.length
    ? await db
        .select({ id: webhookEndpoints.id, url: webhookEndpoints.url })
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.orgId, orgId), inArray(webhookEndpoints.id, endpointIds)))
    : [];
  const sources = sourceIds.length
    ? await db
        .select({ id: inboundSources.id, name: inboundSources.name })
        .from(inboundSources)
        .where(and(eq(inboundSources.orgId, orgId), inArray(inboundSources.id, sourceIds)))
    : [];
  const endpointById = new Map(endpoints.map((e) => [e.id, e]));
  const sourceById = new Map(sources.map((s) => [s.id, s]));

  const labels = new Map(
    rowsOf<{ id: string; email: string }>(await db.execute(sql`select id, email from users where id in ${ids}`)).map((u) => [u.id, u.email]),
  );
  const out: Departure[] = [];
  for (const [userId, d] of latest) {
    if (stillTrusted.has(userId)) continue;
    const mine = exposures.filter((e) => e.user_id === userId);
    const departure: Departure = {
      userId,
      label: labels.get(userId) ?? userId,
      ...d,
      apiKeys: keys.filter((k) => k.userId === userId).map(({ id, name, prefix }) => ({ id, name, prefix })),
      webhookEndpoints: mine.flatMap((e) => (e.target_type === "webhook_endpoint" && endpointById.get(e.target_id) ? [endpointById.get(e.target_id)!] : [])),
      inboundSources: mine.flatMap((e) => (e.target_type === "inbound_source" && sourceById.get(e.target_id) ? [sourceById.get(e.target_id)!] : [])),
    };
    if (departure.apiKeys.length || departure.webhookEndpoints.length || departure.inboundSources.length) out.push(departure);
  }
  return out.sort((a, b) => b.at.getTime() - a.at.getTime());
}
