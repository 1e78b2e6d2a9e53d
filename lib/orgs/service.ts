import "server-only";
import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { memberships, organizations, users, PLAN_IDS, ROLES, type Organization, type PlanId, type Role, type User } from "@/db/schema";
import type { Executor } from "@/db/client";
import { AppError, zodDetails } from "@/lib/errors";
import { newId, randomBase62 } from "@/lib/ids";
import { rowsOf } from "@/lib/db-utils";
import { hashPassword } from "@/lib/auth/password";
import { writeAudit, type ChangeContext } from "@/lib/audit/write";
import { credentialsChanged } from "@/lib/api-keys/verify";

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email("must be a valid email address"));
export const passwordSchema = z.string().min(10, "must be at least 10 characters").max(200, "must be at most 200 characters");
export const orgNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
export const planSchema = z.enum(PLAN_IDS, { message: `must be one of: ${PLAN_IDS.join(", ")}` });
export const roleSchema = z.enum(ROLES, { message: `must be one of: ${ROLES.join(", ")}` });

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError("validation_failed", `Invalid ${path}.`, zodDetails(r.error.issues, path));
  return r.data;
}

export function slugify(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return base || "org";
}

export async function createOrganization(db: Executor, input: { name: string; plan?: PlanId; slug?: string }): Promise<Organization> {
  const name = parse(orgNameSchema, input.name, "name");
  const plan = parse(planSchema, input.plan ?? "starter", "plan");
  const base = input.slug ? slugify(input.slug) : slugify(name);
  for (let attempt = 0; attempt < 5; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${randomBase62(4).toLowerCase()}`;
    const [org] = await db
      .insert(organizations)
      .values({ id: newId("org"), slug, name, plan })
      .onConflictDoNothing({ target: organizations.slug })
      .returning();
    if (org) return org;
  }
  throw new AppError("conflict", "Could not find a free slug for this organization.");
}

export async function createUser(db: Executor, input: { email: string; password: string; name?: string; verified?: boolean }): Promise<User> {
  const email = parse(emailSchema, input.email, "email");
  const password = parse(passwordSchema, input.password, "password");
  const name = (input.name ?? "").trim().slice(0, 100) || email.split("@")[0]!;
  const passwordHash = await hashPassword(password);
  const [user] = await db
    .insert(users)
    .values({ id: newId("usr"), email, name, passwordHash, emailVerifiedAt: input.verified ? new Date() : null })
    .onConflictDoNothing()
    .returning();
  if (!user) throw new AppError("conflict", "A user with this email already exists.", [{ path: "email", message: "already registered" }]);
  return user;
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.trim().toLowerCase()}`)
    .limit(1);
  return user;
}

export async function findOrg(db: Executor, idOrSlug: string): Promise<Organization | undefined> {
  const [org] = await db
    .select()
    .from(organizations)
    .where(idOrSlug.startsWith("org_") ? eq(organizations.id, idOrSlug) : eq(organizations.slug, idOrSlug))
    .limit(1);
  return org;
}

export async function requireOrg(db: Executor, idOrSlug: string): Promise<Organization> {
  const org = await findOrg(db, idOrSlug);
  if (!org) throw new AppError("not_found", `No organization "${idOrSlug}".`);
  return org;
}

export interface MembershipView {
  org: Organization;
  role: Role;
}

export interface MemberOfOrg extends MembershipView {
  email: string;
}

/** The caller's role in an org, or undefined: the basis of every tenancy check in the app. */
export async function getMembership(db: Executor, userId: string, orgIdOrSlug: string): Promise<MemberOfOrg | undefined> {
  const [row] = await db
    .select({ org: organizations, role: memberships.role, email: users.email })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.userId, userId), orgIdOrSlug.startsWith("org_") ? eq(organizations.id, orgIdOrSlug) : eq(organizations.slug, orgIdOrSlug)))
    .limit(1);
  return row;
}

export async function listUserOrgs(db: Executor, userId: string): Promise<MembershipView[]> {
  return db
    .select({ org: organizations, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(organizations.name));
}

export async function listMembers(db: Executor, orgId: string) {
  return db
    .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role, createdAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.orgId, orgId))
    .orderBy(asc(memberships.createdAt));
}

export const ROLE_RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

export function hasRole(role: Role, atLeast: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[atLeast];
}

/** Refuses changes that would leave an organization without an owner. */
async function assertOwnerRemains(tx: Executor, orgId: string, userId: string) {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, "owner"), sql`${memberships.userId} <> ${userId}`));
  if ((r?.n ?? 0) === 0) throw new AppError("conflict", "An organization needs at least one owner.");
}

/**
 * Locks the org row (so two demotions cannot both pass the "one owner left" check) and returns
 * the member.
 */
async function lockMember(tx: Executor, orgId: string, userId: string) {
  await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, orgId)).for("update");
  const [current] = await tx
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)));
  if (!current) throw new AppError("not_found", "No such member.");
  return current;
}

/** Renames the organization; its slug (in every URL) stays as it is. */
export async function renameOrganization(db: Executor, ctx: ChangeContext, name: unknown): Promise<Organization> {
  const next = parse(orgNameSchema, name, "name");
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, ctx.orgId)).for("update");
    if (!before) throw new AppError("not_found", "Organization not found.");
    const [row] = await tx.update(organizations).set({ name: next, updatedAt: new Date() }).where(eq(organizations.id, ctx.orgId)).returning();
    if (before.name !== next)
      await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
        { action: "organization.renamed", targetType: "organization", targetId: ctx.orgId, before: { name: before.name }, after: { name: next } },
      ]);
    return row!;
  });
}

export async function changeMemberRole(db: Executor, ctx: ChangeContext, input: { userId: string; role: Role }) {
  const role = parse(roleSchema, input.role, "role");
  return db.transaction(async (tx) => {
    const current = await lockMember(tx, ctx.orgId, input.userId);
    if (current.role === role) return current;
    if (current.role === "owner") await assertOwnerRemains(tx, ctx.orgId, input.userId);
    const [row] = await tx
      .update(memberships)
      .set({ role })
      .where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, input.userId)))
      .returning();
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "member.role_changed", targetType: "member", targetId: input.userId, before: { role: current.role }, after: { role } },
    ]);
    return row!;
  });
}

export async function removeMember(db: Executor, ctx: ChangeContext, input: { userId: string }) {
  return db.transaction(async (tx) => {
    const current = await lockMember(tx, ctx.orgId, input.userId);
    if (current.role === "owner") await assertOwnerRemains(tx, ctx.orgId, input.userId);
    await tx.delete(memberships).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, input.userId)));
    // Their open sessions end on their next request, whatever page they have open.
    await tx
      .update(users)
      .set({ sessionVersion: sql`${users.sessionVersion} + 1` })
      .where(eq(users.id, input.userId));
    await writeAudit(tx, ctx.orgId, ctx.actor, ctx.source, [
      { action: "member.removed", targetType: "member", targetId: input.userId, before: { role: current.role } },
    ]);
  });
}

/** Sign-up: a user and their first organization, with them as owner, in one transaction. */
export async function signUp(db: Executor, input: { email: string; password: string; name?: string; orgName: string }) {
  const orgName = parse(orgNameSchema, input.orgName, "org_name");
  return db.transaction(async (tx) => {
    const user = await createUser(tx, input);
    const org = await createOrganization(tx, { name: orgName });
    await tx.insert(memberships).values({ orgId: org.id, userId: user.id, role: "owner" });
    await writeAudit(tx, org.id, { type: "user", id: user.id, label: user.email }, "ui", [
      { action: "organization.created", targetType: "organization", targetId: org.id, after: { name: org.name, plan: org.plan } },
    ]);
    return { user, org };
  });
}

export async function setOrgRateLimit(db: Executor, orgIdOrSlug: string, rpm: number | null): Promise<Organization> {
  if (rpm !== null && (!Number.isInteger(rpm) || rpm < 1 || rpm > 1_000_000)) {
    throw new AppError("validation_failed", "Invalid rate limit.", [{ path: "rpm", message: "must be a whole number from 1 to 1000000" }]);
  }
  const updated = await db.transaction(async (tx) => {
    const org = await requireOrg(tx, orgIdOrSlug);
    const [updated] = await tx.update(organizations).set({ rateLimitRpm: rpm, updatedAt: new Date() }).where(eq(organizations.id, org.id)).returning();
    await writeAudit(tx, org.id, { type: "system", id: null, label: "operator" }, "system", [
      {
        action: "organization.rate_limit_changed",
        targetType: "organization",
        targetId: org.id,
        before: { rate_limit_rpm: org.rateLimitRpm },
        after: { rate_limit_rpm: rpm },
      },
    ]);
    return updated!;
  });
  credentialsChanged(updated.id);
  return updated;
}

/** How many records an org has, for display (the pipeline keeps the counters). */
export async function recordTotal(db: Executor, orgId: string): Promise<number> {
  const [r] = await db
    .select({
      total: sql<number>`(${organizations.recordCount} + coalesce((select sum(c.count) from org_record_counters c where c.org_id = ${organizations.id}), 0))::int`,
    })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return Number(r?.total ?? 0);
}

/** What an org uses of each plan limit, counted the way each limit is enforced. */
export interface PlanUsage {
  records: number;
  apiKeys: number;
  webhookEndpoints: number;
  members: number;
  inboundSources: number;
  connectors: number;
  workflowRules: number;
}

export async function planUsage(db: Executor, orgId: string): Promise<PlanUsage> {
  const [r] = rowsOf<Record<"records" | "api_keys" | "endpoints" | "members" | "sources" | "connectors" | "rules", number>>(
    await db.execute(sql`
      select
        (o.record_count + coalesce((select sum(c.count) from org_record_counters c where c.org_id = o.id), 0))::int as records,
        (select count(*) from api_keys k where k.org_id = o.id and k.revoked_at is null and (k.expires_at is null or k.expires_at > now()))::int as api_keys,
        (select count(*) from webhook_endpoints e where e.org_id = o.id)::int as endpoints,
        (select count(*) from memberships m where m.org_id = o.id)::int as members,
        (select count(*) from inbound_sources s where s.org_id = o.id)::int as sources,
        (select count(*) from connectors c where c.org_id = o.id)::int as connectors,
        (select count(*) from workflow_rules w where w.org_id = o.id)::int as rules
      from organizations o where o.id = ${orgId}`),
  );
  return {
    records: Number(r?.records ?? 0),
    apiKeys: Number(r?.api_keys ?? 0),
    webhookEndpoints: Number(r?.endpoints ?? 0),
    members: Number(r?.members ?? 0),
    inboundSources: Number(r?.sources ?? 0),
    connectors: Number(r?.connectors ?? 0),
    workflowRules: Number(r?.rules ?? 0),
  };
}
