import { type DeliveryStatus, type Overview, STATS_BUCKET_MINUTES, type TargetHealth } from "@hookline/db";
import type { CircuitState } from "@hookline/metrics";
import { count, duration } from "../format";
import { Layout } from "./layout";
import { Ago, Back, CircuitBadge, Csrf, Empty, type PageEnv, Table } from "./parts";

export interface TargetRow {
  readonly id: string;
  readonly url: string;
  readonly circuit: CircuitState | "unknown";
  readonly health: TargetHealth | undefined;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  /** Already redacted. */
  readonly pausedReason: string | null;
  /** Deliveries not yet final, whenever created, and when the oldest of them was created. */
  readonly waiting: number;
  readonly oldestWaitingAt: Date | null;
}

/** A set-aside ingest job as the overview lists it; `error` already redacted. */
export interface SetAsideRow {
  readonly id: string;
  readonly sourceId: string | null;
  readonly reason: string;
  readonly error: string;
  readonly failedAt: Date;
}

export interface OverviewData {
  readonly overview: Overview;
  /** The newest set-aside ingest jobs and how many there are in all. */
  readonly setAside: { readonly total: number; readonly newest: readonly SetAsideRow[] };
  readonly sources: readonly string[];
  readonly targets: readonly TargetRow[];
}

const TILES: ReadonlyArray<readonly [DeliveryStatus, string, string]> = [
  ["failed", "Failed", "gave up after the last attempt"],
  ["retrying", "Retrying", "waiting for the next attempt"],
  ["pending", "Pending", "queued for a first attempt"],
  ["succeeded", "Succeeded", "delivered with a 2xx"],
];

const StatusTiles = (props: { overview: Overview }) => (
  <section class="tiles" id="tiles" data-live>
    {TILES.map(([status, label, hint]) => {
      const n = props.overview.deliveriesByStatus.get(status) ?? { hour: 0, day: 0 };
      return (
        <a
          class={`tile t-${status}`}
          href={`/deliveries?status=${status}&since=24h`}
          data-tile={status}
          title={hint}
        >
          <div class="tile-label">
            {label} <span class="tile-window">last 24 h</span>
          </div>
          <div class="tile-value">{count(n.day)}</div>
          <div class="tile-sub">
            <strong>{count(n.hour)}</strong> in the last hour
          </div>
        </a>
      );
    })}
  </section>
);

/** Events per hour over the day: an SVG bar chart (no inline styles, so CSP stays strict). */
const HourlyChart = (props: { perHour: readonly number[] }) => {
  const max = Math.max(1, ...props.perHour);
  const width = 24 * 20;
  const height = 72;
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="Events per hour"
      >
        <line x1="0" y1={String(height - 0.5)} x2={String(width)} y2={String(height - 0.5)} class="axis" />
        {props.perHour.map((n, i) => {
          const h = n === 0 ? 0 : Math.max(2, Math.round((n / max) * (height - 6)));
          return (
            <rect
              x={String(i * 20 + 2)}
              y={String(height - h)}
              width="16"
              height={String(h)}
              rx="2"
              class="bar"
            >
              <title>{`${24 - i}h to ${23 - i}h ago: ${n} event${n === 1 ? "" : "s"}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption>
        <span>24 h ago</span>
        <span>12 h ago</span>
        <span>now</span>
      </figcaption>
    </figure>
  );
};

/** Success rate as a number and a thin bar; coloured by how healthy it is. */
const Rate = (props: { health: TargetHealth | undefined }) => {
  const h = props.health;
  if (!h || h.attempts === 0) return <span class="muted">no attempts</span>;
  const rate = h.succeeded / h.attempts;
  const cls = rate >= 0.99 ? "good" : rate >= 0.9 ? "warn" : "bad";
  const pct = rate * 100;
  return (
    <span class={`rate ${cls}`}>
      <svg viewBox="0 0 100 6" preserveAspectRatio="none" class="rate-bar" aria-hidden="true">
        <rect x="0" y="0" width="100" height="6" rx="3" class="rate-track" />
        <rect x="0" y="0" width={pct.toFixed(1)} height="6" rx="3" class="rate-fill" />
      </svg>
      <span class="num">{pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%</span>
    </span>
  );
};

/** Accepted events that could never be recorded: rare, and each one needs a person. */
const SetAsidePanel = (props: { data: OverviewData["setAside"]; now: number }) => (
  <section class="panel" id="ingest-failures-panel" data-live>
    <header class="panel-head">
      <h2>Set-aside ingest jobs</h2>
      <span class="muted">
        <strong class="bad">{count(props.data.total)}</strong> accepted but never recorded; kept whole in{" "}
        <span class="mono">ingest_failures</span> and at <span class="mono">GET /api/ingest-failures</span>
      </span>
    </header>
    <Table compact headings={["Set aside", "Id", "Source", "Reason", "Error"]}>
      {props.data.newest.map((f) => (
        <tr data-ingest-failure={f.id}>
          <td>
            <Ago at={f.failedAt} now={props.now} />
          </td>
          <td class="mono small">{f.id}</td>
          <td>{f.sourceId ?? "—"}</td>
          <td class="mono small">{f.reason}</td>
          <td class="small wrap">{f.error}</td>
        </tr>
      ))}
    </Table>
  </section>
);

/** Pause (with an optional reason) or resume: paused deliveries are created and wait, none is lost. */
const PauseControl = (props: { target: TargetRow; env: PageEnv }) => {
  const { target: t, env } = props;
  const action = `/targets/${encodeURIComponent(t.id)}/${t.paused ? "resume" : "pause"}`;
  if (!env.canOperate) {
    return t.paused ? (
      <span class="badge s-retrying" data-paused="true" title={t.pausedReason ?? undefined}>
        paused
      </span>
    ) : (
      <span class="muted small">running</span>
    );
  }
  return (
    <form method="post" action={action} class="pause-control">
      <Csrf token={env.csrf} />
      <Back here="/" />
      {t.paused ? (
        <div>
          <span class="badge s-retrying" data-paused="true" title={t.pausedReason ?? undefined}>
            paused
          </span>{" "}
          <span class="muted small">
            <Ago at={t.pausedAt} now={env.now} />
          </span>
          {t.pausedReason ? <div class="small muted">{t.pausedReason}</div> : null}
          <div class="small muted" data-waiting={t.waiting}>
            {count(t.waiting)} waiting
            {t.oldestWaitingAt ? (
              <>
                , oldest <Ago at={t.oldestWaitingAt} now={env.now} />
              </>
            ) : null}
          </div>
        </div>
      ) : (
        <input
          type="text"
          name="reason"
          maxlength={500}
          placeholder="reason (optional)"
          class="input small"
        />
      )}
      <button
        type="submit"
        class={t.paused ? "btn small primary" : "btn small"}
        data-action={t.paused ? "resume" : "pause"}
      >
        {t.paused ? "Resume" : "Pause"}
      </button>
    </form>
  );
};

export const OverviewPage = (props: { data: OverviewData; env: PageEnv }) => {
  const { overview, sources, targets } = props.data;
  const { now } = props.env;
  const totalDay = [...overview.eventsBySource.values()].reduce((a, b) => a + b.day, 0);
  const totalHour = [...overview.eventsBySource.values()].reduce((a, b) => a + b.hour, 0);
  // Configured sources first, in config order; then any the database knows that the config no longer has.
  const sourceIds = [...new Set([...sources, ...overview.eventsBySource.keys()])];
  return (
    <Layout title="Overview" nav="overview" env={props.env}>
      <div class="page-head">
        <h1>Overview</h1>
        <p class="muted">
          Deliveries by their current status, counted by last change. Counted in {STATS_BUCKET_MINUTES}-minute
          steps: “last hour” is the {STATS_BUCKET_MINUTES} minutes in progress and the{" "}
          {60 - STATS_BUCKET_MINUTES} before them, “last 24 h” likewise. Times are UTC.
        </p>
      </div>
      <StatusTiles overview={overview} />

      <section class="panel" id="targets-panel" data-live>
        <header class="panel-head">
          <h2>Targets</h2>
          <span class="muted">attempts in the last hour; backlog and failures over 24 h</span>
        </header>
        {targets.length === 0 ? (
          <Empty>No targets are configured.</Empty>
        ) : (
          <Table
            headings={[
              "Target",
              "Circuit",
              "Success · 1 h",
              { text: "Attempts · 1 h", class: "num" },
              { text: "p95 · 1 h", class: "num", title: "estimated from a histogram of attempt durations" },
              "Last success",
              { text: "Waiting", class: "num", title: "pending or retrying" },
              { text: "Failed · 24 h", class: "num" },
              "Delivery",
            ]}
          >
            {targets.map((t) => (
              <tr data-target={t.id}>
                <td>
                  <div class="strong">{t.id}</div>
                  <div class="mono faint small">{t.url}</div>
                </td>
                <td>
                  <CircuitBadge state={t.circuit} />
                </td>
                <td>
                  <Rate health={t.health} />
                </td>
                <td class="num">{count(t.health?.attempts ?? 0)}</td>
                <td class="num">{duration(t.health?.p95Ms ?? null)}</td>
                <td>
                  <Ago at={t.health?.lastSuccessAt ?? null} now={now} />
                </td>
                <td class="num">{count(t.health?.backlog ?? 0)}</td>
                <td class="num">
                  {(t.health?.failed ?? 0) > 0 ? (
                    <a
                      class="bad strong"
                      href={`/deliveries?status=failed&target=${encodeURIComponent(t.id)}&since=24h`}
                    >
                      {count(t.health?.failed ?? 0)}
                    </a>
                  ) : (
                    <span class="muted">0</span>
                  )}
                </td>
                <td>
                  <PauseControl target={t} env={props.env} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      {props.data.setAside.total > 0 ? <SetAsidePanel data={props.data.setAside} now={now} /> : null}
      <section class="panel" id="events-panel" data-live>
        <header class="panel-head">
          <h2>Events received</h2>
          <span class="muted">
            <strong>{count(totalHour)}</strong> last hour · <strong>{count(totalDay)}</strong> last 24 h
          </span>
        </header>
        <div class="events-split">
          <HourlyChart perHour={overview.eventsPerHour} />
          <Table
            compact
            headings={["Source", { text: "Last hour", class: "num" }, { text: "Last 24 h", class: "num" }]}
          >
            {sourceIds.map((id) => {
              const n = overview.eventsBySource.get(id) ?? { hour: 0, day: 0 };
              return (
                <tr data-source={id}>
                  <td>
                    <a href={`/events?source=${encodeURIComponent(id)}`}>{id}</a>
                    {sources.includes(id) ? null : <span class="tag">not configured</span>}
                  </td>
                  <td class="num">{count(n.hour)}</td>
                  <td class="num">{count(n.day)}</td>
                </tr>
              );
            })}
          </Table>
        </div>
      </section>
    </Layout>
  );
};
