// What the list pages (events, deliveries, audit) share: the page around the list, the filter
// form's frame, and the list's panel with what it says when nothing is listed.
import type { Child } from "hono/jsx";
import { Layout } from "./layout";
import {
  Empty,
  ErrorAlert,
  FilterActions,
  type Nav,
  type PageEnv,
  Pager,
  SelectField,
  withParams,
} from "./parts";

/** What every list page is given besides its rows. */
export interface ListPageData {
  readonly nextCursor: string | null;
  /** The query as given: the filter form shows it back. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** A filter that could not be read; the list is then empty. */
  readonly error: string | null;
}

/** Title and what the page lists, then its filters, the filter's error, the list and the pager. */
export const ListPage = (props: {
  title: string;
  nav: Nav;
  env: PageEnv;
  data: ListPageData;
  intro: Child;
  filters: Child;
  children: Child;
}) => (
  <Layout title={props.title} nav={props.nav} env={props.env}>
    <div class="page-head">
      <h1>{props.title}</h1>
      <p class="muted">{props.intro}</p>
    </div>
    {props.filters}
    <ErrorAlert error={props.data.error} />
    {props.children}
    <Pager here={props.env.here} cursor={props.data.params.cursor} nextCursor={props.data.nextCursor} />
  </Layout>
);

/**
 * The filters: a GET form to the list's own path, with Apply, and Clear while any of `filters` is
 * set in `params` (back to the list with only what `keep` names).
 */
export const FilterForm = (props: {
  action: string;
  params: ListPageData["params"];
  filters: readonly string[];
  /** What Clear keeps: the deliveries' status tab. */
  keep?: Readonly<Record<string, string | undefined>>;
  children: Child;
}) => {
  const active = props.filters.some((name) => props.params[name]);
  return (
    <form method="get" action={props.action} class="filters">
      {props.children}
      <FilterActions clearHref={active ? withParams(props.action, props.keep ?? {}) : null} />
    </form>
  );
};

/** A filter by one of the configured sources or targets (all of them when none is chosen). */
export const ConfiguredField = (props: {
  kind: "source" | "target";
  current: string | undefined;
  ids: readonly string[];
}) => (
  <SelectField
    label={props.kind === "source" ? "Source" : "Target"}
    name={props.kind}
    current={props.current}
    choices={[["", `All ${props.kind}s`], ...props.ids]}
  />
);

/**
 * The list, refreshed live by its id; with no rows, why: the filter to fix (`error`) or `none`.
 * `noun` names what is listed in "Fix the filter above to see …".
 */
export const ListPanel = (props: {
  id: string;
  rows: number;
  error: string | null;
  noun: string;
  none: string;
  children: Child;
}) => (
  <section class="panel flush" id={props.id} data-live>
    {props.rows === 0 ? (
      <Empty>{props.error ? `Fix the filter above to see ${props.noun}.` : props.none}</Empty>
    ) : (
      props.children
    )}
  </section>
);
