import "server-only";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { users } from "@/db/schema";

/**
 * Every session carries the user's session version from when it was issued. A password change or
 * reset, "sign out everywhere" and removal from an organization bump it; the session check on
 * every request (lib/auth/next-auth.ts) then ends every older session at once.
 */
export async function currentSessionVersion(db: Executor, userId: string): Promise<number | null> {
  const [row] = await db.select({ v: users.sessionVersion }).from(users).where(eq(users.id, userId)).limit(1);
  return row?.v ?? null;
}

export async function bumpSessionVersion(db: Executor, userId: string): Promise<number> {
  const [row] = await db
    .update(users)
    .set({ sessionVersion: sql`${users.sessionVersion} + 1`, updatedAt: new Date() })
    .where(eq(users.id, userId))
    .returning({ v: users.sessionVersion });
  return row?.v ?? 0;
}
