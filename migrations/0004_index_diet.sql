-- Index diet: no query reads these (the EXPLAIN tests in apps/admin/test/explain.test.ts cover
-- every query the API, CLI, dashboard and cookbook run), and each new event and delivery paid for them.
DROP INDEX "deliveries_created_idx";--> statement-breakpoint
DROP INDEX "events_dedupe_key_idx";
