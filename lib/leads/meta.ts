import "server-only";
import { and, count, eq, inArray, sql } from "drizzle-orm";
import { inboundSources, metaLeadFetches, type InboundSource } from "@/db/schema";
import type { Db } from "@/db/client";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { logError } from "@/lib/log";
import { decrypt } from "@/lib/crypto/encryption";
import { fetchJson } from "@/lib/connectors/fetch";
import { runAfterResponse } from "@/lib/http/after";
import { rowsOf } from "@/db/rows";
import { captureLead } from "./capture";
import { mapLead } from "./map";

/**
 * Meta Lead Ads. Meta's notification carries only the lead's id (`leadgen_id`): the lead itself is
 * fetched from the Graph API with the page's access token. A notification is accepted once its
 * leads are queued here (a durable table), and the fetch runs after the answer — retried with
 * backoff when the Graph API fails or hangs, so an accepted lead is never lost. A lead notified
 * twice is queued once.
 */

/** Leads one notification may carry, and leads an organization may have waiting to be fetched. */
export const MAX_LEADS_PER_NOTIFICATION = 100;
export const MAX_PENDING_PER_ORG = 1_000;
export const GRAPH_TIMEOUT_MS = 10_000;
/** Seconds before each retry; after the last, the fetch is marked failed (and stays visible). */
export const RETRY_DELAYS_SECONDS = [30, 120, 600, 3_600, 6 * 3_600, 24 * 3_600];
const LEASE_MS = 2 * 60_000;
const BATCH = 20;

interface LeadgenChange {
  leadgen_id: string;
  [k: string]: unknown;
}

/** The `leadgen` changes of a notification (`{"object":"page","entry":[{"changes":[…]}]}`). */
export function leadgenChanges(payload: unknown): LeadgenChange[] {
  const entries = (payload as { entry?: unknown })?.entry;
  if (!Array.isArray(entries))
    throw new AppError("validation_failed", "A Meta notification has an `entry` list.", [{ path: "entry", message: "expected an array" }]);
  const out: LeadgenChange[] = [];
  for (const entry of entries as { changes?: unknown }[]) {
    for (const change of Array.isArray(entry?.changes) ? (entry.changes as { field?: unknown; value?: Record<string, unknown> }[]) : []) {
      const id = change?.value?.leadgen_id;
      if (change?.field !== "leadgen" || (typeof id !== "string" && typeof id !== "number")) continue;
      if (!/^\d{1,30}$/.test(String(id)))
        throw new AppError("validation_failed", "A leadgen_id is a number.", [{ path: "entry.changes.value.leadgen_id", message: "expected digits" }]);
      out.push({ ...change.value, leadgen_id: String(id) });
    }
  }
  if (out.length > MAX_LEADS_PER_NOTIFICATION)
    throw new AppError("validation_failed", `A notification carries at most ${MAX_LEADS_PER_NOTIFICATION} leads.`, [
      { path: "entry", message: `got ${out.length}` },
    ]);
  return out;
}

/** Queues the notification's leads (a lead already queued is not queued again) and starts fetching. */
export async function acceptMetaNotification(db: Db, source: InboundSource, payload: unknown): Promise<{ queued: number }> {
  const changes = leadgenChanges(payload);
  if (changes.length === 0) return { queued: 0 };
  const queued = await db.transaction(async (tx) => {
    // One organization's flood waits its turn: Meta retries a refused notification later.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`meta-queue:${source.orgId}`}, 0))`);
    const [pending] = await tx
      .select({ n: count() })
      .from(metaLeadFetches)
      .where(and(eq(metaLeadFetches.orgId, source.orgId), eq(metaLeadFetches.status, "pending")));
    if (Number(pending!.n) + changes.length > MAX_PENDING_PER_ORG) {
      throw new AppError("rate_limited", `${MAX_PENDING_PER_ORG} Meta leads are already waiting to be fetched for this organization: try again later.`, [], 60);
    }
    const rows = await tx
      .insert(metaLeadFetches)
      .values(changes.map((c) => ({ id: newId("mlf"), orgId: source.orgId, sourceId: source.id, leadgenId: c.leadgen_id, notification: c })))
      .onConflictDoNothing()
      .returning({ id: metaLeadFetches.id });
    return rows.length;
  });
  if (queued) runAfterResponse(() => pumpMetaFetches(db));
  return { queued };
}

/** A Graph lead's `field_data` (`[{name, values: [...]}]`) as flat form fields. */
export function metaFields(lead: unknown): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const data = (lead as { field_data?: unknown })?.field_data;
  for (const f of Array.isArray(data) ? (data as { name?: unknown; values?: unknown }[]).slice(0, 100) : []) {
    if (typeof f?.name !== "string" || !Array.isArray(f.values)) continue;
    flat[f.name] = f.values.filter((v) => typeof v === "string").join(", ");
  }
  return flat;
}

type Fetch = typeof metaLeadFetches.$inferSelect;

/**
 * Claims due fetches, fairly: round-robin across organizations (every organization's oldest before
 * anyone's second), so a flood in one organization (or a Graph API that hangs for it) never holds
 * up another's leads. A fetch claimed by another server meanwhile is skipped (the update re-checks
 * the lease under its lock).
 */
async function claimDue(db: Db, orgIds?: string[]): Promise<Fetch[]> {
  const only = orgIds ? sql`and org_id = any(${`{${orgIds.join(",")}}`}::text[])` : sql``;
  const ids = rowsOf<{ id: string }>(
    await db.execute(sql`
      update meta_lead_fetches set locked_until = now() + ${`${LEASE_MS} milliseconds`}::interval, attempts = attempts + 1
      where status = 'pending' and (locked_until is null or locked_until < now()) and id in (
        select id from (
          select id, next_attempt_at, row_number() over (partition by org_id order by next_attempt_at, id) as rn
          from meta_lead_fetches
          where status = 'pending' and next_attempt_at <= now() and (locked_until is null or locked_until < now()) ${only}
        ) due order by rn, next_attempt_at limit ${BATCH})
      returning id`),
  ).map((r) => r.id);
  return ids.length ? db.select().from(metaLeadFetches).where(inArray(metaLeadFetches.id, ids)) : [];
}

async function fetchOne(db: Db, job: Fetch, timeoutMs: number): Promise<void> {
  const [source] = await db.select().from(inboundSources).where(eq(inboundSources.id, job.sourceId));
  try {
    if (!source?.accessTokenCiphertext) throw new Error("the source has no page access token");
    const token = decrypt(source.accessTokenCiphertext, { orgId: source.orgId, column: "inbound_sources.access_token" });
    const url = `${env().META_GRAPH_URL.replace(/\/$/, "")}/${encodeURIComponent(job.leadgenId)}?access_token=${encodeURIComponent(token)}`;
    const lead = await fetchJson(url, {}, undefined, timeoutMs);
    const n = job.notification;
    const ids = Object.fromEntries(
      ["form_id", "ad_id", "adgroup_id", "page_id", "created_time"].filter((k) => n[k] !== undefined).map((k) => [k, String(n[k])]),
    );
    const { data } = mapLead({ ...metaFields(lead), ...ids, meta_lead_id: job.leadgenId }, "meta lead ads");
    data.source = "meta lead ads";
    const ctx = { orgId: job.orgId, actor: { type: "inbound_source" as const, id: source.id, label: source.name }, source: "lead_capture" as const };
    await db.transaction(async (tx) => {
      const { client } = await captureLead(ctx, { data, channel: "meta lead ads" }, tx);
      await tx.update(metaLeadFetches).set({ status: "done", clientId: client.id, lockedUntil: null, lastError: null }).where(eq(metaLeadFetches.id, job.id));
    });
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    const delay = RETRY_DELAYS_SECONDS[job.attempts - 1];
    await db
      .update(metaLeadFetches)
      .set(
        delay === undefined
          ? { status: "failed", lastError: message, lockedUntil: null }
          : { nextAttemptAt: new Date(Date.now() + delay * 1000), lastError: message, lockedUntil: null },
      )
      .where(eq(metaLeadFetches.id, job.id));
    if (delay === undefined) logError("meta lead", err, { org: job.orgId, fetch: job.id });
  }
}

/** Fetches every due lead (in batches), each with its own timeout; resolves when none is due. */
export async function pumpMetaFetches(db: Db, options: { orgIds?: string[]; timeoutMs?: number } = {}): Promise<number> {
  let done = 0;
  for (;;) {
    const batch = await claimDue(db, options.orgIds);
    if (batch.length === 0) return done;
    await Promise.all(batch.map((job) => fetchOne(db, job, options.timeoutMs ?? GRAPH_TIMEOUT_MS)));
    done += batch.length;
  }
}

/** The in-process schedule for retries: every 30 s. */
export function startMetaFetcher(db: Db, everyMs = 30_000): () => void {
  const timer = setInterval(() => void pumpMetaFetches(db).catch((err) => logError("meta lead", err)), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
