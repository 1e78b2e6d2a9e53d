import "server-only";
import { metrics } from "@/lib/ops/metrics";
import { logError } from "@/lib/log";
import { and, eq, gt } from "drizzle-orm";
import { getDb } from "@/db/client";
import { AppError } from "@/lib/errors";
import { hasScope, type VerifiedKey } from "@/lib/api-keys/verify";
import { LEAD_RESERVE_PATH } from "@/lib/records/pipeline";
import { authenticate, keyRateLimit, presentedKey, WINDOW_SECONDS } from "@/lib/http/gate";
import { edge, edgeJson, type EdgeContext } from "@/lib/http/edge";
import { getRateLimiter, type RateLimitOutcome } from "@/lib/rate-limit";
import { notifications } from "@/db/schema";
import { notifyMembers } from "@/lib/notifications/notify";
import { readText } from "@/lib/http/body";
import { setRetryAfter } from "@/lib/http/respond";
import { REPLAYED_HEADER, hashRequest, parseIdempotencyKey, withIdempotency } from "@/lib/http/idempotency";
import { mapLead } from "./map";
import { captureLead, leadAnswer, type CaptureOutcome } from "./capture";
import { errorPage, thankYouPage } from "./pages";
import { redirectAllowed } from "./snippets";

/**
 * POST /api/webhook/leads — what a website form, an ad platform's lead form or a script posts to.
 * JSON gets JSON back (201 with the client); a plain HTML form gets a redirect to an allowed
 * `redirect_to` URL or a thank-you page. Every lead goes through the record pipeline.
 */

export const LEAD_BODY_LIMIT = 64 * 1024;

const CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-API-Key, Idempotency-Key";
/** A client address may send this share of its key's leads per minute (but at least the minimum). */
const LEADS_ADDRESS_SHARE = 10;
const LEADS_PER_ADDRESS_MIN_RPM = 10;
const CORS_EXPOSE_HEADERS = "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Idempotent-Replayed";

function corsHeaders(headers: Headers, origin: string | null, allowed: boolean) {
  headers.set("Vary", "Origin");
  if (!origin) headers.set("Access-Control-Allow-Origin", "*");
  else if (allowed) headers.set("Access-Control-Allow-Origin", origin);
  else headers.delete("Access-Control-Allow-Origin");
  headers.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}

/** Preflight: the browser asks before a cross-origin fetch with JSON or an API-key header. */
export function leadPreflight(req: Request): Response {
  const origin = req.headers.get("origin");
  const headers = new Headers({
    "Access-Control-Allow-Origin": origin ?? "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
    "Access-Control-Max-Age": "86400",
    Vary: "Origin",
  });
  return new Response(null, { status: 204, headers });
}

type BodyKind = "json" | "form";

async function readLeadBody(req: Request): Promise<{ kind: BodyKind; raw: string; fields: unknown }> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  const kind: BodyKind | null = /^application\/(.+\+)?json\b/.test(type)
    ? "json"
    : type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")
      ? "form"
      : null;
  if (!kind)
    throw new AppError(
      "unsupported_media_type",
      "Send the lead as JSON (application/json) or as form fields (application/x-www-form-urlencoded or multipart/form-data).",
    );
  const raw = await readText(req, LEAD_BODY_LIMIT);
  if (raw.trim() === "") throw new AppError(kind === "json" ? "invalid_json" : "validation_failed", "The request body is empty.");
  if (kind === "json") {
    try {
      return { kind, raw, fields: JSON.parse(raw) };
    } catch (err) {
      throw new AppError("invalid_json", `The request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (type.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { "content-type": type } }).formData();
    } catch {
      throw new AppError("validation_failed", "The multipart form body could not be read.");
    }
    const fields: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === "string" && !(k in fields)) fields[k] = v;
    return { kind, raw, fields };
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) if (!(k in fields)) fields[k] = v;
  return { kind, raw, fields };
}

const wantsHtml = (req: Request, kind: BodyKind | null) => kind === "form" && !(req.headers.get("accept") ?? "").includes("application/json");

/**
 * Leads count against buckets of their own — per key, and per client address within a key — not
 * against the organization's API ceiling, so a busy (or abused) public form can never take the
 * organization's integrations down with it. An operator raising the org's rate raises these too.
 */
export async function limitLeads(key: VerifiedKey, ip: string): Promise<RateLimitOutcome> {
  const limiter = await getRateLimiter();
  const rpm = keyRateLimit(key);
  const perAddress = Math.max(LEADS_PER_ADDRESS_MIN_RPM, Math.floor(rpm / LEADS_ADDRESS_SHARE));
  const [perKey, address] = await Promise.all([
    limiter.limit(`leads:key:${key.id}`, rpm, WINDOW_SECONDS),
    limiter.limit(`leads:addr:${key.id}:${ip}`, perAddress, WINDOW_SECONDS),
  ]);
  if (perKey.success && !address.success) void limiter.refund(`leads:key:${key.id}`, rpm, WINDOW_SECONDS);
  if (address.success && !perKey.success) void limiter.refund(`leads:addr:${key.id}:${ip}`, perAddress, WINDOW_SECONDS);
  if (!address.success) return address;
  if (!perKey.success) return perKey;
  return address.remaining < perKey.remaining ? address : perKey;
}

/** Tells the admins that lead capture reached its share of the record quota — once a day at most. */
async function leadReserveReached(orgId: string, message: string): Promise<void> {
  try {
    const db = await getDb();
    await db.transaction(async (tx) => {
      const [recent] = await tx
        .select({ id: notifications.id })
        .from(notifications)
        .where(and(eq(notifications.orgId, orgId), eq(notifications.kind, "lead_quota"), gt(notifications.createdAt, new Date(Date.now() - 86_400_000))))
        .limit(1);
      if (recent) return;
      await notifyMembers(
        tx,
        orgId,
        [{ kind: "lead_quota", title: "Lead capture has stopped: records nearly full", body: message, link: "settings/plan" }],
        ["owner", "admin"],
      );
    });
  } catch (err) {
    logError("leads", err, { org: orgId });
  }
}

/** The requests that posted a form: their errors are answered as a page, unless they ask for JSON. */
const formPosts = new WeakSet<EdgeContext>();

function errorAsPage(err: AppError, ctx: EdgeContext): Response | undefined {
  if (!formPosts.has(ctx) || !wantsHtml(ctx.req, "form")) return undefined;
  setRetryAfter(ctx.headers, err);
  ctx.headers.set("content-type", "text/html; charset=utf-8");
  return new Response(errorPage(err, ctx.requestId), { status: err.status, headers: ctx.headers });
}

export const handleLead = edge({ kind: "leads", renderError: errorAsPage }, async (ctx) => {
  try {
    return await lead(ctx);
  } catch (err) {
    if (err instanceof AppError && ctx.key && err.details.some((d) => d.path === LEAD_RESERVE_PATH)) await leadReserveReached(ctx.key.orgId, err.message);
    throw err;
  }
});

async function lead(ctx: EdgeContext): Promise<Response> {
  const { req, headers, ip } = ctx;
  const origin = req.headers.get("origin");
  corsHeaders(headers, origin, true);
  const body = await readLeadBody(req);
  const kind = body.kind;
  if (kind === "form") formPosts.add(ctx);
  const fields = body.fields as Record<string, unknown>;

  // The key: a header, or — for plain HTML forms, which cannot set headers — a form field or
  // the `key` query parameter. Only a leads-only key may travel in a form or URL.
  const fromHeader = presentedKey(req);
  const embedded = fromHeader ? null : ((typeof fields?.api_key === "string" ? fields.api_key : null) ?? new URL(req.url).searchParams.get("key"));
  const presented = fromHeader ?? embedded;
  const db = await getDb();
  const key = await authenticate(
    db,
    presented,
    ip,
    headers,
    {
      rpm: 30,
      bucket: "leads",
      missing: "Send a leads key as `X-API-Key`, `Authorization: Bearer`, the `api_key` form field or the `key` query parameter.",
      invalid: "This API key is not valid.",
    },
    ctx,
    (k) => limitLeads(k, ip),
  );
  if (!hasScope(key.scopes, "leads") && !hasScope(key.scopes, "write")) {
    throw new AppError("insufficient_scope", 'This API key lacks the "leads" scope needed here.', [{ path: "scope", message: "requires leads" }]);
  }
  if (embedded && key.scopes.some((s) => s !== "leads")) {
    throw new AppError(
      "forbidden",
      "Only a key with just the leads scope may be put in a web form or URL: this one can do more. Send it in a header, or create a leads-only key.",
    );
  }
  const allowList = key.org.leadAllowedOrigins;
  if (origin && allowList.length > 0 && !allowList.includes(origin)) {
    corsHeaders(headers, origin, false);
    throw new AppError("forbidden", `Leads from ${origin} are not accepted: add it to the allowed origins in Settings → Lead capture.`);
  }

  const lead = mapLead(fields, kind === "form" ? "web form" : "api");
  const thankYou = () => {
    if (lead.redirectTo && redirectAllowed(lead.redirectTo, key.org.leadRedirectUrls)) {
      headers.set("Location", lead.redirectTo);
      return new Response(null, { status: 303, headers });
    }
    headers.set("content-type", "text/html; charset=utf-8");
    return new Response(thankYouPage(), { status: 200, headers });
  };
  if (lead.spam) {
    // A bot filled the hidden field: answer as if accepted, keep nothing.
    if (wantsHtml(req, kind)) return thankYou();
    return edgeJson(ctx, { object: "lead", accepted: true }, 202);
  }

  const idemKey = parseIdempotencyKey(req);
  const orgId = key.orgId;
  const actor = { type: "api_key" as const, id: key.id, label: key.prefix };
  const writeCtx = { orgId, actor, source: "lead_capture" as const };
  // Without an Idempotency-Key, concurrent leads of one key share transactions (group commit);
  // with one, the stored answer must commit with the lead, in a transaction of its own.
  const captured = { data: lead.data, channel: kind === "form" ? "web form" : "api" };
  const answer = (o: CaptureOutcome) => ({ status: o.created ? 201 : 200, body: leadAnswer(o) });
  const result =
    idemKey === null
      ? { ...answer(await captureLead(writeCtx, captured)), replayed: false }
      : await withIdempotency(db, orgId, "leads", idemKey, hashRequest(body.raw), async (tx) => answer(await captureLead(writeCtx, captured, tx)));
  if (result.replayed) headers.set(REPLAYED_HEADER, "true");
  else metrics().leads.inc({ channel: kind === "form" ? "web_form" : "api" });
  if (wantsHtml(req, kind)) return thankYou();
  return edgeJson(ctx, result.body, result.status);
}
