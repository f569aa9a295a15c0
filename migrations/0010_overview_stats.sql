CREATE TABLE "stats_5m" (
	"bucket" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	"n" bigint DEFAULT 0 NOT NULL,
	"latest" timestamp with time zone,
	CONSTRAINT "stats_5m_kind_bucket_subject_detail_pk" PRIMARY KEY("kind","bucket","subject","detail")
);
--> statement-breakpoint
CREATE TABLE "stats_deltas" (
	"bucket" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	"n" bigint NOT NULL,
	"latest" timestamp with time zone
);
--> statement-breakpoint
-- Overview statistics (packages/db/src/queries/stats.ts). Every change to events, deliveries and
-- delivery_attempts appends what it changed to stats_deltas, in the changing statement's own
-- transaction (statement-level triggers with transition tables: one grouped INSERT per statement,
-- no row anyone else updates); the worker folds the deltas into stats_5m. Only rows of the last
-- 25 hours count (the overview reads 24 h), so retention deleting older rows writes nothing.
CREATE FUNCTION hookline_stats_bucket(t timestamptz) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN date_bin('5 minutes', t, timestamptz '2000-01-01 00:00:00+00');
--> statement-breakpoint
-- An attempt's duration as the upper bound of its histogram bucket (ms; 'inf' above a minute).
CREATE FUNCTION hookline_stats_ms(ms integer) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN CASE WHEN ms IS NOT NULL THEN coalesce((ARRAY[1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000,
		7000, 10000, 15000, 20000, 30000, 60000])[width_bucket(ms - 1, ARRAY[1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000,
		7000, 10000, 15000, 20000, 30000, 60000]) + 1]::text, 'inf') END;
--> statement-breakpoint
CREATE FUNCTION hookline_stats_horizon() RETURNS timestamptz
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN now() - interval '25 hours';
--> statement-breakpoint
CREATE FUNCTION hookline_stats_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, n)
		SELECT hookline_stats_bucket(received_at), 'event', source_id, count(*) FROM new_rows
		WHERE received_at >= hookline_stats_horizon() GROUP BY 1, 3;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, n)
		SELECT hookline_stats_bucket(received_at), 'event', source_id, -count(*) FROM old_rows
		WHERE received_at >= hookline_stats_horizon() GROUP BY 1, 3;
	ELSE
		INSERT INTO stats_deltas (bucket, kind, subject, n)
		SELECT hookline_stats_bucket(received_at), 'event', source_id, sum(n) FROM (
			SELECT received_at, source_id, 1 AS n FROM new_rows
			UNION ALL SELECT received_at, source_id, -1 FROM old_rows
		) c WHERE received_at >= hookline_stats_horizon() GROUP BY 1, 3 HAVING sum(n) <> 0;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION hookline_stats_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
		SELECT hookline_stats_bucket(updated_at), 'delivery', target_id, status, count(*) FROM new_rows
		WHERE updated_at >= hookline_stats_horizon() GROUP BY 1, 3, 4;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
		SELECT hookline_stats_bucket(updated_at), 'delivery', target_id, status, -count(*) FROM old_rows
		WHERE updated_at >= hookline_stats_horizon() GROUP BY 1, 3, 4;
	ELSE
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
		SELECT hookline_stats_bucket(updated_at), 'delivery', target_id, status, sum(n) FROM (
			SELECT updated_at, target_id, status, 1 AS n FROM new_rows
			UNION ALL SELECT updated_at, target_id, status, -1 FROM old_rows
		) c WHERE updated_at >= hookline_stats_horizon() GROUP BY 1, 3, 4 HAVING sum(n) <> 0;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
-- An attempt counts under its delivery's target: as 'ok' (a 2xx) or 'not_ok' (anything else, or
-- still under way), with its start as the latest, and once it has a duration in that duration's
-- histogram bucket. When deliveries are deleted, their attempts go by cascade after them, when the
-- join below no longer finds the target: the deliveries' row trigger (next) takes them off first.
-- Latest-attempt times are never taken off.
CREATE FUNCTION hookline_stats_attempts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n, latest)
		SELECT hookline_stats_bucket(a.started_at), c.kind, d.target_id, c.detail, count(*), max(a.started_at)
		FROM new_rows a CROSS JOIN LATERAL (SELECT target_id FROM deliveries WHERE id = a.delivery_id) d
		CROSS JOIN LATERAL (VALUES
			('attempt', CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
			('attempt_ms', hookline_stats_ms(a.duration_ms))
		) c(kind, detail)
		WHERE a.started_at >= hookline_stats_horizon() AND c.detail IS NOT NULL GROUP BY 1, 2, 3, 4;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
		SELECT hookline_stats_bucket(a.started_at), c.kind, d.target_id, c.detail, -count(*)
		FROM old_rows a CROSS JOIN LATERAL (SELECT target_id FROM deliveries WHERE id = a.delivery_id) d
		CROSS JOIN LATERAL (VALUES
			('attempt', CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
			('attempt_ms', hookline_stats_ms(a.duration_ms))
		) c(kind, detail)
		WHERE a.started_at >= hookline_stats_horizon() AND c.detail IS NOT NULL GROUP BY 1, 2, 3, 4;
	ELSE
		INSERT INTO stats_deltas (bucket, kind, subject, detail, n, latest)
		SELECT hookline_stats_bucket(a.started_at), c.kind, d.target_id, c.detail, sum(a.n), max(a.latest)
		FROM (
			SELECT delivery_id, started_at, status_code, duration_ms, 1 AS n, started_at AS latest FROM new_rows
			UNION ALL
			SELECT delivery_id, started_at, status_code, duration_ms, -1, null FROM old_rows
		) a CROSS JOIN LATERAL (SELECT target_id FROM deliveries WHERE id = a.delivery_id) d
		CROSS JOIN LATERAL (VALUES
			('attempt', CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
			('attempt_ms', hookline_stats_ms(a.duration_ms))
		) c(kind, detail)
		WHERE a.started_at >= hookline_stats_horizon() AND c.detail IS NOT NULL GROUP BY 1, 2, 3, 4
		HAVING sum(a.n) <> 0;
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION hookline_stats_delivery_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO stats_deltas (bucket, kind, subject, detail, n)
	SELECT hookline_stats_bucket(a.started_at), c.kind, OLD.target_id, c.detail, -count(*)
	FROM delivery_attempts a
	CROSS JOIN LATERAL (VALUES
			('attempt', CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
			('attempt_ms', hookline_stats_ms(a.duration_ms))
		) c(kind, detail)
	WHERE a.delivery_id = OLD.id AND a.started_at >= hookline_stats_horizon() AND c.detail IS NOT NULL
	GROUP BY 1, 2, 3, 4;
	RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER hookline_stats_insert AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_events();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_update AFTER UPDATE ON events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_events();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_delete AFTER DELETE ON events REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_events();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_deliveries();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_update AFTER UPDATE ON deliveries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_deliveries();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_deliveries();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_insert AFTER INSERT ON delivery_attempts REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_attempts();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_update AFTER UPDATE ON delivery_attempts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_attempts();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_delete AFTER DELETE ON delivery_attempts REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_attempts();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_delivery_gone BEFORE DELETE ON deliveries
	FOR EACH ROW EXECUTE FUNCTION hookline_stats_delivery_gone();
--> statement-breakpoint
-- Emptying a table (TRUNCATE takes it whole, so no writer of it is under way) empties its counts.
CREATE FUNCTION hookline_stats_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	kinds text[] := CASE TG_TABLE_NAME WHEN 'events' THEN ARRAY['event'] WHEN 'deliveries' THEN ARRAY['delivery']
		ELSE ARRAY['attempt', 'attempt_ms'] END;
BEGIN
	DELETE FROM stats_deltas WHERE kind = ANY(kinds);
	DELETE FROM stats_5m WHERE kind = ANY(kinds);
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER hookline_stats_truncate AFTER TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_truncated();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_truncate AFTER TRUNCATE ON deliveries
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_truncated();
--> statement-breakpoint
CREATE TRIGGER hookline_stats_truncate AFTER TRUNCATE ON delivery_attempts
	FOR EACH STATEMENT EXECUTE FUNCTION hookline_stats_truncated();
--> statement-breakpoint
-- What is already stored. Creating the triggers above waited for every writer of these tables
-- and holds new ones until this transaction commits, so no row is counted twice or missed; the
-- indexes by time bound the work to the last 25 hours.
INSERT INTO stats_5m (bucket, kind, subject, detail, n, latest)
SELECT hookline_stats_bucket(received_at), 'event', source_id, '', count(*), null::timestamptz FROM events
WHERE received_at >= hookline_stats_horizon() GROUP BY 1, 3
UNION ALL
SELECT hookline_stats_bucket(updated_at), 'delivery', target_id, status, count(*), null FROM deliveries
WHERE updated_at >= hookline_stats_horizon() GROUP BY 1, 3, 4
UNION ALL
SELECT hookline_stats_bucket(a.started_at), c.kind, d.target_id, c.detail, count(*), max(a.started_at)
FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
CROSS JOIN LATERAL (VALUES
		('attempt', CASE WHEN a.status_code BETWEEN 200 AND 299 THEN 'ok' ELSE 'not_ok' END),
		('attempt_ms', hookline_stats_ms(a.duration_ms))
	) c(kind, detail)
WHERE a.started_at >= hookline_stats_horizon() AND c.detail IS NOT NULL GROUP BY 1, 2, 3, 4;
