import "server-only";
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { apiKeys, organizations, type ApiScope, type PlanId } from "@/db/schema";
import type { Db } from "@/db/client";
import { listenerFor } from "@/db/listen";
import { env, serverless } from "@/lib/env";
import { CREDENTIALS_CHANNEL, KeyCache } from "./cache";

/**
 * Key verification, the hot path of every API request: the key's format, its hash, the lookup
 * (cached per server, invalidated by the database's notifications) and the scope check. Creating
 * and changing keys is lib/api-keys/keys.ts.
 */

export const KEY_PREFIX = "sk_live_";
/** 43 base62 characters carry 256 bits: at least the 32 random bytes the contract asks for. */
export const SECRET_LENGTH = 43;
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${SECRET_LENGTH}}$`);

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function hasScope(scopes: readonly string[], needed: ApiScope): boolean {
  return scopes.includes(needed) || scopes.includes("admin");
}

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
      listen(
        CREDENTIALS_CHANNEL,
        (orgId) => cache.invalidate(orgId || undefined),
        (live) => cache.setListening(live),
      );
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
