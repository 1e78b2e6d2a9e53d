CREATE TABLE "inbound_deliveries" (
	"source_id" text NOT NULL,
	"delivery_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbound_deliveries_source_id_delivery_id_pk" PRIMARY KEY("source_id","delivery_id")
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "count" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "connector_runs" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "error_code" text;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "imports" ADD COLUMN "size_bytes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_deliveries" ADD CONSTRAINT "inbound_deliveries_source_id_inbound_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."inbound_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inbound_deliveries_created_idx" ON "inbound_deliveries" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "notifications_created_idx" ON "notifications" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "connector_runs_started_idx" ON "connector_runs" USING btree ("started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "connector_runs_one_active_idx" ON "connector_runs" USING btree ("connector_id") WHERE "connector_runs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "connector_runs_active_idx" ON "connector_runs" USING btree ("status","org_id") WHERE "connector_runs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "imports_one_running_idx" ON "imports" USING btree ("org_id") WHERE "imports"."status" = 'running';--> statement-breakpoint
CREATE INDEX "imports_status_idx" ON "imports" USING btree ("status","created_at");