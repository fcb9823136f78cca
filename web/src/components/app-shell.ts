// <ja4-app>: the shell. It restores the session, sends a visitor without
// one to /login (keeping where they were going), shows the navigation the
// user's role allows, and renders the page for the current route. The wall
// (/wall) gets the whole screen: no navigation, and a wall token (given in
// the fragment, /wall#token=..., see api/wall-token.ts) instead of a
// session, so a screen in a SOC needs no login.
import { LitElement, css, html, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from '../api/client.js';
import { feed, type FeedStatus } from '../api/live-feed.js';
import { forgetWallToken, takeWallToken } from '../api/wall-token.js';
import { router } from '../router/router.js';
import { NAV, PAGE_ROLES, type Route } from '../router/routes.js';
import { applyTheme, currentTheme } from '../theme.js';
import { roleAtLeast, errorText } from '../pages/page-base.js';
import type { SessionInfo } from '../../../src/dashboard/api-types.js';

const PAGES: Record<Route['page'], (route: Route) => TemplateResult> = {
  overview: (r) => html`<ja4-overview-page .route=${r}></ja4-overview-page>`,
  login: (r) => html`<ja4-login-page .route=${r}></ja4-login-page>`,
  detections: (r) => html`<ja4-detections-page .route=${r}></ja4-detections-page>`,
  ja4: (r) => html`<ja4-ja4-page .route=${r}></ja4-ja4-page>`,
  ip: (r) => html`<ja4-ip-page .route=${r}></ja4-ip-page>`,
  campaigns: (r) => html`<ja4-campaigns-page .route=${r}></ja4-campaigns-page>`,
  cluster: (r) => html`<ja4-cluster-page .route=${r}></ja4-cluster-page>`,
  logs: (r) => html`<ja4-logs-page .route=${r}></ja4-logs-page>`,
  model: (r) => html`<ja4-model-page .route=${r}></ja4-model-page>`,
  pipeline: (r) => html`<ja4-pipeline-page .route=${r}></ja4-pipeline-page>`,
  audit: (r) => html`<ja4-audit-page .route=${r}></ja4-audit-page>`,
  users: (r) => html`<ja4-users-page .route=${r}></ja4-users-page>`,
  wall: (r) => html`<ja4-wall-page .route=${r}></ja4-wall-page>`,
  'not-found': (r) => html`<ja4-not-found-page .route=${r}></ja4-not-found-page>`,
};

@customElement('ja4-app')
export class Ja4App extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 100vh;
    }
    header {
      display: flex;
      align-items: center;
      gap: 16px;
      padding: 8px 16px;
      background: var(--surface);
      border-bottom: 1px solid var(--border);
      flex-wrap: wrap;
    }
    .brand {
      font-weight: 700;
      color: var(--text);
      text-decoration: none;
    }
    nav ul {
      display: flex;
      gap: 4px;
      list-style: none;
      margin: 0;
      padding: 0;
      flex-wrap: wrap;
    }
    nav a {
      color: var(--text-muted);
      text-decoration: none;
      padding: 6px 10px;
      border-radius: 6px;
      display: block;
    }
    nav a[aria-current='page'] {
      color: var(--text);
      background: var(--surface-2);
    }
    nav a:hover {
      color: var(--text);
    }
    .spacer {
      flex: 1;
    }
    .user {
      display: flex;
      gap: 8px;
      align-items: center;
      color: var(--text-muted);
      font-size: 0.9em;
    }
    .dot {
      width: 8px;
      height: 8px;
      border-radius: 50%;
      display: inline-block;
      background: var(--level-medium);
    }
    .dot.open {
      background: var(--level-low);
    }
    .dot.closed {
      background: var(--level-critical);
    }
    button {
      font: inherit;
      color: var(--text);
      background: var(--surface-2);
      border: 1px solid var(--border);
      border-radius: 6px;
      padding: 4px 10px;
      cursor: pointer;
    }
    main {
      flex: 1;
      min-width: 0;
    }
    .denied {
      padding: var(--gap);
      color: var(--danger);
    }
    .skip {
      position: absolute;
      left: -999px;
    }
    .skip:focus {
      left: 8px;
      top: 8px;
      background: var(--surface);
      padding: 4px 8px;
      z-index: 10;
    }
  `;

  @state() private route: Route = router.current;
  @state() private session: SessionInfo | null = null;
  @state() private ready = false;
  @state() private feedStatus: FeedStatus = feed.status;
  @state() private bootError = '';

  override connectedCallback(): void {
    super.connectedCallback();
    router.subscribe((r) => this.#onRoute(r));
    api.addEventListener('session', (e) => (this.session = (e as CustomEvent<SessionInfo | null>).detail));
    api.addEventListener('unauthorized', () => {
      // the session expired or was revoked: no point reconnecting the feed
      if (this.route.page !== 'wall') feed.stop();
      this.#toLogin();
    });
    // The feed refused (4001): ask the API whether the session is still good.
    feed.addEventListener('unauthorized', () => {
      void api.restore().then((s) => (s === null ? this.#toLogin() : undefined), () => undefined);
    });
    feed.addEventListener('status', (e) => (this.feedStatus = (e as CustomEvent<FeedStatus>).detail));
    void this.#boot();
  }

  async #boot(): Promise<void> {
    const token = this.route.page === 'wall' ? takeWallToken() : undefined;
    if (token !== undefined) {
      // A wall screen may be switched on before the server is up: it never
      // goes to the login page for want of an answer; the feed retries until
      // the server is there (a refused token closes it with 4001, which does
      // send it to the login page).
      api.wallToken = token;
      try {
        this.session = await api.restore();
      } catch {
        // the server is away: the wall says so and the feed keeps trying
      }
      this.ready = true;
      feed.start(token);
      return;
    }
    // The login page needs no session; asking for one there would only log
    // an expected 401 in the console.
    if (this.route.page !== 'login') {
      try {
        this.session = await api.restore();
      } catch (err) {
        this.bootError = errorText(err);
      }
    }
    this.ready = true;
    if (this.session === null && this.route.page !== 'login') this.#toLogin();
    else if (this.session !== null) feed.start(token);
  }

  #onRoute(r: Route): void {
    this.route = r;
    if (this.ready && this.session === null && r.page !== 'login' && api.wallToken === undefined) this.#toLogin();
    if (this.session !== null) feed.start(api.wallToken);
  }

  #toLogin(): void {
    if (this.route.page === 'login') return;
    // a refused wall token is not tried again on the next reload of this tab
    if (api.wallToken !== undefined) forgetWallToken();
    const next = this.route.path + (this.route.query.toString() ? `?${this.route.query.toString()}` : '');
    router.navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
  }

  async #logout(): Promise<void> {
    feed.stop();
    try {
      await api.logout();
    } catch {
      // the session is gone locally either way
    }
    router.navigate('/login');
  }

  #toggleTheme(): void {
    applyTheme(currentTheme() === 'dark' ? 'light' : 'dark');
    this.requestUpdate();
  }

  override render() {
    if (!this.ready) return html`<main aria-busy="true"></main>`;
    const page = PAGES[this.route.page](this.route);
    if (this.route.page === 'wall' || this.route.page === 'login' || this.session === null) {
      return html`${this.bootError ? html`<p role="alert">${this.bootError}</p>` : ''}<main>${page}</main>`;
    }
    const role = this.session.user.role;
    const theme = currentTheme();
    const needed = PAGE_ROLES[this.route.page];
    const content =
      needed !== undefined && !roleAtLeast(role, needed)
        ? html`<p class="denied" role="alert">This page needs the ${needed} role; you are ${role}.</p>`
        : page;
    return html`<a class="skip" href="#main">Skip to content</a>
      <header>
        <a class="brand" href="/">JA4 dashboard</a>
        <nav aria-label="main">
          <ul>
            ${NAV.filter((n) => n.minRole === undefined || roleAtLeast(role, n.minRole)).map(
              (n) => html`<li><a href=${n.path} aria-current=${n.page === this.route.page ? 'page' : 'false'}>${n.label}</a></li>`,
            )}
          </ul>
        </nav>
        <span class="spacer"></span>
        <span class="user">
          <span class="dot ${this.feedStatus}" title="live feed: ${this.feedStatus}" aria-label="live feed ${this.feedStatus}"></span>
          <span>${`${this.session.user.name} (${role})`}</span>
          <button @click=${() => this.#toggleTheme()} aria-label="switch to ${theme === 'dark' ? 'light' : 'dark'} theme">
            ${theme === 'dark' ? '☀' : '☾'}
          </button>
          ${this.session.via === 'session' ? html`<button @click=${() => this.#logout()}>Log out</button>` : ''}
        </span>
      </header>
      <main id="main" tabindex="-1">${content}</main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-app': Ja4App;
  }
}
