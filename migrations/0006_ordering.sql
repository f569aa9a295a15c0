ALTER TABLE "deliveries" ADD COLUMN "ordering_key" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "ordering_seq" bigint;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "held" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_ordering_idx" ON "deliveries" USING btree ("target_id","ordering_key","ordering_seq") WHERE "deliveries"."ordering_key" is not null and "deliveries"."status" in ('pending', 'retrying');--> statement-breakpoint
CREATE INDEX "deliveries_held_idx" ON "deliveries" USING btree ("ordering_seq") WHERE "deliveries"."held";