import "server-only";
import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { apiKeys, apiUsageDaily } from "@/db/schema";
import { getDb, type Executor } from "@/db/client";
import { logError } from "@/lib/log";
import { serverless } from "@/lib/env";
import { retryOnOrgDeletionRace } from "@/lib/db-utils";

/**
 * API calls per org and day, and each key's last use, are counted in memory and written in one
 * batch every few seconds — never a database write per request. A crash loses at most one
 * interval of counts; the counters are usage statistics, not billing records of their own.
 */
const FLUSH_INTERVAL_MS = 10_000;

interface Pending {
  calls: Map<string, number>; // `${orgId}|${day}` → count
  lastUsed: Map<string, Date>; // key id → time
}

const state = globalThis as unknown as { __smarfleUsage?: { pending: Pending; timer?: NodeJS.Timeout; flushing?: Promise<void> } };
state.__smarfleUsage ??= { pending: { calls: new Map(), lastUsed: new Map() } };
const usage = state.__smarfleUsage;

export function utcDay(d = new Date()): string {
  return d.toISOString().slice(0, 10);
}

export function recordApiCall(orgId: string, keyId: string | null, now = new Date()): void {
  const k = `${orgId}|${utcDay(now)}`;
  usage.pending.calls.set(k, (usage.pending.calls.get(k) ?? 0) + 1);
  if (keyId) usage.pending.lastUsed.set(keyId, now);
  if (!usage.timer && !serverless()) {
    usage.timer = setInterval(() => void flushUsage().catch(() => {}), FLUSH_INTERVAL_MS);
    usage.timer.unref();
  }
}

/** Writes pending counts in two statements. On failure the counts are kept for the next try. */
export async function flushUsage(db?: Executor): Promise<void> {
  if (usage.flushing) await usage.flushing;
  const { calls, lastUsed } = usage.pending;
  if (calls.size === 0 && lastUsed.size === 0) return;
  usage.pending = { calls: new Map(), lastUsed: new Map() };
  usage.flushing = (async () => {
    try {
      const conn = db ?? (await getDb());
      if (calls.size) {
        // Joined with organizations: counts of an org deleted meanwhile are dropped, not retried forever.
        const rows = sql.join(
          [...calls].map(([k, n]) => {
            const [orgId, day] = k.split("|") as [string, string];
            return sql`(${orgId}, ${day}::date, ${n}::bigint)`;
          }),
          sql`, `,
        );
        await retryOnOrgDeletionRace(() =>
          conn.execute(sql`
          insert into ${apiUsageDaily} (org_id, day, calls)
          select v.org_id, v.day, v.calls from (values ${rows}) as v(org_id, day, calls)
          join organizations o on o.id = v.org_id
          on conflict (org_id, day) do update set calls = ${apiUsageDaily}.calls + excluded.calls`),
        );
      }
      if (lastUsed.size) {
        const values = sql.join(
          [...lastUsed].map(([id, at]) => sql`(${id}, ${at.toISOString()}::timestamptz)`),
          sql`, `,
        );
        await conn.execute(
          sql`update ${apiKeys} set last_used_at = greatest(${apiKeys.lastUsedAt}, v.at) from (values ${values}) as v(id, at) where ${apiKeys.id} = v.id`,
        );
      }
    } catch (err) {
      // Put the counts back so the next flush carries them.
      for (const [k, n] of calls) usage.pending.calls.set(k, (usage.pending.calls.get(k) ?? 0) + n);
      for (const [id, at] of lastUsed) if (!usage.pending.lastUsed.has(id)) usage.pending.lastUsed.set(id, at);
      logError("usage flush", err);
      throw err;
    }
  })();
  try {
    await usage.flushing;
  } finally {
    usage.flushing = undefined;
  }
}

/** Calls counted in this process and not yet written, for one org: day → count. */
export function pendingCalls(orgId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of usage.pending.calls) {
    const [o, day] = k.split("|") as [string, string];
    if (o === orgId) out.set(day, (out.get(day) ?? 0) + n);
  }
  return out;
}

export interface UsageSummary {
  days: { day: string; calls: number }[];
  monthCalls: number;
}

/** Calls per day for the current UTC month (pending in-memory counts included). */
export async function usageThisMonth(db: Executor, orgId: string, now = new Date()): Promise<UsageSummary> {
  const first = `${utcDay(now).slice(0, 8)}01`;
  const rows = await db
    .select({ day: apiUsageDaily.day, calls: apiUsageDaily.calls })
    .from(apiUsageDaily)
    .where(and(eq(apiUsageDaily.orgId, orgId), gte(apiUsageDaily.day, first), lte(apiUsageDaily.day, utcDay(now))))
    .orderBy(asc(apiUsageDaily.day));
  const byDay = new Map(rows.map((r) => [r.day, Number(r.calls)]));
  for (const [day, n] of pendingCalls(orgId)) if (day >= first) byDay.set(day, (byDay.get(day) ?? 0) + n);
  const days: { day: string; calls: number }[] = [];
  for (let d = new Date(`${first}T00:00:00Z`); utcDay(d) <= utcDay(now); d = new Date(d.getTime() + 86_400_000)) {
    days.push({ day: utcDay(d), calls: byDay.get(utcDay(d)) ?? 0 });
  }
  return { days, monthCalls: days.reduce((s, d) => s + d.calls, 0) };
}

export const PRICE_PER_CALL_USD = 0.003;

/** What `calls` cost, to the tenth of a cent: the product bills per call, so 5 calls show $0.015, not $0.01. */
export function formatCost(calls: number): string {
  return (calls * PRICE_PER_CALL_USD).toLocaleString("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 3 });
}
