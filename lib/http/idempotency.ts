import "server-only";
import { createHash, randomUUID, type Hash } from "node:crypto";
import { and, eq, isNull, not, or, sql } from "drizzle-orm";
import { idempotencyKeys } from "@/db/schema";
import type { Db, Executor } from "@/db/client";
import { AppError } from "@/lib/errors";
import { decrypt, encrypt } from "@/lib/crypto/encryption";
import { pathOf } from "./access-log";

/**
 * `Idempotency-Key`: a retry of a request gets the first request's answer instead of doing the
 * work twice. Keys are scoped per organization (any of its API keys may retry a request, say
 * after a key rotation), kept 24 hours, and at most 255 characters. The request they were first
 * used with — method, path and body — is remembered as a digest: the same key with another
 * request is refused (`409 idempotency_key_reused`). Only successful answers are kept, so a
 * corrected retry of a refused request can succeed.
 */

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
/** A request holding a key longer than this is taken to have died; a retry may run again. */
const CLAIM_LEASE_MINUTES = 10;
/** A replayed request is read this far to compare its digest (beyond an upload's largest file). */
const MAX_DIGESTED_BYTES = 128 * 1024 * 1024;
/** The header that marks a replayed answer. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * Answers are kept encrypted under the organization's key: some carry a secret shown once (a new
 * endpoint's or inbound source's signing secret) or a lead's personal data.
 */
const COLUMN = "idempotency_keys.response_body";
const seal = (orgId: string, body: unknown) => ({ sealed: encrypt(JSON.stringify(body ?? null), { orgId, column: COLUMN }) });
function unseal(orgId: string, stored: unknown): unknown {
  const sealed = (stored as { sealed?: unknown } | null)?.sealed;
  return typeof sealed === "string" ? JSON.parse(decrypt(sealed, { orgId, column: COLUMN })) : stored;
}

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

const reused = () =>
  new AppError("idempotency_key_reused", "This Idempotency-Key was already used with a different request.", [
    { path: "Idempotency-Key", message: "reused with a different method, path or body" },
  ]);

const expired = sql`${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS}::int)`;
const abandoned = and(isNull(idempotencyKeys.responseStatus), sql`${idempotencyKeys.createdAt} <= now() - make_interval(mins => ${CLAIM_LEASE_MINUTES}::int)`);
const KEY_COLUMNS = [idempotencyKeys.orgId, idempotencyKeys.scope, idempotencyKeys.key];

/**
 * Lead capture's form: runs `fn` once per (org, scope, key), its answer stored in the same
 * transaction as its write. A retry — even one arriving while the first is still being processed
 * — waits on a transaction-scoped advisory lock and gets the first answer.
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
    const match = and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key));
    const [existing] = await tx
      .select()
      .from(idempotencyKeys)
      .where(and(match, not(expired)));
    if (existing && existing.responseStatus !== null) {
      if (existing.requestHash !== requestHash) throw reused();
      return { status: existing.responseStatus, body: unseal(orgId, existing.responseBody), replayed: true };
    }
    const result = await fn(tx);
    const answer = { requestHash, responseStatus: result.status, responseBody: seal(orgId, result.body) };
    // An expired answer under the same key gives way to this one.
    await tx
      .insert(idempotencyKeys)
      .values({ orgId, scope, key, ...answer })
      .onConflictDoUpdate({ target: KEY_COLUMNS, set: { ...answer, createdAt: sql`now()` } });
    return { ...result, replayed: false };
  });
}

/** The answer of an API route: a JSON body with its status (what the API gate sends). */
export interface JsonAnswer {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * The API's POST routes: `run` once per (org, key). The first request claims the key (a row with
 * no answer yet), runs, and stores its answer with the digest of what it read; a retry gets that
 * answer with `Idempotent-Replayed: true`, and one arriving while the first still runs is
 * refused with `409 idempotency_key_in_use` (retry after a second). The claim, not a transaction,
 * spans the work, so a handler keeps its own transactions and a long upload holds no connection.
 */
export async function idempotentAnswer<T extends JsonAnswer | Response>(
  db: Db,
  orgId: string,
  req: Request,
  run: (req: Request) => Promise<T>,
): Promise<T | JsonAnswer> {
  const key = parseIdempotencyKey(req);
  if (key === null) return run(req);
  const match = and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.scope, "api"), eq(idempotencyKeys.key, key));
  // Claimed when new, expired, or abandoned by a request that never finished.
  // Until its answer is stored, the claim's request_hash holds a token naming this request.
  const token = `claim:${randomUUID()}`;
  const [claim] = await db
    .insert(idempotencyKeys)
    .values({ orgId, scope: "api", key, requestHash: token })
    .onConflictDoUpdate({
      target: KEY_COLUMNS,
      set: { createdAt: sql`now()`, requestHash: token, responseStatus: null, responseBody: null },
      setWhere: or(expired, abandoned),
    })
    .returning({ key: idempotencyKeys.key });
  if (!claim) return replay(db, orgId, match, req);

  const mine = and(match, eq(idempotencyKeys.requestHash, token));
  const digesting = digestingRequest(req);
  try {
    const result = await run(digesting.request);
    const status = result instanceof Response ? result.status : (result.status ?? 200);
    if (result instanceof Response || status >= 300) {
      await db.delete(idempotencyKeys).where(mine);
      return result;
    }
    await db
      .update(idempotencyKeys)
      .set({ requestHash: await digesting.digest(), responseStatus: status, responseBody: seal(orgId, result.body) })
      .where(mine);
    return result;
  } catch (err) {
    await db
      .delete(idempotencyKeys)
      .where(mine)
      .catch(() => {});
    throw err;
  }
}

async function replay(db: Db, orgId: string, match: ReturnType<typeof and>, req: Request): Promise<JsonAnswer> {
  const [first] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(match, not(expired)));
  if (!first || first.responseStatus === null) {
    throw new AppError(
      "idempotency_key_in_use",
      "A request with this Idempotency-Key is still being processed. Retry it in a moment to get its answer.",
      [],
      1,
    );
  }
  const digesting = digestingRequest(req);
  if ((await digesting.digest()) !== first.requestHash) throw reused();
  return { status: first.responseStatus, body: unseal(orgId, first.responseBody), headers: { [REPLAYED_HEADER]: "true" } };
}

/**
 * The request as its handler reads it, digesting method, path and body on the way through (no
 * copy is kept); `digest()` reads whatever the handler left unread, up to a bound.
 */
function digestingRequest(req: Request): { request: Request; digest: () => Promise<string> } {
  const hash: Hash = createHash("sha256").update(`${req.method} ${pathOf(req.url)}\n`);
  if (!req.body) return { request: req, digest: async () => hash.digest("hex") };
  const body = req.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  const request = new Request(req, { body, duplex: "half" } as RequestInit);
  return {
    request,
    async digest() {
      if (!request.bodyUsed && request.body) {
        const reader = request.body.getReader();
        for (let read = 0; read <= MAX_DIGESTED_BYTES;) {
          const { done, value } = await reader.read();
          if (done) break;
          read += value.byteLength;
        }
        await reader.cancel().catch(() => {});
      }
      return hash.digest("hex");
    },
  };
}
