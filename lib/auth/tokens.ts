import "server-only";
import { createHash } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { authTokens, type AuthTokenPurpose } from "@/db/schema";
import { randomBase62 } from "@/lib/ids";

/** How long each kind of emailed link works. */
export const TOKEN_TTL_SECONDS: Record<AuthTokenPurpose | "invitation", number> = {
  verify_email: 24 * 3600,
  reset_password: 3600,
  invitation: 7 * 24 * 3600,
};

/** Links carry 43 base62 characters (~256 bits); only their SHA-256 is stored. */
export function newLinkToken(): { token: string; hash: string } {
  const token = randomBase62(43);
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export async function issueAuthToken(db: Executor, input: { purpose: AuthTokenPurpose; userId: string; email: string }): Promise<string> {
  const { token, hash } = newLinkToken();
  await db.insert(authTokens).values({
    tokenHash: hash,
    purpose: input.purpose,
    userId: input.userId,
    email: input.email,
    expiresAt: new Date(Date.now() + TOKEN_TTL_SECONDS[input.purpose] * 1000),
  });
  return token;
}

/** Uses a link once: the row comes back only if the token was unused and unexpired, and is then used. */
export async function consumeAuthToken(db: Executor, purpose: AuthTokenPurpose, token: string) {
  if (!/^[0-9A-Za-z]{43}$/.test(token)) return null;
  const [row] = await db
    .update(authTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(authTokens.tokenHash, hashToken(token)), eq(authTokens.purpose, purpose), isNull(authTokens.usedAt), gt(authTokens.expiresAt, new Date())))
    .returning();
  return row ?? null;
}
