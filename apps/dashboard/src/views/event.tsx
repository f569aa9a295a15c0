import type { AttemptRow, DeliveryRow, EventDetail } from "@hookline/db";
import type { Redactor } from "@hookline/redact";
import type { Child } from "hono/jsx";
import { bodyViews, bytes, clip, count, duration, utcTime } from "../format";
import { Layout } from "./layout";
import { Ago, Back, Code, Csrf, Empty, type PageEnv, StatusBadge, When } from "./parts";

export const EXACT_LIMIT = 16 * 1024;
const PRETTY_LIMIT = 64 * 1024;
const HEX_LIMIT = 1024;
const EXCERPT = 280;

export interface EventPageData {
  readonly detail: EventDetail;
  readonly redactor: Redactor;
  /** Configured target ids, for "replay to". */
  readonly targets: readonly string[];
  /** Targets the routes select for this event today (what a plain replay sends to). */
  readonly routed: readonly string[];
  readonly sha256: string;
}

type Delivery = DeliveryRow & { readonly attempts: readonly AttemptRow[] };

const Meta = (props: { label: string; children: Child }) => (
  <div class="meta">
    <dt>{props.label}</dt>
    <dd>{props.children}</dd>
  </div>
);

function outcome(a: AttemptRow): "ok" | "fail" | "open" {
  if (a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300) return "ok";
  if (a.durationMs === null && a.statusCode === null && a.error === null) return "open";
  return "fail";
}

const Attempt = (props: { a: AttemptRow; redactor: Redactor; now: number }) => {
  const { a, redactor } = props;
  const kind = outcome(a);
  const response = a.responseBody ? redactor.text(a.responseBody) : null;
  const excerpt = response ? clip(response, EXCERPT) : null;
  return (
    <li class={`attempt a-${kind}`} data-attempt={String(a.attemptNumber)} data-outcome={kind}>
      <span class="attempt-dot" aria-hidden="true" />
      <div class="attempt-head">
        <span class="attempt-no">#{a.attemptNumber}</span>
        <Code code={a.statusCode} />
        <span class="mono small" title={a.startedAt.toISOString()}>
          {utcTime(a.startedAt)}
        </span>
        <span class="muted small">
          <Ago at={a.startedAt} now={props.now} />
        </span>
        <span class="attempt-dur">{kind === "open" ? "in flight" : duration(a.durationMs)}</span>
      </div>
      {a.error ? <div class="attempt-error">{redactor.text(a.error)}</div> : null}
      {excerpt ? (
        excerpt.cut === 0 ? (
          <pre class="excerpt">{excerpt.text}</pre>
        ) : (
          <details class="excerpt-more" id={`resp-${a.id}`}>
            <summary>
              <pre class="excerpt">{excerpt.text}…</pre>
              <span class="more">show all {count(response?.length ?? 0)} characters</span>
            </summary>
            <pre class="excerpt">{response}</pre>
          </details>
        )
      ) : null}
    </li>
  );
};

const DeliveryCard = (props: { d: Delivery; redactor: Redactor; env: PageEnv }) => {
  const { d, redactor, env } = props;
  const retryable = env.canOperate && d.status !== "succeeded";
  // Attempts after run_base_attempt belong to the current run, which a manual retry started.
  const items: Child[] = [];
  for (const a of d.attempts) {
    if (d.runNumber > 1 && a.attemptNumber === d.runBaseAttempt + 1) {
      items.push(
        <li class="run-mark" data-run={String(d.runNumber)}>
          run {d.runNumber} · manual retry
        </li>,
      );
    }
    items.push(<Attempt a={a} redactor={redactor} now={env.now} />);
  }
  if (d.runNumber > 1 && d.attempts.length === d.runBaseAttempt) {
    items.push(
      <li class="run-mark" data-run={String(d.runNumber)}>
        run {d.runNumber} · manual retry, waiting for its first attempt
      </li>,
    );
  }
  return (
    <article class={`delivery d-${d.status}`} id={`delivery-${d.id}`} data-delivery-id={d.id}>
      <header class="delivery-head">
        <div class="delivery-title">
          <span class="strong">{d.targetId}</span>
          <StatusBadge status={d.status} />
          <span class="mono faint small" title={d.id}>
            {d.id}
          </span>
        </div>
        <div class="delivery-actions">
          {retryable ? (
            <form method="post" action={`/deliveries/${d.id}/retry`}>
              <Csrf token={env.csrf} />
              <Back here={env.here} />
              <button type="submit" class="btn small" data-action="retry">
                {d.status === "failed" ? "Retry" : "Retry now"}
              </button>
            </form>
          ) : null}
        </div>
      </header>
      <div class="delivery-facts">
        <span>
          <span class="muted">attempts</span> <strong>{d.attemptCount}</strong>
        </span>
        {d.runNumber > 1 ? (
          <span>
            <span class="muted">run</span> <strong>{d.runNumber}</strong>
          </span>
        ) : null}
        {d.status === "retrying" && d.nextAttemptAt ? (
          <span>
            <span class="muted">next attempt</span> <Ago at={d.nextAttemptAt} now={env.now} />
          </span>
        ) : null}
        {d.succeededAt ? (
          <span>
            <span class="muted">delivered</span> <Ago at={d.succeededAt} now={env.now} />
          </span>
        ) : null}
        <span>
          <span class="muted">updated</span> <Ago at={d.updatedAt} now={env.now} />
        </span>
        {d.orderingKey !== null ? (
          <span data-ordering-key={redactor.text(d.orderingKey)}>
            <span class="muted">ordering key</span>{" "}
            <span class="mono">{clip(redactor.text(d.orderingKey), 64).text}</span>
          </span>
        ) : null}
      </div>
      {d.sentBody !== null ? (
        <details class="sent-body pad" data-sent-body>
          <summary class="small">
            Sent: what the route's transform made of the body (application/json)
          </summary>
          <pre class="mono small">{clip(redactor.text(d.sentBody.toString("utf8")), EXACT_LIMIT).text}</pre>
        </details>
      ) : null}
      {items.length === 0 ? (
        <p class="muted small pad">
          {d.held
            ? "No attempt yet: it waits for its turn (an earlier event of its ordering key is not delivered yet)."
            : d.lastError !== null
              ? `No attempt: ${redactor.text(d.lastError)}`
              : "No attempt yet: the delivery is queued."}
        </p>
      ) : (
        <ol class="timeline">{items}</ol>
      )}
    </article>
  );
};

const Body = (props: { body: Buffer; redactor: Redactor; contentType: string | null; sha256: string }) => {
  const body = props.body;
  const { pretty, segments, hex } = bodyViews(body, props.redactor, { exact: EXACT_LIMIT, hex: HEX_LIMIT });
  const prettyText = pretty ? clip(pretty.text, PRETTY_LIMIT) : null;
  return (
    <section class="panel" id="body">
      <header class="panel-head">
        <h2>Body</h2>
        <span class="muted small">
          {bytes(body.length)} · {props.contentType ?? "no content-type"} ·{" "}
          <span class="mono" title="SHA-256 of the exact bytes">
            sha256 {props.sha256.slice(0, 16)}…
          </span>
        </span>
      </header>
      <div class="body-grid">
        <div class="body-col">
          <div class="body-label">{pretty?.kind === "json" ? "Pretty (JSON)" : "Text"}</div>
          {prettyText ? (
            <pre class="code-block" data-view="pretty">
              {prettyText.text}
              {prettyText.cut > 0 ? `\n… ${count(prettyText.cut)} more characters` : ""}
            </pre>
          ) : (
            <p class="muted pad">Not UTF-8 text; see the exact bytes.</p>
          )}
        </div>
        <div class="body-col">
          <div class="body-label">
            Exact bytes{" "}
            <span class="muted">
              {body.length > EXACT_LIMIT ? `(first ${bytes(EXACT_LIMIT)})` : ""} control characters and
              invalid UTF-8 escaped
            </span>
          </div>
          <pre class="code-block exact" data-view="exact">
            {segments.map((s) => (s.escape ? <span class="esc">{s.text}</span> : s.text))}
          </pre>
        </div>
      </div>
      <details class="hex" id="hexdump">
        <summary>Hex dump{body.length > HEX_LIMIT ? ` (first ${bytes(HEX_LIMIT)})` : ""}</summary>
        <pre class="code-block">{hex}</pre>
      </details>
    </section>
  );
};

export const EventPage = (props: { data: EventPageData; env: PageEnv }) => {
  const { data, env } = props;
  const { event, deliveries } = data.detail;
  const headers = Object.entries(event.headers).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Layout title={`Event ${event.id}`} nav="events" env={env}>
      <div class="crumbs">
        <a href="/events">Events</a> <span class="muted">/</span>{" "}
        <a href={`/events?source=${encodeURIComponent(event.sourceId)}`}>{event.sourceId}</a>
      </div>
      <div class="page-head with-actions">
        <div>
          <h1 class="mono-title">{event.id}</h1>
          <p class="muted">
            {event.eventType ? <span class="mono">{event.eventType}</span> : "no event type"} from{" "}
            <strong>{event.sourceId}</strong>, received <When at={event.receivedAt} now={env.now} />
          </p>
        </div>
        {env.canOperate ? (
          <form method="post" action={`/events/${event.id}/replay`} class="replay">
            <Csrf token={env.csrf} />
            <Back here={env.here} />
            <select name="target" aria-label="Replay to">
              <option value="">
                {data.routed.length
                  ? `Routed targets (${data.routed.join(", ")})`
                  : "Routed targets (none today)"}
              </option>
              {data.targets.map((t) => (
                <option value={t}>Only {t}</option>
              ))}
            </select>
            <button
              type="submit"
              class="btn"
              data-action="replay"
              data-confirm="Replay sends this event again as new deliveries. Continue?"
            >
              Replay
            </button>
          </form>
        ) : null}
      </div>

      <dl class="meta-grid">
        <Meta label="Provider reference">{event.providerId ?? <span class="muted">—</span>}</Meta>
        <Meta label="De-duplication key">
          <span class="mono small">{data.redactor.text(event.dedupeKey)}</span>
        </Meta>
        <Meta label="Size">{bytes(event.body.length)}</Meta>
        <Meta label="Duplicates">
          {event.duplicateCount > 0 ? (
            <span>
              {count(event.duplicateCount)} · last <Ago at={event.lastDuplicateAt} now={env.now} />
            </span>
          ) : (
            "none"
          )}
        </Meta>
      </dl>

      <div class="grid-event">
        <section class="section" id="deliveries" data-live>
          <h2 class="section-title">
            Deliveries <span class="muted">{deliveries.length}</span>
          </h2>
          {deliveries.length === 0 ? (
            <Empty>No route sent this event to a target.</Empty>
          ) : (
            deliveries.map((d) => <DeliveryCard d={d} redactor={data.redactor} env={env} />)
          )}
        </section>
        <section class="panel" id="headers">
          <header class="panel-head">
            <h2>Headers</h2>
            <span class="muted small">credentials redacted, signatures shortened</span>
          </header>
          <table class="table compact kv">
            <tbody>
              {headers.map(([name, value]) => (
                <tr>
                  <th class="mono">{name}</th>
                  <td class="mono wrap">{data.redactor.header(name, value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <Body body={event.body} redactor={data.redactor} contentType={event.contentType} sha256={data.sha256} />
    </Layout>
  );
};
