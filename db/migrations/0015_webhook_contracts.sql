ALTER TABLE "organizations" ADD COLUMN "event_retention_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "filter" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD COLUMN "xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_events_org_xid_idx" ON "webhook_events" USING btree ("org_id","xid","id");--> statement-breakpoint
-- custom SQL (keep when regenerating)
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_event_retention_days_check" CHECK ("event_retention_days" BETWEEN 7 AND 90);
