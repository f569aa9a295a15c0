CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"target_id" text NOT NULL,
	"source_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"run_number" integer DEFAULT 1 NOT NULL,
	"run_base_attempt" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"succeeded_at" timestamp with time zone,
	CONSTRAINT "deliveries_status_check" CHECK ("deliveries"."status" in ('pending', 'retrying', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "delivery_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt_number" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"duration_ms" integer,
	"status_code" integer,
	"response_body" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "dedupe_keys" (
	"source_id" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"event_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "dedupe_keys_source_id_dedupe_key_pk" PRIMARY KEY("source_id","dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "event_duplicates" (
	"id" text PRIMARY KEY NOT NULL,
	"original_event_id" text NOT NULL,
	"source_id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"event_type" text,
	"dedupe_key" text NOT NULL,
	"provider_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"headers" jsonb NOT NULL,
	"body" "bytea" NOT NULL,
	"content_type" text,
	"duplicate_count" integer DEFAULT 0 NOT NULL,
	"last_duplicate_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_event_idx" ON "deliveries" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "deliveries_status_updated_idx" ON "deliveries" USING btree ("status","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deliveries_target_status_updated_idx" ON "deliveries" USING btree ("target_id","status","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deliveries_source_status_updated_idx" ON "deliveries" USING btree ("source_id","status","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "deliveries_created_idx" ON "deliveries" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "delivery_attempts_delivery_idx" ON "delivery_attempts" USING btree ("delivery_id","attempt_number");--> statement-breakpoint
CREATE INDEX "delivery_attempts_started_idx" ON "delivery_attempts" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "dedupe_keys_expires_idx" ON "dedupe_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "event_duplicates_original_idx" ON "event_duplicates" USING btree ("original_event_id");--> statement-breakpoint
CREATE INDEX "event_duplicates_received_idx" ON "event_duplicates" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "events_received_at_idx" ON "events" USING btree ("received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "events_source_received_idx" ON "events" USING btree ("source_id","received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "events_type_received_idx" ON "events" USING btree ("event_type","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "events_provider_id_idx" ON "events" USING btree ("provider_id") WHERE "events"."provider_id" is not null;--> statement-breakpoint
CREATE INDEX "events_dedupe_key_idx" ON "events" USING btree ("source_id","dedupe_key");