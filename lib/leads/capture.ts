import "server-only";
import { and, desc, eq } from "drizzle-orm";
import { clients, leadCaptures, organizations } from "@/db/schema";
import { getDb, type Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { notifyMembers, type NotificationInput } from "@/lib/notifications/notify";
import { writeRecords, type WriteContext, type WriteOp } from "@/lib/records/pipeline";
import { coalesce, type Settled } from "@/lib/records/coalesce";
import { registry } from "@/lib/records/registry";
import { serializeRecord, type ApiRecord } from "@/lib/records/serialize";
import { candidateClients, indexIdentities, normalizeEmail, normalizePhone } from "./identity";

/**
 * Every channel's leads land here (web form, API, Google Ads, Meta). A lead whose email or phone
 * matches an existing client attaches to that client — kept in its lead history, the team told
 * "returning lead", `client_updated` fired — instead of making a second client, unless the
 * organization turned merging off. A new lead becomes a client with status `lead`, and its first
 * lead history entry.
 *
 * Leads arriving together are captured together (group commit): one lookup for the batch, one
 * transaction writing the new clients, the returning clients' updates and every history entry.
 */

export interface CapturedLead {
  /** The client fields (status `lead`, source, custom fields with the message and the rest). */
  data: Record<string, unknown>;
  /** The channel, as people read it: "web form", "api", "google ads", "meta lead ads". */
  channel: string;
  /** A provider's test lead: never merged into a real client, no notification. */
  test?: boolean;
}

export interface CaptureOutcome {
  client: ApiRecord;
  created: boolean;
}

/** The JSON answer: the client, and which client the lead landed on and whether it made it. */
export const leadAnswer = (o: CaptureOutcome) => ({ ...o.client, lead: { client_id: o.client.id, new: o.created } });

/** Client fields a returning lead may fill in when the client has none yet. */
const FILLABLE = ["email", "phone", "company", "address"] as const;
/** Within this long of a client's last returning lead, another one only adds to its history. */
export const RETURN_QUIET_SECONDS = 60;

/** What the lead history keeps of a capture: its message apart, the other extra fields as they came. */
function historyOf(data: Record<string, unknown>) {
  const { message, ...fields } = (data.custom_fields as Record<string, unknown> | undefined) ?? {};
  return { message: typeof message === "string" ? message : null, fields };
}

/**
 * `db` is a transaction the caller holds (an idempotent request stores its answer with the lead);
 * without it, the lead is captured with the others of the same writer arriving meanwhile.
 */
export async function captureLead(ctx: WriteContext, lead: CapturedLead, db?: Executor): Promise<CaptureOutcome> {
  if (db) return unwrap((await captureLeads(ctx, [lead], db))[0]!);
  const key = JSON.stringify(["lead", ctx.orgId, ctx.source, ctx.actor.type, ctx.actor.id, ctx.actor.label ?? null]);
  return coalesce(
    key,
    lead,
    (leads) => captureLeads(ctx, leads),
    async (l) => unwrap((await captureLeads(ctx, [l]))[0]!),
  );
}

function unwrap<R>(r: Settled<R>): R {
  if (!r.ok) throw r.error;
  return r.value;
}

type Client = typeof clients.$inferSelect;
type Plan = { kind: "new" } | { kind: "joins"; index: number } | { kind: "returns"; client: Client };

/** Captures a batch of leads in one transaction; each lead's outcome on its own. */
export async function captureLeads(ctx: WriteContext, leads: CapturedLead[], db?: Executor): Promise<Settled<CaptureOutcome>[]> {
  const exec = db ?? (await getDb());
  const real = leads.filter((l) => !l.test);
  const emails = [...new Set(real.map((l) => normalizeEmail(l.data.email)).filter((e): e is string => e !== null))];
  const phones = [...new Set(real.map((l) => l.data.phone).filter((p): p is string => typeof p === "string"))];
  const [[org], candidates] = await Promise.all([
    exec.select({ merge: organizations.leadMerge, country: organizations.defaultCountry }).from(organizations).where(eq(organizations.id, ctx.orgId)),
    real.length ? candidateClients(exec, ctx.orgId, { emails, phones }, 20 * real.length) : Promise.resolve([]),
  ]);
  const merge = org?.merge ?? true;
  const country = org?.country ?? null;
  const existing = indexIdentities(candidates, country);

  // Who each lead is: a returning client, the same person as an earlier new lead of this batch, or new.
  const seen = new Map<string, number>();
  const plans: Plan[] = leads.map((l, i) => {
    if (l.test || !merge) return { kind: "new" };
    const match = existing.find(l.data.email, l.data.phone);
    if (match) return { kind: "returns", client: match };
    const keys = [normalizeEmail(l.data.email), normalizePhone(l.data.phone, country)].filter((k): k is string => k !== null);
    const earlier = keys.map((k) => seen.get(k)).find((v) => v !== undefined);
    if (earlier !== undefined) return { kind: "joins", index: earlier };
    for (const k of keys) seen.set(k, i);
    return { kind: "new" };
  });

  const now = Date.now();
  return exec.transaction(async (tx) => {
    const out: Settled<CaptureOutcome>[] = new Array(leads.length);
    // New clients, one multi-row write (a notification each).
    const fresh = plans.map((p, i) => (p.kind === "new" ? i : -1)).filter((i) => i >= 0);
    const created = fresh.length
      ? await writeRecords(
          ctx,
          "client",
          fresh.map((i) => ({ kind: "create" as const, data: leads[i]!.data })),
          { db: tx, notifyEach: true },
        )
      : [];
    fresh.forEach((i, n) => {
      const r = created[n]!;
      out[i] = r.ok ? { ok: true, value: { client: r.record, created: true } } : { ok: false, error: r.error };
    });

    // Returning clients: updated (and the team told) once per quiet period; a burst of repeats only
    // adds to the history, so the client's row is not locked by every post.
    const updates = new Map<string, { client: Client; lead: CapturedLead }>();
    plans.forEach((p, i) => {
      if (p.kind !== "returns") return;
      const last = Date.parse(String((p.client.customFields as Record<string, unknown>).last_lead_at ?? ""));
      if (!(now - last < RETURN_QUIET_SECONDS * 1000) && !updates.has(p.client.id)) updates.set(p.client.id, { client: p.client, lead: leads[i]! });
    });
    const ops: WriteOp[] = [...updates.values()].map(({ client, lead }) => {
      const patch: Record<string, unknown> = { custom_fields: { last_lead_at: new Date(now).toISOString(), last_lead_channel: lead.channel } };
      for (const f of FILLABLE) if (!client[f] && typeof lead.data[f] === "string") patch[f] = lead.data[f];
      return { kind: "update", id: client.id, data: patch };
    });
    const updated = new Map<string, ApiRecord>();
    if (ops.length) {
      const results = await writeRecords(ctx, "client", ops, { db: tx });
      results.forEach((r) => r.ok && updated.set(r.record.id, r.record));
      const notes: NotificationInput[] = [...updates.values()].map(({ client, lead }) => ({
        kind: "returning_lead",
        title: `Returning lead: ${client.name}`,
        body: [historyOf(lead.data).message, `via ${lead.channel}`].filter(Boolean).join(" · "),
        link: `records/clients/${client.id}`,
      }));
      await notifyMembers(tx, ctx.orgId, notes);
    }
    plans.forEach((p, i) => {
      if (p.kind === "returns")
        out[i] = { ok: true, value: { client: updated.get(p.client.id) ?? serializeRecord(registry.client, p.client), created: false } };
      else if (p.kind === "joins") {
        const first = out[p.index]!;
        out[i] = first.ok ? { ok: true, value: { client: first.value.client, created: false } } : first;
      }
    });

    // Every captured lead in its client's history.
    const history = out.flatMap((r, i) =>
      r.ok
        ? [
            {
              id: newId("lcp"),
              orgId: ctx.orgId,
              clientId: r.value.client.id,
              channel: leads[i]!.channel,
              created: r.value.created,
              ...historyOf(leads[i]!.data),
            },
          ]
        : [],
    );
    if (history.length) await tx.insert(leadCaptures).values(history);
    return out;
  });
}

/** A client's lead history, newest first. */
export async function leadHistory(db: Executor, orgId: string, clientId: string, limit = 50) {
  return db
    .select()
    .from(leadCaptures)
    .where(and(eq(leadCaptures.orgId, orgId), eq(leadCaptures.clientId, clientId)))
    .orderBy(desc(leadCaptures.createdAt), desc(leadCaptures.id))
    .limit(limit);
}
