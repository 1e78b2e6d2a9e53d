import { index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { orgIdColumn } from "./identity";

/**
 * The first answer to a request carrying an Idempotency-Key, replayed for its retries for 24 hours.
 * A row without a response is a request still running (its claim; lib/http/idempotency.ts).
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    orgId: orgIdColumn(),
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the request (method, path and body): a reused key with another request is refused. */
    requestHash: text("request_hash"),
    responseStatus: integer("response_status"),
    responseBody: jsonb("response_body"),
    ...createdAt,
  },
  (t) => [primaryKey({ columns: [t.orgId, t.scope, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);
