-- Signature headers used to be stored in full: anyone who could read events.headers (the admin
-- API, the dashboard, SQL) could re-post a body with its signature. The gateway now keeps only
-- the first 16 characters; this shortens the rows stored before. A migration cannot read the
-- config, so it goes by name: every header whose name looks like a signature's (which covers
-- every preset's and the usual X-...-Signature of generic hmac sources).
UPDATE "events"
SET "headers" = (
  SELECT jsonb_object_agg(
    h.key,
    CASE
      WHEN h.key ~* '(signature|hmac|-sig$)' AND jsonb_typeof(h.value) = 'string'
        AND length(h.value #>> '{}') > 17
      THEN to_jsonb(left(h.value #>> '{}', 16) || '…')
      ELSE h.value
    END
  )
  FROM jsonb_each("events"."headers") AS h
)
WHERE EXISTS (
  SELECT 1 FROM jsonb_each("events"."headers") AS h
  WHERE h.key ~* '(signature|hmac|-sig$)' AND jsonb_typeof(h.value) = 'string'
    AND length(h.value #>> '{}') > 17
);
