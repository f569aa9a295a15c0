import type { Child } from "hono/jsx";
import { type Assets, Csrf, ErrorAlert, FlashBanner, type Nav, type PageEnv } from "./parts";

const Head = (props: { title: string; assets: Assets }) => (
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="same-origin" />
    <title>{`${props.title} · Hookline`}</title>
    <link rel="icon" type="image/svg+xml" href={props.assets.icon} />
    <link rel="stylesheet" href={props.assets.css} />
    <script src={props.assets.js} defer />
  </head>
);

const Brand = (props: { icon: string }) => (
  <a class="brand" href="/">
    <img src={props.icon} alt="" width="22" height="22" />
    <span>Hookline</span>
  </a>
);

const NAV: ReadonlyArray<readonly [Nav, string, string]> = [
  ["overview", "/", "Overview"],
  ["events", "/events", "Events"],
  ["deliveries", "/deliveries", "Failed deliveries"],
  ["audit", "/audit", "Audit"],
];

/** A signed-in page: the top bar (navigation, live indicator, log out) and the content. */
export const Layout = (props: { title: string; nav: Nav; env: PageEnv; children: Child }) => (
  <html lang="en">
    <Head title={props.title} assets={props.env.assets} />
    <body data-refresh={String(props.env.refreshSeconds)}>
      <header class="topbar">
        <Brand icon={props.env.assets.icon} />
        <nav>
          {NAV.map(([key, href, label]) => (
            <a href={href} class={key === props.nav ? "active" : undefined} data-nav={key}>
              {label}
            </a>
          ))}
        </nav>
        <div class="topbar-right">
          <button type="button" class="live" id="live" title="Pages refresh while open; click to pause">
            <span class="dot" />
            <span class="live-text">Live</span>
          </button>
          <span class="muted small" data-signed-in-as>
            {props.env.signedInAs}
          </span>
          <form method="post" action="/logout">
            <Csrf token={props.env.csrf} />
            <button type="submit" class="linkish">
              Log out
            </button>
          </form>
        </div>
      </header>
      <main>
        <FlashBanner flash={props.env.flash} />
        {props.children}
      </main>
    </body>
  </html>
);

/** A page for people who are not signed in: login, disabled, errors before login. */
export const Bare = (props: { title: string; assets: Assets; children: Child }) => (
  <html lang="en">
    <Head title={props.title} assets={props.assets} />
    <body class="bare">
      <div class="bare-box">
        <div class="bare-brand">
          <img src={props.assets.icon} alt="" width="28" height="28" />
          <span>Hookline</span>
        </div>
        {props.children}
      </div>
    </body>
  </html>
);

export const LoginPage = (props: { assets: Assets; next: string; error: string | null }) => (
  <Bare title="Sign in" assets={props.assets}>
    <h1>Sign in to the dashboard</h1>
    <p class="muted">
      Enter one of this server's admin tokens (HOOKLINE_ADMIN_TOKEN or one of <code>admin.tokens</code>).
    </p>
    <ErrorAlert error={props.error} />
    <form method="post" action="/login" class="login">
      <input type="hidden" name="next" value={props.next} />
      <label for="token">Admin token</label>
      <input
        id="token"
        name="token"
        type="password"
        autocomplete="current-password"
        required
        autofocus
        spellcheck={false}
      />
      <button type="submit" class="btn primary">
        Sign in
      </button>
    </form>
    <p class="fine">The session lasts 12 hours. The token itself is never stored in your browser.</p>
  </Bare>
);

export const DisabledPage = (props: { assets: Assets }) => (
  <Bare title="Dashboard disabled" assets={props.assets}>
    <h1>The dashboard is disabled</h1>
    <p>
      The dashboard and the admin API need an admin token, and this server was started without one. Set{" "}
      <code>HOOKLINE_ADMIN_TOKEN</code> to a long random value (or list tokens under <code>admin.tokens</code>{" "}
      in the config) and restart:
    </p>
    <pre class="snippet">{"export HOOKLINE_ADMIN_TOKEN=$(openssl rand -hex 32)\npnpm start"}</pre>
    <p class="muted">
      Then open this page again and sign in with that token. <code>/metrics</code> and <code>/healthz</code>{" "}
      are served without it.
    </p>
  </Bare>
);

export const MessagePage = (props: { assets: Assets; title: string; message: string; link?: boolean }) => (
  <Bare title={props.title} assets={props.assets}>
    <h1>{props.title}</h1>
    <p>{props.message}</p>
    {props.link === false ? null : (
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    )}
  </Bare>
);
