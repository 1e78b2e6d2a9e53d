import "server-only";
import { eq } from "drizzle-orm";
import { inboundSources, type InboundSource } from "@/db/schema";
import type { Db } from "@/db/client";
import { captureLead } from "@/lib/leads/capture";
import { googleLead } from "@/lib/leads/google";
import { acceptMetaNotification } from "@/lib/leads/meta";
import { metrics } from "@/lib/ops/metrics";
import { sameSecret } from "./verify";

/**
 * The inbound sources that are lead channels (Google Ads lead forms, Meta Lead Ads): their
 * payloads become leads through lead capture — merged into a returning client, notified, counted
 * against lead capture's share of the plan — instead of going through a mapping.
 */

export interface LeadSourceResult {
  clientId: string | null;
  created: boolean;
  /** Added to the JSON answer. */
  answer: Record<string, unknown>;
}

export async function receiveLeadPayload(db: Db, source: InboundSource, payload: unknown): Promise<LeadSourceResult> {
  if (source.kind === "meta_lead_ads") {
    const { queued } = await acceptMetaNotification(db, source, payload);
    return { clientId: null, created: false, answer: { queued } };
  }
  const { lead } = googleLead(payload);
  const ctx = { orgId: source.orgId, actor: { type: "inbound_source" as const, id: source.id, label: source.name }, source: "lead_capture" as const };
  const { client, created } = await captureLead(ctx, lead);
  if (!lead.test) metrics().leads.inc({ channel: "google_ads" });
  return { clientId: client.id, created, answer: { client_id: client.id, new: created, test: lead.test ?? false } };
}

/** The Google lead's id: the same lead sent again is a replay, whatever else changed. */
export function googleLeadId(rawBody: string): string | null {
  try {
    const id = (JSON.parse(rawBody) as { lead_id?: unknown })?.lead_id;
    return typeof id === "string" && id.length <= 200 ? id : null;
  } catch {
    return null;
  }
}

/** The key in a Google body is a secret: it is not kept in the request log. */
export function redactGoogleKey(rawBody: string): string {
  try {
    const body = JSON.parse(rawBody) as Record<string, unknown>;
    if (body && typeof body === "object" && "google_key" in body) return JSON.stringify({ ...body, google_key: "[redacted]" });
  } catch {
    // Not JSON: nothing to find a key in.
  }
  return rawBody.replace(/"google_key"\s*:\s*"[^"]*"/g, '"google_key":"[redacted]"');
}

/**
 * Meta's subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
 * is answered with the challenge when the token is this source's.
 */
export async function metaHandshake(db: Db, sourceId: string, params: URLSearchParams): Promise<{ ok: boolean; challenge?: string }> {
  if (!/^src_[A-Za-z0-9]{1,40}$/.test(sourceId)) return { ok: false };
  const [source] = await db.select().from(inboundSources).where(eq(inboundSources.id, sourceId)).limit(1);
  const token = params.get("hub.verify_token") ?? "";
  const challenge = params.get("hub.challenge") ?? "";
  if (!source || !source.enabled || source.kind !== "meta_lead_ads" || !source.verifyToken) return { ok: false };
  if (params.get("hub.mode") !== "subscribe" || !sameSecret(token, source.verifyToken) || !/^[A-Za-z0-9_-]{1,200}$/.test(challenge)) return { ok: false };
  return { ok: true, challenge };
}
