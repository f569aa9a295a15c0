import { AUDIT_ACTIONS } from "@hookline/db";
import type { AuditJson } from "@hookline/operations";
import { Layout } from "./layout";
import {
  Empty,
  ErrorAlert,
  FilterActions,
  type PageEnv,
  Pager,
  SelectField,
  SinceField,
  Stamp,
  TextField,
} from "./parts";

export interface AuditLogData {
  /** As the API shows them: free text already redacted. */
  readonly entries: readonly AuditJson[];
  readonly nextCursor: string | null;
  /** The query as given: the filter form shows it back. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** A filter that could not be read; the list is then empty. */
  readonly error: string | null;
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
  const active = ["actor", "action", "since", "until"].some((k) => p[k]);
  return (
    <Layout title="Audit" nav="audit" env={env}>
      <div class="page-head">
        <h1>Audit</h1>
        <p class="muted">
          Who retried, replayed, paused, resumed, purged or signed in, newest first. Rows are written with the
          change they record.
        </p>
      </div>
      <form method="get" action="/audit" class="filters">
        <TextField label="Actor" name="actor" current={p.actor} placeholder="e.g. ops, dashboard:ops, cli" />
        <SelectField
          label="Action"
          name="action"
          current={p.action}
          choices={[["", "Any action"], ...AUDIT_ACTIONS]}
        />
        <SinceField label="When" current={p.since} />
        {p.until ? <input type="hidden" name="until" value={p.until} /> : null}
        <FilterActions clearHref={active ? "/audit" : null} />
      </form>
      <ErrorAlert error={data.error} />
      <section class="panel flush" id="audit-list" data-live>
        {data.entries.length === 0 ? (
          <Empty>
            {data.error ? "Fix the filter above to see the log." : "No audit entries match these filters."}
          </Empty>
        ) : (
          <table class="table" data-table="audit">
            <thead>
              <tr>
                <th>When</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Subject</th>
                <th>Details</th>
                <th>Address</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        )}
      </section>
      <Pager here={env.here} cursor={p.cursor} nextCursor={data.nextCursor} />
    </Layout>
  );
};
