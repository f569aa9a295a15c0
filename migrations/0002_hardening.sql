CREATE TABLE "admin_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ip" text
);
--> statement-breakpoint
CREATE TABLE "ingest_failures" (
	"id" text PRIMARY KEY NOT NULL,
	"source_id" text,
	"event_ids" text[] NOT NULL,
	"reason" text NOT NULL,
	"error" text NOT NULL,
	"job" jsonb NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "admin_sessions_expires_idx" ON "admin_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "ingest_failures_failed_idx" ON "ingest_failures" USING btree ("failed_at" DESC NULLS LAST,"id" DESC NULLS LAST);