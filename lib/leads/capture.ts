import "server-only";
import { and, desc, eq } from "drizzle-orm";
import { clients, leadCaptures, organizations } from "@/db/schema";
import { getDb, type Executor } from "@/db/client";
import { newId } from "@/lib/ids";
import { notifyMembers } from "@/lib/notifications/notify";
import { createRecord, updateRecord, type WriteContext } from "@/lib/records/pipeline";
import { createRecordCoalesced } from "@/lib/records/coalesce";
import { serializeRecord, type ApiRecord } from "@/lib/records/serialize";
import { registry } from "@/lib/records/registry";
import { candidateClients, indexIdentities, normalizeEmail, type ClientIdentity } from "./identity";

/**
 * Every channel's leads land here (web form, API, Google Ads, Meta). A lead whose email or phone
 * matches an existing client attaches to that client — kept in its lead history, the team told
 * "returning lead", `client_updated` fired — instead of making a second client, unless the
 * organization turned merging off. A new lead becomes a client with status `lead`, and its first
 * lead history entry.
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
const MAX_CANDIDATES = 20;
/** Within this long of a client's last returning lead, another one only adds to its history. */
export const RETURN_QUIET_SECONDS = 60;

/** What the lead history keeps of a capture: its message apart, the other extra fields as they came. */
function historyOf(data: Record<string, unknown>) {
  const { message, ...fields } = (data.custom_fields as Record<string, unknown> | undefined) ?? {};
  return { message: typeof message === "string" ? message : null, fields };
}

/**
 * `db` is a transaction the caller holds (an idempotent request stores its answer with the lead);
 * without it, a new lead goes through the group-committing writer shared by concurrent leads.
 */
export async function captureLead(ctx: WriteContext, lead: CapturedLead, db?: Executor): Promise<CaptureOutcome> {
  const exec = db ?? (await getDb());
  const email = normalizeEmail(lead.data.email);
  const phone = typeof lead.data.phone === "string" ? lead.data.phone : null;
  const [[org], candidates] = await Promise.all([
    exec.select({ merge: organizations.leadMerge, country: organizations.defaultCountry }).from(organizations).where(eq(organizations.id, ctx.orgId)),
    lead.test ? Promise.resolve([]) : candidateClients(exec, ctx.orgId, { emails: email ? [email] : [], phones: phone ? [phone] : [] }, MAX_CANDIDATES),
  ]);
  const match = org?.merge && candidates.length ? indexIdentities(candidates, org.country).find(email, phone) : null;
  if (match) return { client: await mergeLead(ctx, lead, match, exec), created: false };

  const client = db ? await createRecord(ctx, "client", lead.data, { db }) : await createRecordCoalesced(ctx, "client", lead.data);
  const history = historyOf(lead.data);
  await exec.insert(leadCaptures).values({ id: newId("lcp"), orgId: ctx.orgId, clientId: client.id, channel: lead.channel, created: true, ...history });
  return { client, created: true };
}

async function mergeLead(ctx: WriteContext, lead: CapturedLead, match: ClientIdentity, exec: Executor): Promise<ApiRecord> {
  const history = historyOf(lead.data);
  const clientId = match.id;
  // A burst of repeats (a double-submitted form, a bot replaying one person) is kept in the
  // history, but updates the client and tells the team once per quiet period: the client's row is
  // not locked by every post, and nobody is notified fifty times.
  const last = match.lastLeadAt ? Date.parse(match.lastLeadAt) : NaN;
  if (Date.now() - last < RETURN_QUIET_SECONDS * 1000) {
    await exec.insert(leadCaptures).values({ id: newId("lcp"), orgId: ctx.orgId, clientId, channel: lead.channel, created: false, ...history });
    const [row] = await exec.select().from(clients).where(and(eq(clients.orgId, ctx.orgId), eq(clients.id, clientId)));
    return serializeRecord(registry.client, row!);
  }
  return exec.transaction(async (tx) => {
    const [current] = await tx
      .select({ email: clients.email, phone: clients.phone, company: clients.company, address: clients.address })
      .from(clients)
      .where(and(eq(clients.orgId, ctx.orgId), eq(clients.id, clientId)));
    const patch: Record<string, unknown> = { custom_fields: { last_lead_at: new Date().toISOString(), last_lead_channel: lead.channel } };
    for (const f of FILLABLE) if (current && !current[f] && typeof lead.data[f] === "string") patch[f] = lead.data[f];
    const client = await updateRecord(ctx, "client", clientId, patch, { db: tx });
    await tx.insert(leadCaptures).values({ id: newId("lcp"), orgId: ctx.orgId, clientId, channel: lead.channel, created: false, ...history });
    await notifyMembers(tx, ctx.orgId, [
      {
        kind: "returning_lead",
        title: `Returning lead: ${String(client.name)}`,
        body: [history.message, `via ${lead.channel}`].filter(Boolean).join(" · "),
        link: `records/clients/${clientId}`,
      },
    ]);
    return client;
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
