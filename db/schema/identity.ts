import { sql } from "drizzle-orm";
import { bigint, boolean, integer, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, index } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    /** Set when the owner of the address opened the verification link (or an operator created the user). */
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true, mode: "date" }),
    /**
     * Every session carries the version it was issued under; a password change or reset, "sign out
     * everywhere" and removal from an org bump it, and every request compares.
     */
    sessionVersion: integer("session_version").notNull().default(1),
    /** Failed sign-ins in the current 15-minute window (lib/auth/sign-in.ts), and the lock-out they caused. */
    failedSignIns: integer("failed_sign_ins").notNull().default(0),
    failedSignInsSince: timestamp("failed_sign_ins_since", { withTimezone: true, mode: "date" }),
    signInLockedUntil: timestamp("sign_in_locked_until", { withTimezone: true, mode: "date" }),
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
    leadAllowedOrigins: text("lead_allowed_origins")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    leadRedirectUrls: text("lead_redirect_urls")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** A lead whose email or phone matches a client attaches to that client instead of creating one. */
    leadMerge: boolean("lead_merge").notNull().default(true),
    /** ISO 3166 country (e.g. `GB`) for phone numbers written without an international prefix. */
    defaultCountry: text("default_country"),
    /** How long audit entries (changes) and API request log entries are kept, in days. */
    auditRetentionDays: integer("audit_retention_days").notNull().default(90),
    requestLogRetentionDays: integer("request_log_retention_days").notNull().default(30),
    /** How long webhook events and their deliveries are kept (7–90 days): the events feed reaches this far back. */
    eventRetentionDays: integer("event_retention_days").notNull().default(30),
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

export const AUTH_TOKEN_PURPOSES = ["verify_email", "reset_password"] as const;
export type AuthTokenPurpose = (typeof AUTH_TOKEN_PURPOSES)[number];

/** Single-use links sent by email. Only the SHA-256 of the token is stored. */
export const authTokens = pgTable(
  "auth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    purpose: text("purpose", { enum: AUTH_TOKEN_PURPOSES }).notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The address the link was sent to: verifying proves this one. */
    email: text("email").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    ...createdAt,
  },
  (t) => [index("auth_tokens_user_idx").on(t.userId)],
);

/** An invitation to join an org with a role, accepted by whoever proves they own `email`. */
export const invitations = pgTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    invitedByUserId: text("invited_by_user_id").references(() => users.id, { onDelete: "set null" }),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("invitations_token_key").on(t.tokenHash),
    // One open invitation per address and org; resending replaces its token.
    uniqueIndex("invitations_open_key")
      .on(t.orgId, sql`lower(${t.email})`)
      .where(sql`${t.acceptedAt} is null and ${t.revokedAt} is null`),
  ],
);

export type User = typeof users.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type Organization = typeof organizations.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
