import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { orgIdColumn, users } from "./identity";

export const ACTOR_TYPES = ["user", "api_key", "inbound_source", "connector", "import", "system"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const SOURCES = ["ui", "api", "lead_capture", "inbound", "connector", "import", "system"] as const;
export type Source = (typeof SOURCES)[number];

/** Append-only: the app inserts audit rows and never updates or deletes one (retention aside). */
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
  (t) => [
    index("audit_log_org_created_idx").on(t.orgId, t.createdAt),
    index("audit_log_org_target_idx").on(t.orgId, t.targetType, t.targetId),
  ],
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
    ...createdAt,
  },
  (t) => [index("notifications_user_org_idx").on(t.userId, t.orgId, t.createdAt)],
);

export type AuditEntry = typeof auditLog.$inferSelect;
export type Notification = typeof notifications.$inferSelect;
