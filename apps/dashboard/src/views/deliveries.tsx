import type { DeliveryRow } from "@hookline/db";
import type { Redactor } from "@hookline/redact";
import type { Child } from "hono/jsx";
import { clip } from "../format";
import { ConfiguredField, FilterForm, ListPage, type ListPageData, ListPanel } from "./list";
import {
  Back,
  Code,
  Csrf,
  type Heading,
  IdLink,
  type PageEnv,
  SinceField,
  Stamp,
  StatusBadge,
  Table,
  withParams,
} from "./parts";

export interface DeliveriesData extends ListPageData {
  readonly deliveries: readonly DeliveryRow[];
  /** The status tab shown (the `status` parameter, `failed` when absent). */
  readonly status: string;
  readonly eventTypes: ReadonlyMap<string, string | null>;
  readonly sources: readonly string[];
  readonly targets: readonly string[];
  readonly redactor: Redactor;
}

const TABS: ReadonlyArray<readonly [string, string]> = [
  ["failed", "Failed"],
  ["retrying", "Retrying"],
  ["pending", "Pending"],
  ["succeeded", "Succeeded"],
  ["pending,retrying,failed,succeeded", "All"],
];

/** The checkbox column's heading: it selects every delivery on the page. */
const SELECT_ALL: Heading = {
  text: <input type="checkbox" data-select-all aria-label="Select all on this page" />,
  class: "check",
};

const TITLES: Readonly<Record<string, string>> = {
  failed: "Failed deliveries",
  retrying: "Retrying deliveries",
  pending: "Pending deliveries",
  succeeded: "Succeeded deliveries",
};

/** The list is one form (select, then retry); a read-only session gets the list alone. */
const BulkForm = (props: { env: PageEnv; children: Child }) =>
  props.env.canOperate ? (
    <form method="post" action="/deliveries/retry" class="bulk" id="bulk">
      <Csrf token={props.env.csrf} />
      <Back here={props.env.here} />
      {props.children}
    </form>
  ) : (
    <div class="bulk" id="bulk">
      {props.children}
    </div>
  );

export const DeliveriesPage = (props: { data: DeliveriesData; env: PageEnv }) => {
  const { data, env } = props;
  const p = data.params;
  const title = TITLES[data.status] ?? "Deliveries";
  // A read-only session sees no retry controls (the server refuses its POSTs anyway).
  const retryable = env.canOperate && !data.status.split(",").includes("succeeded");
  return (
    <ListPage
      title={title}
      nav="deliveries"
      env={env}
      data={data}
      intro={
        data.status === "failed"
          ? "Deliveries that used every attempt of their schedule. Fix the target, then retry them."
          : "Most recently changed first."
      }
      filters={
        <>
          <nav class="tabs">
            {TABS.map(([status, label]) => (
              <a
                href={withParams(env.here, {
                  status: status === "failed" ? undefined : status,
                  cursor: undefined,
                })}
                class={status === data.status ? "active" : undefined}
                data-tab={status}
              >
                {label}
              </a>
            ))}
          </nav>
          <FilterForm
            action="/deliveries"
            params={p}
            filters={["target", "source", "since", "event"]}
            keep={{ status: p.status }}
          >
            {data.status !== "failed" ? <input type="hidden" name="status" value={data.status} /> : null}
            <ConfiguredField kind="target" current={p.target} ids={data.targets} />
            <ConfiguredField kind="source" current={p.source} ids={data.sources} />
            <SinceField label="Last change" current={p.since} />
            {p.event ? <input type="hidden" name="event" value={p.event} /> : null}
          </FilterForm>
        </>
      }
    >
      <BulkForm env={env}>
        {retryable ? (
          <div class="bulk-bar">
            <button
              type="submit"
              class="btn primary"
              name="scope"
              value="selected"
              data-retry-selected
              disabled
            >
              Retry selected
            </button>
            {/* The filters "retry all matching" applies; prefixed so they never mix with a row's fields. */}
            <input type="hidden" name="filter_status" value={data.status} />
            {p.target ? <input type="hidden" name="filter_target" value={p.target} /> : null}
            {p.source ? <input type="hidden" name="filter_source" value={p.source} /> : null}
            {p.since ? <input type="hidden" name="filter_since" value={p.since} /> : null}
            {p.event ? <input type="hidden" name="filter_event" value={p.event} /> : null}
            <button
              type="submit"
              class="btn"
              name="scope"
              value="matching"
              data-confirm="Retry every delivery that matches these filters, not only this page?"
              data-action="retry-matching"
            >
              Retry all matching
            </button>
            <span class="muted small" data-selected-count>
              Select deliveries to retry them together.
            </span>
          </div>
        ) : null}
        <ListPanel
          id="delivery-list"
          rows={data.deliveries.length}
          error={data.error}
          noun="deliveries"
          none={
            data.status === "failed"
              ? "No failed deliveries match. Everything that was sent got through."
              : "No deliveries match these filters."
          }
        >
          <Table
            name="deliveries"
            headings={[
              ...(retryable ? [SELECT_ALL] : []),
              "Last change",
              "Target",
              "Event",
              "Status",
              { text: "Attempts", class: "num" },
              "Last answer",
              { text: "Actions", class: "right" },
            ]}
          >
            {data.deliveries.map((d) => {
              const error = d.lastError ? clip(data.redactor.text(d.lastError), 120) : null;
              const type = data.eventTypes.get(d.eventId);
              return (
                <tr data-delivery-id={d.id}>
                  {retryable ? (
                    <td class="check">
                      <input type="checkbox" name="id" value={d.id} aria-label={`Select ${d.id}`} />
                    </td>
                  ) : null}
                  <td class="nowrap">
                    <Stamp at={d.updatedAt} now={env.now} />
                  </td>
                  <td class="strong">{d.targetId}</td>
                  <td>
                    <IdLink id={d.eventId} href={`/events/${d.eventId}#delivery-${d.id}`} />
                    <div class="faint small">
                      {d.sourceId}
                      {type ? <span class="mono"> · {type}</span> : null}
                    </div>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td class="num">{d.attemptCount}</td>
                  <td class="answer">
                    <Code code={d.lastStatusCode} />
                    {error ? (
                      <span class="err" title={error.cut ? data.redactor.text(d.lastError ?? "") : undefined}>
                        {error.text}
                        {error.cut ? "…" : ""}
                      </span>
                    ) : null}
                  </td>
                  <td class="right nowrap">
                    {retryable ? (
                      <button
                        type="submit"
                        class="btn small"
                        formaction={`/deliveries/${d.id}/retry`}
                        data-action="retry"
                      >
                        Retry
                      </button>
                    ) : null}{" "}
                    {env.canOperate ? (
                      <button
                        type="submit"
                        class="btn small ghost"
                        formaction={`/events/${d.eventId}/replay`}
                        name="target"
                        value={d.targetId}
                        data-action="replay"
                        data-confirm={`Replay sends the event to ${d.targetId} again as a new delivery. Continue?`}
                      >
                        Replay
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </Table>
        </ListPanel>
      </BulkForm>
    </ListPage>
  );
};
