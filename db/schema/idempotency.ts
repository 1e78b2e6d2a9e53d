import { index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { orgIdColumn } from "./identity";

/** The first answer to a request carrying an Idempotency-Key, replayed for its retries. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    orgId: orgIdColumn(),
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the request body: a reused key with a different body is a conflict. */
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").notNull(),
    ...createdAt,
  },
  (t) => [primaryKey({ columns: [t.orgId, t.scope, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);
