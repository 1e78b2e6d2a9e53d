import { bigint, date, index, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { orgIdColumn, users } from "./identity";

export const API_SCOPES = ["read", "write", "delete", "bulk", "admin", "leads"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** API keys are stored as SHA-256 hashes only; the plaintext is shown once, at creation. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    name: text("name").notNull(),
    /** The first characters of the key, for recognising it in lists and logs (`sk_live_ab12`). */
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull(),
    scopes: text("scopes").array().$type<ApiScope[]>().notNull(),
    createdByUserId: text("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdByLabel: text("created_by_label"),
    ...createdAt,
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    /** Set on rotation: the key that replaced this one (which stays valid until expiresAt). */
    rotatedToId: text("rotated_to_id"),
  },
  (t) => [uniqueIndex("api_keys_hash_key").on(t.hash), index("api_keys_org_idx").on(t.orgId, t.createdAt)],
);

/** API calls per org and UTC day, flushed from memory in batches (no write per request). */
export const apiUsageDaily = pgTable(
  "api_usage_daily",
  {
    orgId: orgIdColumn(),
    day: date("day", { mode: "string" }).notNull(),
    calls: bigint("calls", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.day] })],
);

export type ApiKey = typeof apiKeys.$inferSelect;
