import "server-only";
import { createHash } from "node:crypto";
import { and, desc, eq, isNull, or, gt, sql } from "drizzle-orm";
import { z } from "zod";
import { apiKeys, organizations, users, API_SCOPES, type ApiKey, type ApiScope, type PlanId } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { listenerFor } from "@/db/listen";
import { env, serverless } from "@/lib/env";
import { AppError, zodDetails } from "@/lib/errors";
import { newId, randomBase62 } from "@/lib/ids";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { planLimits } from "@/lib/orgs/plans";
import { CREDENTIALS_CHANNEL, KeyCache } from "./cache";

export const KEY_PREFIX = "sk_live_";
/** 43 base62 characters carry 256 bits: at least the 32 random bytes the contract asks for. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${SECRET_LENGTH}}$`);

export function generateKey(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBase62(SECRET_LENGTH)}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 4), hash: hashKey(key) };
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function hasScope(scopes: readonly string[], needed: ApiScope): boolean {
  return scopes.includes(needed) || scopes.includes("admin");
}

export const scopesSchema = z
  .array(z.enum(API_SCOPES, { message: `must be one of: ${API_SCOPES.join(", ")}` }))
  .min(1, "pick at least one scope")
  .transform((s) => [...new Set(s)].sort() as ApiScope[]);

export const GRACE_PERIODS = { none: 0, "1h": 3600, "24h": 86_400, "7d": 604_800 } as const;
export type GracePeriod = keyof typeof GRACE_PERIODS;

export type KeyStatus = "active" | "rotating" | "expired" | "revoked";

export function keyStatus(k: Pick<ApiKey, "revokedAt" | "expiresAt" | "rotatedToId">, now = new Date()): KeyStatus {
  if (k.revokedAt && k.revokedAt <= now) return "revoked";
  if (k.expiresAt && k.expiresAt <= now) return "expired";
  if (k.rotatedToId) return "rotating";
  return "active";
}

const createInput = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
  scopes: scopesSchema,
  expiresAt: z.date().nullable().optional(),
});

/** Creates a key and returns its plaintext — the only time it is ever available. */
export async function createApiKey(
  db: Executor,
  ctx: ChangeContext,
  input: { name: string; scopes: string[]; expiresAt?: Date | null; createdByUserId?: string | null },
): Promise<{ key: string; apiKey: ApiKey }> {
  const parsed = createInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid API key.", zodDetails(parsed.error.issues));
  if (parsed.data.expiresAt && parsed.data.expiresAt <= new Date()) {
    throw new AppError("validation_failed", "Invalid API key.", [{ path: "expiresAt", message: "must be in the future" }]);
  }
  return db.transaction(async (tx) => {
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!org) throw new AppError("not_found", "Organization not found.");
    await assertKeyQuota(tx, org.id, org.plan);
    const generated = generateKey();
    const [apiKey] = await tx
      .insert(apiKeys)
      .values({
        id: newId("key"),
        orgId: ctx.orgId,
        name: parsed.data.name,
        prefix: generated.prefix,
        hash: generated.hash,
        scopes: parsed.data.scopes,
        createdByUserId: input.createdByUserId ?? null,
        createdByLabel: ctx.actor.label ?? null,
        expiresAt: parsed.data.expiresAt ?? null,
      })
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "api_key.created", targetType: "api_key", targetId: apiKey!.id, after: { name: apiKey!.name, prefix: apiKey!.prefix, scopes: apiKey!.scopes, expires_at: apiKey!.expiresAt } },
    ]);
    return { key: generated.key, apiKey: apiKey! };
  });
}

async function assertKeyQuota(tx: Executor, orgId: string, plan: PlanId) {
  const max = planLimits(plan).maxApiKeys;
  if (max === null) return;
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, new Date()))));
  if ((r?.n ?? 0) >= max) {
    throw new AppError("plan_limit_reached", `Your ${plan} plan allows ${max} active API keys. Revoke one or upgrade the plan.`);
  }
}

export async function listApiKeys(db: Executor, orgId: string) {
  const rows = await db
    .select({ key: apiKeys, creatorEmail: users.email })
    .from(apiKeys)
    .leftJoin(users, eq(users.id, apiKeys.createdByUserId))
    .where(eq(apiKeys.orgId, orgId))
    .orderBy(desc(apiKeys.createdAt));
  const now = new Date();
  return rows.map(({ key, creatorEmail }) => {
    const { hash: _hash, ...rest } = key;
    void _hash;
    return { ...rest, creator: creatorEmail ?? key.createdByLabel ?? "—", status: keyStatus(key, now) };
  });
}

async function lockKey(tx: Executor, orgId: string, id: string): Promise<ApiKey> {
  const [key] = await tx
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), eq(apiKeys.id, id)))
    .for("update");
  if (!key) throw new AppError("not_found", "No such API key.");
  return key;
}

/** Revocation is immediate: the next request with this key is refused. */
export async function revokeApiKey(db: Db, ctx: ChangeContext, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    const key = await lockKey(tx, ctx.orgId, id);
    if (key.revokedAt) return;
    await tx.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "api_key.revoked", targetType: "api_key", targetId: id, before: { prefix: key.prefix, status: keyStatus(key) } },
    ]);
  });
  credentialsChanged(ctx.orgId);
}

/**
 * Issues a new key with the same name, scopes and expiry; the old one keeps working for the
 * grace period (none: refused at once), then is refused.
 */
export async function rotateApiKey(
  db: Db,
  ctx: ChangeContext,
  id: string,
  grace: GracePeriod,
  createdByUserId?: string | null,
): Promise<{ key: string; apiKey: ApiKey }> {
  if (!(grace in GRACE_PERIODS)) throw new AppError("validation_failed", "Invalid grace period.", [{ path: "grace", message: `must be one of: ${Object.keys(GRACE_PERIODS).join(", ")}` }]);
  const result = await db.transaction(async (tx) => {
    const old = await lockKey(tx, ctx.orgId, id);
    const status = keyStatus(old);
    if (status !== "active") throw new AppError("conflict", `This key is ${status} and cannot be rotated.`);
    const generated = generateKey();
    const now = Date.now();
    const [fresh] = await tx
      .insert(apiKeys)
      .values({
        id: newId("key"),
        orgId: ctx.orgId,
        name: old.name,
        prefix: generated.prefix,
        hash: generated.hash,
        scopes: old.scopes,
        createdByUserId: createdByUserId ?? null,
        createdByLabel: ctx.actor.label ?? null,
        expiresAt: old.expiresAt,
      })
      .returning();
    const graceSeconds = GRACE_PERIODS[grace];
    const graceEnd = new Date(now + graceSeconds * 1000);
    await tx
      .update(apiKeys)
      .set(
        graceSeconds === 0
          ? { revokedAt: new Date(now), rotatedToId: fresh!.id }
          : { expiresAt: old.expiresAt && old.expiresAt < graceEnd ? old.expiresAt : graceEnd, rotatedToId: fresh!.id },
      )
      .where(eq(apiKeys.id, id));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "api_key.rotated", targetType: "api_key", targetId: id, before: { prefix: old.prefix }, after: { replaced_by: fresh!.id, prefix: fresh!.prefix, grace } },
    ]);
    return { key: generated.key, apiKey: fresh! };
  });
  credentialsChanged(ctx.orgId);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Verification: the hot path of every API request.

export interface VerifiedKey {
  id: string;
  orgId: string;
  prefix: string;
  name: string;
  scopes: ApiScope[];
  expiresAt: Date | null;
  org: { id: string; slug: string; name: string; plan: PlanId; rateLimitRpm: number | null; leadAllowedOrigins: string[]; leadRedirectUrls: string[] };
}

type KeyRow = Awaited<ReturnType<ReturnType<typeof prepareLookup>["execute"]>>[number];

interface Verifier {
  lookup: ReturnType<typeof prepareLookup>;
  cache: KeyCache<KeyRow>;
}

// Process-wide (see db/listen.ts): every bundle of this module must share one cache per database.
const shared = globalThis as unknown as { __smarfleKeyVerifiers?: WeakMap<Db, Verifier>; __smarfleKeyCaches?: Set<KeyCache<KeyRow>> };
const verifiers = (shared.__smarfleKeyVerifiers ??= new WeakMap());
const caches = (shared.__smarfleKeyCaches ??= new Set());

function verifierFor(db: Db): Verifier {
  let v = verifiers.get(db);
  if (!v) {
    const cache = new KeyCache<KeyRow>();
    v = { lookup: prepareLookup(db), cache };
    verifiers.set(db, v);
    const listen = keyCacheEnabled() ? listenerFor(db) : undefined;
    if (listen) {
      caches.add(cache);
      listen(CREDENTIALS_CHANNEL, (orgId) => cache.invalidate(orgId || undefined), (live) => cache.setListening(live));
    }
  }
  return v;
}

function keyCacheEnabled(): boolean {
  const e = env();
  return e.SMARFLE_KEY_CACHE === "1" || (e.SMARFLE_KEY_CACHE !== "0" && !serverless());
}

/** Whether `db`'s key cache is in use (hears the database) and how many keys it holds. */
export function keyCacheState(db: Db): { listening: boolean; size: number } {
  const { cache } = verifierFor(db);
  return { listening: cache.listening, size: cache.size };
}

/**
 * Drops an org's keys from this process's caches at once. The database notifies every server of
 * the change anyway; this only closes the moment between our commit and that notification
 * reaching us, so that the request after a revocation in this process is refused for certain.
 */
export function credentialsChanged(orgId: string): void {
  for (const cache of caches) cache.invalidate(orgId);
}

function prepareLookup(db: Db) {
  return db
    .select({
      id: apiKeys.id,
      orgId: apiKeys.orgId,
      prefix: apiKeys.prefix,
      name: apiKeys.name,
      scopes: apiKeys.scopes,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      orgSlug: organizations.slug,
      orgName: organizations.name,
      plan: organizations.plan,
      rateLimitRpm: organizations.rateLimitRpm,
      leadAllowedOrigins: organizations.leadAllowedOrigins,
      leadRedirectUrls: organizations.leadRedirectUrls,
    })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.orgId))
    .where(eq(apiKeys.hash, sql.placeholder("hash")))
    .limit(1)
    .prepare("api_key_by_hash");
}

/**
 * Looks a presented key up by its hash, in the cache (see KeyCache) or the database. The org's
 * plan and rate-limit override come with it, so an operator's change applies on the next
 * request. Malformed keys are refused without a query; expiry is checked on every request.
 */
export async function verifyApiKey(db: Db, presented: string): Promise<VerifiedKey | null> {
  if (!KEY_PATTERN.test(presented)) return null;
  const { lookup, cache } = verifierFor(db);
  const hash = hashKey(presented);
  let row = cache.get(hash);
  if (!row) {
    const stamp = cache.stamp();
    [row] = await lookup.execute({ hash });
    if (!row) return null;
    cache.set(hash, row, stamp);
  }
  const now = new Date();
  if (row.revokedAt && row.revokedAt <= now) return null;
  if (row.expiresAt && row.expiresAt <= now) return null;
  return {
    id: row.id,
    orgId: row.orgId,
    prefix: row.prefix,
    name: row.name,
    scopes: row.scopes,
    expiresAt: row.expiresAt,
    org: {
      id: row.orgId,
      slug: row.orgSlug,
      name: row.orgName,
      plan: row.plan,
      rateLimitRpm: row.rateLimitRpm,
      leadAllowedOrigins: row.leadAllowedOrigins,
      leadRedirectUrls: row.leadRedirectUrls,
    },
  };
}
