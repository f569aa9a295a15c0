import { AUDIT_ACTIONS } from "@hookline/db";
import type { AuditJson } from "@hookline/operations";
import { FilterForm, ListPage, type ListPageData, ListPanel } from "./list";
import { type PageEnv, SelectField, SinceField, Stamp, Table, TextField } from "./parts";

export interface AuditLogData extends ListPageData {
  /** As the API shows them: free text already redacted. */
  readonly entries: readonly AuditJson[];
}

/** `details` in one line: `retried=12 force=false`; nested values as JSON. */
function detailsText(details: Readonly<Record<string, unknown>>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

export const AuditLogPage = (props: { data: AuditLogData; env: PageEnv }) => {
  const { data, env } = props;
  const p = data.params;
  return (
    <ListPage
      title="Audit"
      nav="audit"
      env={env}
      data={data}
      intro="Who retried, replayed, paused, resumed, purged or signed in, newest first. Rows are written with the change they record."
      filters={
        <FilterForm action="/audit" params={p} filters={["actor", "action", "since", "until"]}>
          <TextField
            label="Actor"
            name="actor"
            current={p.actor}
            placeholder="e.g. ops, dashboard:ops, cli"
          />
          <SelectField
            label="Action"
            name="action"
            current={p.action}
            choices={[["", "Any action"], ...AUDIT_ACTIONS]}
          />
          <SinceField label="When" current={p.since} />
          {p.until ? <input type="hidden" name="until" value={p.until} /> : null}
        </FilterForm>
      }
    >
      <ListPanel
        id="audit-list"
        rows={data.entries.length}
        error={data.error}
        noun="the log"
        none="No audit entries match these filters."
      >
        <Table name="audit" headings={["When", "Actor", "Action", "Subject", "Details", "Address"]}>
          {data.entries.map((a) => (
            <tr data-audit-id={a.id} class={a.action === "login_failed" ? "row-failed" : undefined}>
              <td class="nowrap">
                <Stamp at={new Date(a.at)} now={env.now} />
              </td>
              <td>{a.actor}</td>
              <td class="mono small">{a.action}</td>
              <td class="mono small ellipsis" title={a.subject ?? ""}>
                {a.subject ?? <span class="muted">—</span>}
              </td>
              <td class="small wrap">{detailsText(a.details)}</td>
              <td class="mono small">{a.ip ?? <span class="muted">—</span>}</td>
            </tr>
          ))}
        </Table>
      </ListPanel>
    </ListPage>
  );
};
