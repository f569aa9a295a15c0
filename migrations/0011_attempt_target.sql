ALTER TABLE "delivery_attempts" ADD COLUMN "target_id" text;--> statement-breakpoint
-- Writers copy the delivery's target onto each attempt (packages/db/src/queries), so counting an
-- attempt for the overview no longer looks its delivery up: three look-ups per delivered event
-- (opened, then closed: old and new row), a third to three quarters of what the statistics
-- triggers cost the worker's writes (bench/write-path.ts). An attempt without a target (written
-- before this migration, or by a process still running the release before it) is looked up as
-- before; such rows leave the 25 hours the triggers count within a day.
CREATE FUNCTION hookline_stats_attempt_kinds(status_code integer, duration_ms integer)
	RETURNS TABLE (kind text, detail text) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT * FROM (VALUES
		('attempt', CASE WHEN status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
		('attempt_ms', hookline_stats_ms(duration_ms))
	) c(kind, detail) WHERE detail IS NOT NULL
$$;
--> statement-breakpoint
-- An attempt's subject: its target, or for an attempt written without one, its delivery's.
-- (Inline in the triggers below: COALESCE runs the look-up only for a row that needs it.)
--
-- The changed attempts, grouped: new rows +1 with their start as the latest, old rows -1. A row
-- that carries no target and whose delivery is gone is not counted here: the deliveries' row
-- trigger below took it off before the cascade deleted it.
CREATE OR REPLACE FUNCTION hookline_stats_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n, latest)
		SELECT hookline_stats_bucket(a.started_at), c.kind, a.subject, c.detail, count(*), max(a.started_at)
		FROM (SELECT r.*, coalesce(r.target_id, (SELECT d.target_id FROM deliveries d WHERE d.id = r.delivery_id)) AS subject
			FROM new_rows r) a CROSS JOIN LATERAL hookline_stats_attempt_kinds(a.status_code, a.duration_ms) c
		WHERE a.started_at >= hookline_stats_horizon() AND a.subject IS NOT NULL GROUP BY 1, 2, 3, 4;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
		SELECT hookline_stats_bucket(a.started_at), c.kind, a.subject, c.detail, -count(*)
		FROM (SELECT r.*, coalesce(r.target_id, (SELECT d.target_id FROM deliveries d WHERE d.id = r.delivery_id)) AS subject
			FROM old_rows r) a CROSS JOIN LATERAL hookline_stats_attempt_kinds(a.status_code, a.duration_ms) c
		WHERE a.started_at >= hookline_stats_horizon() AND a.subject IS NOT NULL GROUP BY 1, 2, 3, 4;
	ELSE
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n, latest)
		SELECT hookline_stats_bucket(a.started_at), c.kind, a.subject, c.detail, sum(a.n), max(a.latest)
		FROM (
			SELECT r.started_at, r.status_code, r.duration_ms, 1 AS n, r.started_at AS latest,
				coalesce(r.target_id, (SELECT d.target_id FROM deliveries d WHERE d.id = r.delivery_id)) AS subject
			FROM new_rows r
			UNION ALL
			SELECT r.started_at, r.status_code, r.duration_ms, -1, null,
				coalesce(r.target_id, (SELECT d.target_id FROM deliveries d WHERE d.id = r.delivery_id))
			FROM old_rows r
		) a CROSS JOIN LATERAL hookline_stats_attempt_kinds(a.status_code, a.duration_ms) c
		WHERE a.started_at >= hookline_stats_horizon() AND a.subject IS NOT NULL GROUP BY 1, 2, 3, 4
		HAVING sum(a.n) <> 0;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
-- Only attempts without a target are taken off here; the others count under their own target_id
-- and are taken off by the attempts' delete trigger when the cascade removes them.
CREATE OR REPLACE FUNCTION hookline_stats_delivery_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
	SELECT hookline_stats_bucket(a.started_at), c.kind, OLD.target_id, c.detail, -count(*)
	FROM delivery_attempts a CROSS JOIN LATERAL hookline_stats_attempt_kinds(a.status_code, a.duration_ms) c
	WHERE a.delivery_id = OLD.id AND a.target_id IS NULL AND a.started_at >= hookline_stats_horizon()
	GROUP BY 1, 2, 3, 4;
	RETURN OLD;
END $$;
