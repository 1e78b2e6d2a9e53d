import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { orgIdColumn, users } from "./identity";

export const ACTOR_TYPES = ["user", "api_key", "inbound_source", "connector", "import", "workflow", "system"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const SOURCES = ["ui", "api", "lead_capture", "inbound", "connector", "import", "system"] as const;
export type Source = (typeof SOURCES)[number];

/**
 * Append-only: the app inserts audit rows and never updates or deletes one. A trigger
 * (migration 0006) refuses UPDATE always and DELETE of a row younger than its org's retention,
 * so no code path — nor a mistaken query — can rewrite history. Deleting the organization
 * itself takes its log with it.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    actorType: text("actor_type", { enum: ACTOR_TYPES }).notNull(),
    actorId: text("actor_id"),
    actorLabel: text("actor_label"),
    source: text("source", { enum: SOURCES }).notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    before: jsonb("before").$type<Record<string, unknown> | null>(),
    after: jsonb("after").$type<Record<string, unknown> | null>(),
    ...createdAt,
  },
  (t) => [index("audit_log_org_created_idx").on(t.orgId, t.createdAt), index("audit_log_org_target_idx").on(t.orgId, t.targetType, t.targetId)],
);

/**
 * Every API request made with a valid key: who, what, how it ended, how long it took. Buffered in
 * memory and written in batches (lib/audit/request-log.ts), never on the request's critical
 * path. Append-only like the audit log, kept for the org's request-log retention.
 */
export const apiRequests = pgTable(
  "api_requests",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    keyId: text("key_id"),
    keyPrefix: text("key_prefix"),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    durationMs: integer("duration_ms").notNull(),
    ip: text("ip"),
    ...createdAt,
  },
  (t) => [index("api_requests_org_created_idx").on(t.orgId, t.createdAt)],
);

export const notifications = pgTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    body: text("body"),
    link: text("link"),
    readAt: timestamp("read_at", { withTimezone: true, mode: "date" }),
    /** How many events it stands for: lead notifications within a minute merge into one ("12 new leads"). */
    count: integer("count").notNull().default(1),
    ...createdAt,
  },
  (t) => [index("notifications_user_org_idx").on(t.userId, t.orgId, t.createdAt), index("notifications_created_idx").on(t.createdAt)],
);

export type AuditEntry = typeof auditLog.$inferSelect;
export type ApiRequestEntry = typeof apiRequests.$inferSelect;
export type Notification = typeof notifications.$inferSelect;
