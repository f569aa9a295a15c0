import type { Database } from "@hookline/db";

/**
 * A day of past traffic, written straight into the tables: a few hundred Clausum events between
 * 1 and 24 hours ago, each delivered to audit, the fraud ones also to fraud-service, where about
 * one in eleven failed after two 500s. It gives the overview's chart and the lists the look of a
 * gateway that has been running; nothing the tests assert on depends on it (all of it is older
 * than an hour, and none of it goes to the ledger).
 */
export async function seedHistory(database: Database): Promise<void> {
  await database.pool.query(`
    insert into events (id, source_id, event_type, dedupe_key, received_at, headers, body, content_type)
    select 'evt_' || md5('history-' || h || '-' || i),
           'clausum',
           (array['case.created', 'case.updated', 'fraud.detected', 'case.closed'])[1 + i % 4],
           'history-' || h || '-' || i,
           now() - make_interval(hours => h) - make_interval(secs => (i * 613) % 3600),
           '{"content-type": "application/json", "user-agent": "Clausum-Webhooks/2.3"}'::jsonb,
           convert_to(json_build_object(
             'event', (array['case.created', 'case.updated', 'fraud.detected', 'case.closed'])[1 + i % 4],
             'data', json_build_object('case_id', 'c-' || (900 + h * 7 + i))
           )::text, 'UTF8'),
           'application/json'
    from generate_series(1, 23) h, generate_series(1, 40) i
    where i <= 8 + (h * 37) % 23 + (case when h between 3 and 11 then 10 else 0 end)`);
  await database.pool.query(`
    insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_status_code,
                            created_at, updated_at, succeeded_at)
    select 'dlv_' || md5(e.id || '/audit'), e.id, 'audit', e.source_id, 'succeeded', 1, 202,
           e.received_at, e.received_at + interval '30 ms', e.received_at + interval '30 ms'
    from events e where e.dedupe_key like 'history-%'`);
  await database.pool.query(`
    insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_status_code,
                            last_error, created_at, updated_at, succeeded_at)
    select 'dlv_' || md5(e.id || '/fraud'), e.id, 'fraud-service', e.source_id,
           case when f.failed then 'failed' else 'succeeded' end,
           case when f.failed then 2 else 1 end,
           case when f.failed then 500 else 200 end,
           case when f.failed then 'HTTP 500; no attempts left' end,
           e.received_at,
           e.received_at + case when f.failed then interval '2 min' else interval '60 ms' end,
           case when f.failed then null else e.received_at + interval '60 ms' end
    from events e, lateral (select (('x' || substr(md5(e.id), 1, 6))::bit(24)::int % 11) = 0 as failed) f
    where e.dedupe_key like 'history-%' and e.event_type = 'fraud.detected'`);
  await database.pool.query(`
    insert into delivery_attempts (id, delivery_id, attempt_number, started_at, duration_ms, status_code,
                                   response_body, error)
    select 'att_' || md5(d.id || '/' || n), d.id, n,
           d.created_at + (n - 1) * interval '2 min',
           12 + ('x' || substr(md5(d.id || n), 1, 4))::bit(16)::int % 70,
           d.last_status_code,
           case when d.status = 'failed' then '{"error":"upstream_unavailable"}' when d.target_id = 'audit' then 'accepted' else '{"received":true}' end,
           case when d.status = 'failed' then 'HTTP 500' end
    from deliveries d, generate_series(1, d.attempt_count) n
    where d.event_id in (select id from events where dedupe_key like 'history-%')`);
}
