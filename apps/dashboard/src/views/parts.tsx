import type { CircuitState } from "@hookline/metrics";
import type { Child } from "hono/jsx";
import { relative, utc } from "../format";

export type Nav = "overview" | "events" | "deliveries" | "audit";

export interface Flash {
  readonly kind: "ok" | "error";
  readonly text: string;
  /** A link to follow up (the event of a retried delivery). */
  readonly href?: string;
  readonly linkText?: string;
}

/** What every signed-in page needs besides its data. */
export interface PageEnv {
  readonly csrf: string;
  /** The session's token has the operate role: the pages show their action buttons. */
  readonly canOperate: boolean;
  /** Who is signed in: the token's name and role, shown in the top bar. */
  readonly signedInAs: string;
  readonly now: number;
  /** This page's path and query: where a form's POST comes back to. */
  readonly here: string;
  readonly flash: Flash | null;
  readonly refreshSeconds: number;
  readonly assets: Assets;
}

export interface Assets {
  readonly css: string;
  readonly js: string;
  readonly icon: string;
}

export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;

export const Back = (props: { here: string }) => <input type="hidden" name="back" value={props.here} />;

export const StatusBadge = (props: { status: string }) => (
  <span class={`badge s-${props.status}`} data-status={props.status}>
    {props.status}
  </span>
);

export const CircuitBadge = (props: { state: CircuitState | "unknown" }) => {
  const label = props.state === "half_open" ? "half-open" : props.state;
  const cls =
    props.state === "closed"
      ? "s-succeeded"
      : props.state === "open"
        ? "s-failed"
        : props.state === "half_open"
          ? "s-retrying"
          : "s-unknown";
  return (
    <span class={`badge ${cls}`} data-circuit={props.state}>
      {label}
    </span>
  );
};

/** An HTTP status code, coloured by class; a dash when there was no answer. */
export const Code = (props: { code: number | null }) => {
  if (props.code === null) return <span class="code c-none">—</span>;
  const cls = props.code < 300 ? "c-2xx" : props.code < 400 ? "c-3xx" : props.code < 500 ? "c-4xx" : "c-5xx";
  return <span class={`code ${cls}`}>{props.code}</span>;
};

/** A relative time with the exact UTC time on hover. */
export const Ago = (props: { at: Date | null; now: number }) =>
  props.at ? (
    <time datetime={props.at.toISOString()} title={`${utc(props.at)} UTC`}>
      {relative(props.at, props.now)}
    </time>
  ) : (
    <span class="muted">—</span>
  );

/** An exact UTC time with the relative one beside it. */
export const When = (props: { at: Date; now: number }) => (
  <span class="when">
    <time datetime={props.at.toISOString()}>{utc(props.at)}</time> <span class="muted">UTC</span>{" "}
    <span class="muted">· {relative(props.at, props.now)}</span>
  </span>
);

/** `evt_0197a3c2…4f2a`: ids are long; the whole id is in the title and the link. */
export function shortId(id: string): string {
  const cut = id.indexOf("_") + 1;
  return id.length > cut + 14 ? `${id.slice(0, cut + 8)}…${id.slice(-4)}` : id;
}

/** A whole id: UUIDv7 ids share their leading (time) digits, so a shortened one says little. */
export const IdLink = (props: { id: string; href: string }) => (
  <a class="mono id" href={props.href}>
    {props.id}
  </a>
);

/** For table cells: the relative time, and the exact UTC time under it. */
export const Stamp = (props: { at: Date; now: number }) => (
  <time class="stamp" datetime={props.at.toISOString()}>
    <span>{relative(props.at, props.now)}</span>
    <span class="mono faint small">{utc(props.at)}</span>
  </time>
);

export const Empty = (props: { children: Child }) => <div class="empty">{props.children}</div>;

/** A column's heading: its text, or what it shows with its class (`num` aligns it right) and a hint. */
export type Heading = string | { readonly text: Child; readonly class: string; readonly title?: string };

/** A table with one row of headings; `children` are its body's rows. */
export const Table = (props: {
  headings: readonly Heading[];
  /** Less padding in its cells, for the smaller tables. */
  compact?: boolean;
  /** `data-table`: which list it is. */
  name?: string;
  children: Child;
}) => (
  <table class={props.compact ? "table compact" : "table"} data-table={props.name}>
    <thead>
      <tr>
        {props.headings.map((h) =>
          typeof h === "string" ? (
            <th>{h}</th>
          ) : (
            <th class={h.class} title={h.title}>
              {h.text}
            </th>
          ),
        )}
      </tr>
    </thead>
    <tbody>{props.children}</tbody>
  </table>
);

export const FlashBanner = (props: { flash: Flash | null }) =>
  props.flash ? (
    <div class={`flash flash-${props.flash.kind}`} role="status" id="flash">
      <span>{props.flash.text}</span>
      {props.flash.href ? (
        <a href={props.flash.href} class="flash-link">
          {props.flash.linkText ?? "Open"} →
        </a>
      ) : null}
    </div>
  ) : null;

/** Selected when the value matches; hono/jsx writes `selected` only when true. */
export const Option = (props: { value: string; current: string | undefined; children: Child }) => (
  <option value={props.value} selected={props.value === (props.current ?? "")}>
    {props.children}
  </option>
);

/** One choice of a drop-down: a value shown as itself, or a value and its label. */
export type Choice = string | readonly [value: string, label: string];

/** A labelled filter drop-down; the choice whose value is `current` is selected. */
export const SelectField = (props: {
  label: string;
  name: string;
  current: string | undefined;
  choices: readonly Choice[];
}) => (
  <label class="field">
    <span>{props.label}</span>
    <select name={props.name}>
      {props.choices.map((choice) => {
        const [value, label] = typeof choice === "string" ? [choice, choice] : choice;
        return (
          <Option value={value} current={props.current}>
            {label}
          </Option>
        );
      })}
    </select>
  </label>
);

/** A free-text filter. */
export const TextField = (props: {
  label: string;
  name: string;
  current: string | undefined;
  placeholder: string;
  type?: "text" | "search";
  grow?: boolean;
}) => (
  <label class={props.grow ? "field grow" : "field"}>
    <span>{props.label}</span>
    <input
      type={props.type ?? "text"}
      name={props.name}
      value={props.current ?? ""}
      placeholder={props.placeholder}
      spellcheck={false}
    />
  </label>
);

/** The `since` filter: the usual time windows, plus the given `since` when it is none of them (from a link). */
export const SinceField = (props: { label: string; current: string | undefined }) => {
  const since = props.current;
  const other: Choice[] =
    since && !TIME_WINDOWS.some(([v]) => v === since) ? [[since, `Since ${since}`]] : [];
  return (
    <SelectField label={props.label} name="since" current={since} choices={[...TIME_WINDOWS, ...other]} />
  );
};

/** A filter form's buttons: Apply, and Clear (to `clearHref`) when some filter is set. */
export const FilterActions = (props: { clearHref: string | null }) => (
  <div class="field actions">
    <button type="submit" class="btn primary">
      Apply
    </button>
    {props.clearHref === null ? null : (
      <a class="btn ghost" href={props.clearHref}>
        Clear
      </a>
    )}
  </div>
);

/** A filter (or sign-in) error, above what it kept from showing. */
export const ErrorAlert = (props: { error: string | null }) =>
  props.error ? (
    <div class="flash flash-error" role="alert">
      {props.error}
    </div>
  ) : null;

/** Back to the newest page, and on to older ones while there are. */
export const Pager = (props: { here: string; cursor: string | undefined; nextCursor: string | null }) => (
  <nav class="pager">
    {props.cursor ? (
      <a class="btn ghost" href={withParams(props.here, { cursor: undefined })}>
        ← Newest
      </a>
    ) : (
      <span />
    )}
    {props.nextCursor ? (
      <a class="btn ghost" href={withParams(props.here, { cursor: props.nextCursor })} rel="next">
        Older →
      </a>
    ) : null}
  </nav>
);

/** A link to the same page with some query parameters changed (undefined removes one). */
export function withParams(path: string, params: Record<string, string | undefined>): string {
  const url = new URL(path, "http://x");
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === "") url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  const query = url.searchParams.toString();
  return `${url.pathname}${query ? `?${query}` : ""}`;
}

export const TIME_WINDOWS: ReadonlyArray<readonly [string, string]> = [
  ["", "Any time"],
  ["15m", "Last 15 minutes"],
  ["1h", "Last hour"],
  ["6h", "Last 6 hours"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
];
