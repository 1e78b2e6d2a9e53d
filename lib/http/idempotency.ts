import "server-only";
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { idempotencyKeys } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError } from "@/lib/errors";

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function parseIdempotencyKey(req: Request): string | null {
  const key = req.headers.get("idempotency-key");
  if (key === null) return null;
  if (!KEY_PATTERN.test(key)) {
    throw new AppError("validation_failed", "Invalid Idempotency-Key.", [{ path: "Idempotency-Key", message: "must be 1–255 visible ASCII characters" }]);
  }
  return key;
}

export const hashRequest = (body: string) => createHash("sha256").update(body).digest("hex");

/**
 * Runs `fn` once per (org, scope, key): a retry — even one arriving while the first is still
 * being processed — gets the first answer. Concurrent requests with the same key wait on a
 * transaction-scoped advisory lock; the answer is stored in the same transaction as the write.
 * Failed attempts are not stored, so a corrected retry can succeed.
 */
export async function withIdempotency(
  db: Db,
  orgId: string,
  scope: string,
  key: string | null,
  requestHash: string,
  fn: (tx: Executor) => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  if (!key) return { ...(await fn(db)), replayed: false };
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`idem:${orgId}:${scope}:${key}`}, 0))`);
    const [existing] = await tx
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new AppError("conflict", "This Idempotency-Key was already used with a different request body.", [{ path: "Idempotency-Key", message: "reused with a different body" }]);
      }
      return { status: existing.responseStatus, body: existing.responseBody, replayed: true };
    }
    const result = await fn(tx);
    await tx.insert(idempotencyKeys).values({ orgId, scope, key, requestHash, responseStatus: result.status, responseBody: result.body as object });
    return { ...result, replayed: false };
  });
}
