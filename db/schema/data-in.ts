import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";
import { orgIdColumn, users } from "./identity";

/** Where external data comes in: inbound webhooks, pull connectors and file imports. */

export const INBOUND_KINDS = [
  "hmac_sha256_hex",
  "shopify",
  "standard_webhooks",
  "google_ads_leads",
  "meta_lead_ads",
  "stripe",
  "github",
  "typeform",
  "calendly",
  "basic_auth",
  "header_secret",
] as const;
export type InboundKind = (typeof INBOUND_KINDS)[number];

export const inboundSources = pgTable(
  "inbound_sources",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    name: text("name").notNull(),
    kind: text("kind", { enum: INBOUND_KINDS }).notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** Meta Lead Ads: the page access token (encrypted) and the token Meta's handshake echoes back. */
    accessTokenCiphertext: text("access_token_ciphertext"),
    verifyToken: text("verify_token"),
    mapping: jsonb("mapping").$type<Record<string, unknown>>().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    ...timestamps,
  },
  (t) => [index("inbound_sources_org_idx").on(t.orgId)],
);

/** Every request an inbound source received, verified or not, with what it did. */
export const inboundRequests = pgTable(
  "inbound_requests",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    sourceId: text("source_id")
      .notNull()
      .references(() => inboundSources.id, { onDelete: "cascade" }),
    verified: boolean("verified").notNull(),
    /** rejected: the signature failed (the body is kept to 4 KB); duplicate: a delivery already received. */
    status: text("status", { enum: ["processed", "failed", "rejected", "duplicate"] }).notNull(),
    httpStatus: integer("http_status").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    body: text("body").notNull(),
    recordId: text("record_id"),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    error: text("error"),
    reprocessedAt: timestamp("reprocessed_at", { withTimezone: true, mode: "date" }),
    ...createdAt,
  },
  // The second serves retention, which works per organization.
  (t) => [index("inbound_requests_source_idx").on(t.sourceId, t.createdAt), index("inbound_requests_org_created_idx").on(t.orgId, t.createdAt)],
);

/**
 * The provider's delivery ids an inbound source has accepted (`webhook-id`, `X-Shopify-Webhook-Id`,
 * or a SHA-256 of the body for the generic kind): a repeat within the retention window is a replay.
 */
export const inboundDeliveries = pgTable(
  "inbound_deliveries",
  {
    sourceId: text("source_id")
      .notNull()
      .references(() => inboundSources.id, { onDelete: "cascade" }),
    deliveryId: text("delivery_id").notNull(),
    ...createdAt,
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.deliveryId] }), index("inbound_deliveries_created_idx").on(t.createdAt)],
);

export const connectors = pgTable(
  "connectors",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** Request headers (credentials) as encrypted JSON. */
    headersCiphertext: text("headers_ciphertext"),
    intervalMinutes: integer("interval_minutes").notNull(),
    recordsPath: text("records_path"),
    pagination: jsonb("pagination").$type<Record<string, unknown>>().notNull(),
    mapping: jsonb("mapping").$type<Record<string, unknown>>().notNull(),
    /** What the next run starts from (a cursor or the highest updated_since value seen). */
    cursor: text("cursor"),
    status: text("status", { enum: ["active", "paused"] })
      .notNull()
      .default("active"),
    pausedReason: text("paused_reason"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    nextRunAt: timestamp("next_run_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastRunAt: timestamp("last_run_at", { withTimezone: true, mode: "date" }),
    lockedUntil: timestamp("locked_until", { withTimezone: true, mode: "date" }),
    ...timestamps,
  },
  (t) => [index("connectors_org_idx").on(t.orgId), index("connectors_due_idx").on(t.nextRunAt)],
);

export const connectorRuns = pgTable(
  "connector_runs",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    connectorId: text("connector_id")
      .notNull()
      .references(() => connectors.id, { onDelete: "cascade" }),
    /** queued: waiting for a slot (its organization's and the server's); running: under a lease. */
    status: text("status", { enum: ["queued", "running", "succeeded", "failed"] }).notNull(),
    trigger: text("trigger", { enum: ["schedule", "manual"] }).notNull(),
    /** When it was queued, then when it started. */
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull(),
    /** A running run past its lease was interrupted (its server stopped) and is failed by the next sweep. */
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    durationMs: integer("duration_ms"),
    pages: integer("pages").notNull().default(0),
    fetched: integer("fetched").notNull().default(0),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    error: text("error"),
    cursorBefore: text("cursor_before"),
    cursorAfter: text("cursor_after"),
  },
  (t) => [
    index("connector_runs_connector_idx").on(t.connectorId, t.startedAt),
    index("connector_runs_started_idx").on(t.startedAt),
    // A connector never has two runs queued or running at once, whichever server claims them.
    uniqueIndex("connector_runs_one_active_idx")
      .on(t.connectorId)
      .where(sql`${t.status} in ('queued', 'running')`),
    index("connector_runs_active_idx")
      .on(t.status, t.orgId)
      .where(sql`${t.status} in ('queued', 'running')`),
  ],
);

export const imports = pgTable(
  "imports",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    recordType: text("record_type").notNull(),
    filename: text("filename").notNull(),
    format: text("format", { enum: ["csv", "xlsx"] }).notNull(),
    mapping: jsonb("mapping").$type<Record<string, unknown>>(),
    /** draft: uploaded in settings, being mapped; pending: waiting to start; then running, completed or failed. */
    status: text("status", { enum: ["draft", "pending", "running", "completed", "failed", "undoing", "undone"] })
      .notNull()
      .default("pending"),
    /** Which field finds an existing record (`external_id`, `email`, `phone`), and what a match does. */
    matchOn: text("match_on", { enum: ["external_id", "email", "phone"] }),
    onMatch: text("on_match", { enum: ["update", "skip", "create"] }),
    /** What an undo reverted and what it could not (changed since). */
    undoReport: jsonb("undo_report").$type<Record<string, unknown>>(),
    total: integer("total").notNull().default(0),
    processed: integer("processed").notNull().default(0),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    /** Rows that matched an existing record under the `skip` policy. */
    skipped: integer("skipped").notNull().default(0),
    error: text("error"),
    /** The error code of a failed import (`import_file_rejected` when the file broke a limit). */
    errorCode: text("error_code"),
    /** How many times a run of this import started: one interrupted twice is failed, not resumed. */
    attempts: integer("attempts").notNull().default(0),
    /** Refreshed while a server runs the import: a running import without a fresh one was interrupted. */
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }),
    /** The uploaded file's size, counted against the organization's cap on waiting uploads. */
    sizeBytes: integer("size_bytes").notNull().default(0),
    /** The admin said the new clients are leads: they count as leads captured and notify the team. */
    countsAsLeads: boolean("counts_as_leads").notNull().default(false),
    createdByUserId: text("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdByKeyId: text("created_by_key_id"),
    ...createdAt,
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("imports_org_idx").on(t.orgId, t.createdAt),
    // One running import per organization, whichever server runs it.
    uniqueIndex("imports_one_running_idx")
      .on(t.orgId)
      .where(sql`${t.status} = 'running'`),
    index("imports_status_idx").on(t.status, t.createdAt),
  ],
);

export const importErrors = pgTable(
  "import_errors",
  {
    importId: text("import_id")
      .notNull()
      .references(() => imports.id, { onDelete: "cascade" }),
    line: integer("line").notNull(),
    reason: text("reason").notNull(),
    /** The row as [column, value] pairs: jsonb keeps array order, so the download keeps the file's column order. */
    row: jsonb("row").$type<[string, unknown][]>(),
  },
  (t) => [index("import_errors_import_idx").on(t.importId, t.line)],
);

export type InboundSource = typeof inboundSources.$inferSelect;
export type Connector = typeof connectors.$inferSelect;
export type ImportJob = typeof imports.$inferSelect;

/**
 * Meta Lead Ads notifications accepted but whose lead is still to be fetched from the Graph API:
 * a durable queue, retried with backoff, one row per lead (a repeated notification is dropped).
 */
export const metaLeadFetches = pgTable(
  "meta_lead_fetches",
  {
    id: text("id").primaryKey(),
    orgId: orgIdColumn(),
    sourceId: text("source_id")
      .notNull()
      .references(() => inboundSources.id, { onDelete: "cascade" }),
    leadgenId: text("leadgen_id").notNull(),
    /** The notification's change value (form, page, ad ids), kept beside the fetched fields. */
    notification: jsonb("notification").$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["pending", "done", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lockedUntil: timestamp("locked_until", { withTimezone: true, mode: "date" }),
    lastError: text("last_error"),
    clientId: text("client_id"),
    ...createdAt,
  },
  (t) => [
    uniqueIndex("meta_lead_fetches_lead_key").on(t.sourceId, t.leadgenId),
    index("meta_lead_fetches_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index("meta_lead_fetches_org_pending_idx")
      .on(t.orgId)
      .where(sql`${t.status} = 'pending'`),
  ],
);
