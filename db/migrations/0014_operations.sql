CREATE TABLE "operational_emails" (
	"event_id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "count" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "operational_emails" ADD CONSTRAINT "operational_emails_event_id_webhook_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."webhook_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_events_operational_idx" ON "webhook_events" USING btree ("created_at") WHERE "webhook_events"."type" in ('endpoint.failing', 'endpoint.recovered', 'endpoint.disabled', 'delivery.exhausted', 'api_key.expiring', 'connector.paused', 'import.completed');