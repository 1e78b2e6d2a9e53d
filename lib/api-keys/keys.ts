import "server-only";
import { and, desc, eq, isNull, or, gt, sql } from "drizzle-orm";
import { z } from "zod";
import { apiKeys, organizations, users, API_SCOPES, type ApiKey, type ApiScope, type PlanId } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId, randomBase62 } from "@/lib/ids";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { planLimits } from "@/lib/orgs/plans";
import { credentialsChanged, hashKey, KEY_PREFIX, SECRET_LENGTH } from "./verify";

/**
 * Key management: create, list, revoke and rotate an organization's API keys, each change audited
 * and announced to every server's key cache. Checking a presented key is lib/api-keys/verify.ts.
 */

export function generateKey(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBase62(SECRET_LENGTH)}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 4), hash: hashKey(key) };
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
      {
        action: "api_key.created",
        targetType: "api_key",
        targetId: apiKey!.id,
        after: { name: apiKey!.name, prefix: apiKey!.prefix, scopes: apiKey!.scopes, expires_at: apiKey!.expiresAt },
      },
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
  if (!(grace in GRACE_PERIODS))
    throw new AppError("validation_failed", "Invalid grace period.", [{ path: "grace", message: `must be one of: ${Object.keys(GRACE_PERIODS).join(", ")}` }]);
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
      {
        action: "api_key.rotated",
        targetType: "api_key",
        targetId: id,
        before: { prefix: old.prefix },
        after: { replaced_by: fresh!.id, prefix: fresh!.prefix, grace },
      },
    ]);
    return { key: generated.key, apiKey: fresh! };
  });
  credentialsChanged(ctx.orgId);
  return result;
}
