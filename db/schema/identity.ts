import { sql } from "drizzle-orm";
import { bigint, integer, pgTable, primaryKey, smallint, text, uniqueIndex, index } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

export const PLAN_IDS = ["starter", "pro", "business"] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const organizations = pgTable(
  "organizations",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    plan: text("plan", { enum: PLAN_IDS }).notNull().default("starter"),
    /** Operator override of the plan's requests per minute (`smarfle org:set-limit`). */
    rateLimitRpm: integer("rate_limit_rpm"),
    /**
     * Records counted exactly, under the org row's lock: used while the org is near its plan's
     * limit. Far from it, writers add to a random shard of `org_record_counters` instead, so
     * concurrent writes do not queue on this row. The total is this plus the shards.
     */
    recordCount: integer("record_count").notNull().default(0),
    /** Lead capture: origins allowed to post from a browser (empty: any), and where a form may be sent afterwards. */
    leadAllowedOrigins: text("lead_allowed_origins").array().notNull().default(sql`'{}'::text[]`),
    leadRedirectUrls: text("lead_redirect_urls").array().notNull().default(sql`'{}'::text[]`),
    /** How long audit entries (changes) and API request log entries are kept, in days. */
    auditRetentionDays: integer("audit_retention_days").notNull().default(90),
    requestLogRetentionDays: integer("request_log_retention_days").notNull().default(30),
    ...timestamps,
  },
  (t) => [uniqueIndex("organizations_slug_key").on(t.slug)],
);

export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

export const memberships = pgTable(
  "memberships",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ROLES }).notNull().default("member"),
    ...createdAt,
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index("memberships_user_idx").on(t.userId)],
);

/** Every org-scoped table cascades with its organization. */
export const orgIdColumn = () =>
  text("org_id")
    .notNull()
    .references(() => organizations.id, { onDelete: "cascade" });

export const orgRecordCounters = pgTable(
  "org_record_counters",
  {
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    shard: smallint("shard").notNull(),
    count: bigint("count", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.shard] })],
);

export type User = typeof users.$inferSelect;
export type Organization = typeof organizations.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
