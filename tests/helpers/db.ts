import { randomBytes } from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import { setDbHandle, type Db, type DbHandle, type OpenOptions } from "@/db/client";
import { openPglite } from "@/db/drivers/pglite";
import { openPostgres } from "@/db/drivers/postgres";
import { migrateDb } from "@/db/migrate";
import { memberships, organizations, users, type PlanId, type Role } from "@/db/schema";
import { createOrganization } from "@/lib/orgs/service";
import { newId } from "@/lib/ids";
import { flushUsage } from "@/lib/api-keys/usage";
import { flushRequestLog } from "@/lib/audit/request-log";
import type { WriteContext } from "@/lib/records/pipeline";

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** A database for one test file: real PostgreSQL when DATABASE_URL is set, else in-memory PGlite. */
export async function openTestDb(options: OpenOptions = {}): Promise<DbHandle> {
  const url = process.env.DATABASE_URL;
  if (url) return openPostgres(url, { max: 5, ...options });
  const handle = await openPglite(undefined, options);
  await migrateDb(handle);
  return handle;
}

/** Opens the file's database and installs it as the app's handle (what getDb() returns). */
export async function useTestDb(options: OpenOptions = {}): Promise<DbHandle> {
  const handle = await openTestDb(options);
  setDbHandle(handle);
  return handle;
}

export const uniq = (label = "t") => `${label}-${randomBytes(5).toString("hex")}`;

export interface TestOrg {
  org: typeof organizations.$inferSelect;
  users: Record<Role, { id: string; email: string }>;
  ctx: WriteContext;
}

/** An org with an owner, an admin and a member. Passwords are not usable: tests that sign in make their own. */
export async function createTestOrg(db: Db, options: { plan?: PlanId; name?: string } = {}): Promise<TestOrg> {
  const org = await createOrganization(db, { name: options.name ?? uniq("Org"), plan: options.plan ?? "pro" });
  const made = {} as TestOrg["users"];
  for (const role of ["owner", "admin", "member"] as const) {
    const id = newId("usr");
    const email = `${role}-${uniq()}@example.test`;
    await db.insert(users).values({ id, email, name: role, passwordHash: "x" });
    await db.insert(memberships).values({ orgId: org.id, userId: id, role });
    made[role] = { id, email };
  }
  return { org, users: made, ctx: { orgId: org.id, actor: { type: "user", id: made.owner.id, label: made.owner.email }, source: "ui" } };
}

export async function dropTestOrgs(db: Db, orgs: TestOrg[]): Promise<void> {
  if (orgs.length === 0) return;
  // Write what this process still holds for these orgs first, so no batched flush races the
  // cascade below (they can deadlock on the same rows).
  await Promise.all([flushUsage(db), flushRequestLog(db)]);
  const userIds = orgs.flatMap((o) => Object.values(o.users).map((u) => u.id));
  await db.delete(organizations).where(
    inArray(
      organizations.id,
      orgs.map((o) => o.org.id),
    ),
  );
  if (userIds.length) await db.delete(users).where(inArray(users.id, userIds));
}

export async function setRecordCount(db: Db, orgId: string, n: number) {
  await db.update(organizations).set({ recordCount: n }).where(eq(organizations.id, orgId));
}
