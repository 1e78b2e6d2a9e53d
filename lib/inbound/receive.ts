import "server-only";
import { and, eq, inArray } from "drizzle-orm";
import { createHash } from "node:crypto";
import { inboundDeliveries, inboundRequests, inboundSources, type InboundSource } from "@/db/schema";
import { getDb, type Db } from "@/db/client";
import { AppError, ERROR_STATUS } from "@/lib/errors";
import { decrypt } from "@/lib/crypto/encryption";
import { applyMapping, parseMapping } from "@/lib/mapping/mapping";
import { writeRecords, type WriteContext } from "@/lib/records/pipeline";
import { limitAnonymous, rateLimitHeaders } from "@/lib/http/gate";
import { readText } from "@/lib/http/body";
import { edge, edgeJson } from "@/lib/http/edge";
import { getRateLimiter } from "@/lib/rate-limit";
import { verifyInbound } from "./verify";
import { PRESETS } from "./presets";
import { googleLeadId, metaHandshake, receiveLeadPayload, redactGoogleKey } from "./lead-sources";
import { LEAD_BODY_LIMIT } from "@/lib/leads/handler";

/**
 * POST /api/inbound/{sourceId}: verify the signature over the raw body, drop a delivery already
 * received (replay), map the payload onto a record, upsert it by external id through the
 * pipeline (so a re-sent order never duplicates), and log the request whatever happened.
 */

export const INBOUND_BODY_LIMIT = 1024 * 1024;
const PER_SOURCE_RPM = 600;
/** Requests with a bad signature each source logs per minute; more are refused unlogged. */
export const REJECTED_PER_SOURCE_RPM = 60;
/** How much of a rejected request's body is kept. */
export const REJECTED_BODY_BYTES = 4096;
/** How long a delivery id is remembered (retention deletes older ones). */
export const DELIVERY_ID_RETENTION_DAYS = 7;
const LOGGED_HEADERS =
  /^(content-type|user-agent|x-signature|x-shopify-[a-z-]+|webhook-(id|timestamp|signature)|x-request-id|x-github-[a-z-]+|x-hub-signature-256|stripe-signature|typeform-signature|calendly-webhook-signature)$/;

function loggedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => {
    if (LOGGED_HEADERS.test(k)) out[k] = v.slice(0, 500);
  });
  return out;
}

interface Processed {
  status: "processed" | "failed";
  httpStatus: number;
  recordId: string | null;
  created: number;
  updated: number;
  error: AppError | null;
  /** Lead sources: what the answer adds (the client and whether it is new; Meta: leads queued). */
  answer?: Record<string, unknown>;
}

/** Maps and writes one verified payload. Never throws for bad data: the result says what failed. */
async function process(db: Db, source: InboundSource, rawBody: string): Promise<Processed> {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch (err) {
    return {
      status: "failed",
      httpStatus: 400,
      recordId: null,
      created: 0,
      updated: 0,
      error: new AppError("invalid_json", `The body is not valid JSON: ${(err as Error).message}`),
    };
  }
  try {
    if (PRESETS[source.kind].lead) {
      const r = await receiveLeadPayload(db, source, payload);
      return {
        status: "processed",
        httpStatus: 200,
        recordId: r.clientId,
        created: r.created ? 1 : 0,
        updated: r.clientId && !r.created ? 1 : 0,
        error: null,
        answer: r.answer,
      };
    }
    const mapping = parseMapping(source.mapping);
    const mapped = applyMapping(mapping, payload);
    const ctx: WriteContext = { orgId: source.orgId, actor: { type: "inbound_source", id: source.id, label: source.name }, source: "inbound" };
    const [result] = await writeRecords(
      ctx,
      mapping.target,
      [mapped.externalId ? { kind: "upsert", data: mapped.data } : { kind: "create", data: mapped.data }],
      { db },
    );
    if (!result!.ok) return { status: "failed", httpStatus: ERROR_STATUS[result!.error.code], recordId: null, created: 0, updated: 0, error: result!.error };
    return {
      status: "processed",
      httpStatus: 200,
      recordId: result!.record.id,
      created: result!.outcome === "created" ? 1 : 0,
      updated: result!.outcome === "updated" ? 1 : 0,
      error: null,
    };
  } catch (err) {
    if (err instanceof AppError) return { status: "failed", httpStatus: err.status, recordId: null, created: 0, updated: 0, error: err };
    throw err;
  }
}

/**
 * What identifies a delivery, so a repeat is recognised as a replay. Standard Webhooks signs its
 * `webhook-id`, so that id alone is enough. Shopify's `X-Shopify-Webhook-Id` is not covered by
 * its signature — a replayer could change it — so the body's digest is remembered beside it, and
 * a request matching either is a repeat. The generic kind has no id: the body's digest stands in.
 */
export function deliveryIdsOf(kind: InboundSource["kind"], headers: Headers, rawBody: string): string[] {
  const digest = `sha256:${createHash("sha256").update(rawBody, "utf8").digest("hex")}`;
  const given = kind === "standard_webhooks" ? headers.get("webhook-id") : kind === "shopify" ? headers.get("x-shopify-webhook-id") : null;
  const id = given && given.length <= 200 ? `id:${given}` : null;
  if (kind === "standard_webhooks" && id) return [id];
  // Google's lead_id is checked with the key in the body: the same lead is one delivery.
  const leadId = kind === "google_ads_leads" ? googleLeadId(rawBody) : null;
  if (leadId) return [`lead:${leadId}`];
  return id ? [id, digest] : [digest];
}

export const handleInbound = edge<{ source: string }>({ kind: "inbound", idPrefix: "inr" }, async (ctx, { source: sourceId }) => {
  const { req, requestId, headers, ip } = ctx;
  const db = await getDb();
  const [source] = /^src_[A-Za-z0-9]{1,40}$/.test(sourceId) ? await db.select().from(inboundSources).where(eq(inboundSources.id, sourceId)).limit(1) : [];
  if (!source || !source.enabled) {
    const limited = await limitAnonymous(ip, 60, "inbound");
    rateLimitHeaders(headers, limited);
    throw limited.success ? new AppError("not_found", "No such inbound source.") : new AppError("rate_limited", "Too many requests.");
  }

  const raw = await readText(req, PRESETS[source.kind].lead ? LEAD_BODY_LIMIT : INBOUND_BODY_LIMIT);
  const logged = source.kind === "google_ads_leads" ? redactGoogleKey(raw) : raw;
  const log = (values: Omit<typeof inboundRequests.$inferInsert, "id" | "orgId" | "sourceId" | "headers" | "body">, body = logged) =>
    db.insert(inboundRequests).values({ id: requestId, orgId: source.orgId, sourceId: source.id, headers: loggedHeaders(req.headers), body, ...values });

  // Verify first: a request whose signature fails spends a small budget of its own, never the
  // sender's, and is logged with the start of its body only.
  const limiter = await getRateLimiter();
  const verified = verifyInbound(source.kind, decrypt(source.secretCiphertext, { orgId: source.orgId, column: "inbound_sources.secret" }), req.headers, raw);
  if (!verified.ok) {
    const limited = await limiter.limit(`inbound-rejected:${source.id}`, REJECTED_PER_SOURCE_RPM);
    rateLimitHeaders(headers, limited);
    if (!limited.success) throw new AppError("rate_limited", `Too many requests with a bad signature: this source logs ${REJECTED_PER_SOURCE_RPM} per minute.`);
    await log({ verified: false, status: "rejected", httpStatus: 401, error: verified.reason }, truncateUtf8(logged, REJECTED_BODY_BYTES));
    throw new AppError("unauthorized", `Signature check failed: ${verified.reason}.`);
  }
  const limited = await limiter.limit(`inbound:${source.id}`, PER_SOURCE_RPM);
  rateLimitHeaders(headers, limited);
  if (!limited.success) throw new AppError("rate_limited", `This source accepts ${PER_SOURCE_RPM} requests per minute.`);

  // Replay protection: the first request to claim a delivery id processes it.
  const deliveryIds = deliveryIdsOf(source.kind, req.headers, raw);
  const claimed = await db
    .insert(inboundDeliveries)
    .values(deliveryIds.map((deliveryId) => ({ sourceId: source.id, deliveryId })))
    .onConflictDoNothing()
    .returning({ deliveryId: inboundDeliveries.deliveryId });
  if (claimed.length < deliveryIds.length) {
    // Seen before under one of its ids: give back what this request claimed, and write nothing.
    await releaseDelivery(
      db,
      source.id,
      claimed.map((c) => c.deliveryId),
    );
    await log({ verified: true, status: "duplicate", httpStatus: 200 });
    return edgeJson(ctx, { object: "inbound_result", request_id: requestId, record_id: null, outcome: "duplicate" });
  }
  let result: Processed;
  try {
    result = await process(db, source, raw);
  } catch (err) {
    await releaseDelivery(db, source.id, deliveryIds);
    throw err;
  }
  // A delivery that failed may be sent again (after the mapping or the data is fixed).
  if (result.error) await releaseDelivery(db, source.id, deliveryIds);
  await log({
    verified: true,
    status: result.status,
    httpStatus: result.httpStatus,
    recordId: result.recordId,
    created: result.created,
    updated: result.updated,
    error: result.error?.message ?? null,
  });
  if (result.error) throw result.error;
  return edgeJson(ctx, {
    object: "inbound_result",
    request_id: requestId,
    record_id: result.recordId,
    outcome: result.created ? "created" : result.updated ? "updated" : "unchanged",
    ...result.answer,
  });
});

/** GET /api/inbound/{sourceId}: Meta's subscription handshake (the challenge echoed as plain text). */
export const handleInboundHandshake = edge<{ source: string }>({ kind: "inbound", idPrefix: "inr" }, async (ctx, { source: sourceId }) => {
  const db = await getDb();
  const r = await metaHandshake(db, sourceId, new URL(ctx.req.url).searchParams);
  if (r.ok) {
    ctx.headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(r.challenge, { status: 200, headers: ctx.headers });
  }
  const limited = await limitAnonymous(ctx.ip, 60, "inbound");
  rateLimitHeaders(ctx.headers, limited);
  throw limited.success ? new AppError("forbidden", "The verify token does not match this source's.") : new AppError("rate_limited", "Too many requests.");
});

async function releaseDelivery(db: Db, sourceId: string, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return;
  await db.delete(inboundDeliveries).where(and(eq(inboundDeliveries.sourceId, sourceId), inArray(inboundDeliveries.deliveryId, deliveryIds)));
}

/** At most `max` bytes of `text`, cut on a character boundary. */
function truncateUtf8(text: string, max: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return text;
  return bytes
    .subarray(0, max)
    .toString("utf8")
    .replace(/\uFFFD+$/, "");
}

/** Runs a logged, verified request again with the source's current mapping (after a fix). */
export async function reprocessRequest(db: Db, orgId: string, requestId: string) {
  const [request] = await db
    .select()
    .from(inboundRequests)
    .where(and(eq(inboundRequests.orgId, orgId), eq(inboundRequests.id, requestId)));
  if (!request) throw new AppError("not_found", `No inbound request with id ${requestId}.`);
  if (!request.verified) throw new AppError("conflict", "Only requests whose signature was verified can be processed again.");
  const [source] = await db
    .select()
    .from(inboundSources)
    .where(and(eq(inboundSources.orgId, orgId), eq(inboundSources.id, request.sourceId)));
  if (!source) throw new AppError("not_found", "The source of this request no longer exists.");
  const result = await process(db, source, request.body);
  const [updated] = await db
    .update(inboundRequests)
    .set({
      status: result.status,
      httpStatus: result.httpStatus,
      recordId: result.recordId,
      created: result.created,
      updated: result.updated,
      error: result.error?.message ?? null,
      reprocessedAt: new Date(),
    })
    .where(and(eq(inboundRequests.orgId, orgId), eq(inboundRequests.id, requestId)))
    .returning();
  return updated!;
}
