CREATE TABLE "lead_captures" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"client_id" text NOT NULL,
	"channel" text NOT NULL,
	"created" boolean NOT NULL,
	"message" text,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meta_lead_fetches" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"source_id" text NOT NULL,
	"leadgen_id" text NOT NULL,
	"notification" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"client_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "request_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "response_status" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "response_body" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "lead_merge" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "default_country" text;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "event_retention_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "filter" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "match_on" text;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "on_match" text;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "undo_report" jsonb;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "skipped" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "counts_as_leads" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_sources" ADD COLUMN "access_token_ciphertext" text;--> statement-breakpoint
ALTER TABLE "inbound_sources" ADD COLUMN "verify_token" text;--> statement-breakpoint
ALTER TABLE "lead_captures" ADD CONSTRAINT "lead_captures_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_captures" ADD CONSTRAINT "lead_captures_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meta_lead_fetches" ADD CONSTRAINT "meta_lead_fetches_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meta_lead_fetches" ADD CONSTRAINT "meta_lead_fetches_source_id_inbound_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."inbound_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lead_captures_client_idx" ON "lead_captures" USING btree ("client_id","created_at");--> statement-breakpoint
CREATE INDEX "lead_captures_org_idx" ON "lead_captures" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "meta_lead_fetches_lead_key" ON "meta_lead_fetches" USING btree ("source_id","leadgen_id");--> statement-breakpoint
CREATE INDEX "meta_lead_fetches_due_idx" ON "meta_lead_fetches" USING btree ("next_attempt_at") WHERE "meta_lead_fetches"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "meta_lead_fetches_org_pending_idx" ON "meta_lead_fetches" USING btree ("org_id") WHERE "meta_lead_fetches"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "clients_org_phone_tail_idx" ON "clients" USING btree ("org_id",right(regexp_replace("phone", '[^0-9]', '', 'g'), 7));--> statement-breakpoint
CREATE INDEX "webhook_events_org_xid_idx" ON "webhook_events" USING btree ("org_id","xid","id");--> statement-breakpoint
-- custom SQL (keep when regenerating)
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_event_retention_days_check" CHECK ("event_retention_days" BETWEEN 7 AND 90);
