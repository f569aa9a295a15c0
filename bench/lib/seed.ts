// The growth phase's history: N events received over the last 72 hours (so every one still
// holds its de-duplication key), each with its delivery and attempt rows, 2% of deliveries
// failed after six attempts, 1% with a provider duplicate. Written with INSERT ... SELECT
// generate_series, a chunk per statement, with every index in place as in production.
import pg from "pg";

const CHUNK = 250_000;

/** Fixed for the whole seeding: now() would differ between statements, and so would the ids. */
const NOW = new Date();

/** Where the seeded events fall: `hours` hours up to `end` (default: the last 72 hours). */
export interface SeedWindow {
  readonly end: Date;
  readonly hours: number;
}

/** Every expression is a function of the row number i, so the tables can be filled apart. */
function expressions(n: number, window: SeedWindow) {
  const end = window.end.toISOString();
  const at = `('${end}'::timestamptz - interval '${window.hours} hours' + (i::double precision / ${n}) * interval '${window.hours} hours')`;
  // Ids as ids.ts makes them: the prefix, then the time they were made (48-bit ms) in hex, so a
  // partitioned install (retention.partitioning) files each row in its day.
  const timed = (prefix: string, time: string, salt: string) =>
    `'${prefix}_' || lpad(to_hex((extract(epoch from ${time}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${salt}), 1, 19)`;
  return {
    AT: at,
    EVENT_ID: timed("evt", at, "'e' || i"),
    ATTEMPT_ID: timed("att", `(${at} + (k - 1) * interval '1 minute')`, "'a' || i || '-' || k"),
  };
}
const DELIVERY_ID = "'dlv_' || md5('d' || i)";

export async function seedGrowth(
  databaseUrl: string,
  n: number,
  log: (line: string) => void,
  window: SeedWindow = { end: NOW, hours: 72 },
): Promise<number> {
  const ex = expressions(n, window);
  const AT = (_n: number) => ex.AT;
  const EVENT_ID = (_n: number) => ex.EVENT_ID;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    for (let from = 1; from <= n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK - 1);
      const range = `generate_series(${from}, ${to}) as i`;
      await client.query(`
        insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type, duplicate_count)
        select ${EVENT_ID(n)}, 'clausum',
          (array['fraud.detected', 'case.created', 'case.updated', 'chargeback.opened'])[1 + i % 4],
          'json:' || encode(sha256(('k' || i)::bytea), 'hex'), null, ${AT(n)},
          jsonb_build_object(
            'content-type', 'application/json', 'user-agent', 'Clausum-Webhooks/2.3',
            'x-clausum-event', 'fraud.detected',
            'x-clausum-signature', 't=' || (extract(epoch from ${AT(n)}))::bigint || ',v1=' || encode(sha256(('s' || i)::bytea), 'hex'),
            'x-clausum-timestamp', to_char(${AT(n)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
          convert_to('{"event":"fraud.detected","timestamp":"' || to_char(${AT(n)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            || '","data":{"case_id":"case_' || lpad(i::text, 20, '0') || '","reference_number":"CLM-LX9A2B","reason":"chargeback",'
            || '"amount":{"value":12999,"currency":"EUR"},"merchant":{"id":"mer_4f0c2a","name":"Example Outdoor Supplies GmbH","mcc":"5941"},'
            || '"card":{"brand":"visa","last4":"4242","country":"DE"},"notes":"' || repeat('n', 690) || '"}}', 'UTF8'),
          'application/json', case when i % 100 = 0 then 1 else 0 end
        from ${range}`);
      await client.query(`
        insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at)
        select 'clausum', 'json:' || encode(sha256(('k' || i)::bytea), 'hex'), ${EVENT_ID(n)}, ${AT(n)} + interval '72 hours'
        from ${range}`);
      await client.query(`
        insert into event_duplicates (id, original_event_id, source_id, received_at)
        select 'evt_dup_' || md5('u' || i), ${EVENT_ID(n)}, 'clausum', ${AT(n)} + interval '1 second'
        from ${range} where i % 100 = 0`);
      await client.query(`
        insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_status_code, last_error,
          created_at, updated_at, succeeded_at)
        select ${DELIVERY_ID}, ${EVENT_ID(n)}, 'bench-sink', 'clausum',
          case when i % 50 = 0 then 'failed' else 'succeeded' end,
          case when i % 50 = 0 then 6 else 1 end,
          case when i % 50 = 0 then 503 else 200 end,
          case when i % 50 = 0 then 'http_503' else null end,
          ${AT(n)}, ${AT(n)} + interval '20 milliseconds',
          case when i % 50 = 0 then null else ${AT(n)} + interval '20 milliseconds' end
        from ${range}`);
      await client.query(`
        insert into delivery_attempts (id, delivery_id, target_id, attempt_number, started_at, duration_ms, status_code,
          response_body, error)
        select ${ex.ATTEMPT_ID}, ${DELIVERY_ID}, 'bench-sink', k, ${AT(n)} + (k - 1) * interval '1 minute',
          3 + i % 17, case when i % 50 = 0 then 503 else 200 end,
          case when i % 50 = 0 then 'upstream unavailable' else 'ok' end,
          case when i % 50 = 0 then 'http_503' else null end
        from ${range}, generate_series(1, case when i % 50 = 0 then 6 else 1 end) as k`);
      log(
        `  seeded ${to.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} events (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
    await client.query("vacuum analyze");
    // Flush what the seeding dirtied, so the measured run does not pay for it.
    await client.query("checkpoint");
    log(`  vacuum analyze done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    const size = await client.query<{ size: string }>(
      "select pg_size_pretty(pg_database_size(current_database())) as size",
    );
    log(`  database size ${size.rows[0]?.size ?? "?"}`);
  } finally {
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

/** Empties what seedGrowth wrote (the overview's statistics go with it: TRUNCATE triggers). */
export async function emptyGrowth(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("truncate events, deliveries, delivery_attempts, dedupe_keys, event_duplicates");
  } finally {
    await client.end();
  }
}
