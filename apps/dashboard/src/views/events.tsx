import type { EventSummary } from "@hookline/db";
import { bytes, count } from "../format";
import { ConfiguredField, FilterForm, ListPage, type ListPageData, ListPanel } from "./list";
import { IdLink, type PageEnv, SelectField, SinceField, Stamp, Table, TextField } from "./parts";

export interface EventLogData extends ListPageData {
  readonly events: readonly EventSummary[];
  readonly sources: readonly string[];
  readonly targets: readonly string[];
}

const DeliveryCounts = (props: { d: EventSummary["deliveries"] }) => {
  const parts: Array<[string, number]> = [
    ["succeeded", props.d.succeeded],
    ["failed", props.d.failed],
    ["retrying", props.d.retrying],
    ["pending", props.d.pending],
  ];
  const shown = parts.filter(([, n]) => n > 0);
  if (shown.length === 0) return <span class="muted">none routed</span>;
  return (
    <span class="counts">
      {shown.map(([status, n]) => (
        <span class={`pill s-${status}`} title={`${n} ${status}`}>
          {n} {status}
        </span>
      ))}
    </span>
  );
};

export const EventFilterForm = (props: {
  params: EventLogData["params"];
  sources: readonly string[];
  targets: readonly string[];
}) => {
  const p = props.params;
  return (
    <FilterForm
      action="/events"
      params={p}
      filters={["q", "source", "type", "status", "target", "since", "until"]}
    >
      <TextField
        label="Search"
        name="q"
        current={p.q}
        placeholder="Event id (evt_…) or provider reference"
        type="search"
        grow
      />
      <ConfiguredField kind="source" current={p.source} ids={props.sources} />
      <TextField label="Type" name="type" current={p.type} placeholder="e.g. case.created" />
      <SelectField
        label="Delivery status"
        name="status"
        current={p.status}
        choices={[["", "Any"], "failed", "retrying", "pending", "succeeded"]}
      />
      <ConfiguredField kind="target" current={p.target} ids={props.targets} />
      <SinceField label="Received" current={p.since} />
      {p.until ? <input type="hidden" name="until" value={p.until} /> : null}
    </FilterForm>
  );
};

export const EventLogPage = (props: { data: EventLogData; env: PageEnv }) => {
  const { data, env } = props;
  const { events } = data;
  return (
    <ListPage
      title="Events"
      nav="events"
      env={env}
      data={data}
      intro="Every verified webhook, newest first, with where its deliveries stand."
      filters={<EventFilterForm params={data.params} sources={data.sources} targets={data.targets} />}
    >
      <ListPanel
        id="event-list"
        rows={events.length}
        error={data.error}
        noun="events"
        none="No events match these filters."
      >
        <Table
          name="events"
          headings={[
            "Received",
            "Event",
            "Source",
            "Type",
            "Provider reference",
            { text: "Size", class: "num" },
            "Deliveries",
          ]}
        >
          {events.map((e) => (
            <tr data-event-id={e.id} class={e.deliveries.failed > 0 ? "row-failed" : undefined}>
              <td class="nowrap">
                <Stamp at={e.receivedAt} now={env.now} />
              </td>
              <td>
                <IdLink id={e.id} href={`/events/${e.id}`} />
              </td>
              <td>{e.sourceId}</td>
              <td>
                {e.eventType ? <span class="mono small">{e.eventType}</span> : <span class="muted">—</span>}
              </td>
              <td class="mono small ellipsis" title={e.providerId ?? ""}>
                {e.providerId ?? <span class="muted">—</span>}
              </td>
              <td class="num">
                {bytes(e.bodySize)}
                {e.duplicateCount > 0 ? (
                  <span class="tag" title="the provider sent it again; folded into this event">
                    +{count(e.duplicateCount)} dup
                  </span>
                ) : null}
              </td>
              <td>
                <DeliveryCounts d={e.deliveries} />
              </td>
            </tr>
          ))}
        </Table>
      </ListPanel>
    </ListPage>
  );
};
