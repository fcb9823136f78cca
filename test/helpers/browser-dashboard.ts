// Everything a dashboard browser test starts with: the bundle built as
// `make build-web` builds it, a migrated embedded database filled with the
// known population (browser-data.ts), users, the real server in this
// process behind a TCP relay (so a test can cut the network or swap the
// server), and one browser. Plus the waits and logins the tests share.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Storage } from '../../src/storage/index.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { UserStore } from '../../src/dashboard/auth/user-store.js';
import type { Role } from '../../src/dashboard/api-types.js';
import { openTestStorage, storageScratchDir } from './storage-fixture.js';
import { fillBrowserData, type BrowserData } from './browser-data.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { repoRoot } from './paths.js';
import { TcpRelay } from './tcp-relay.js';
import { memoryLogger } from './memory-logger.js';
import type { Teardown } from './scratch-dir.js';

export interface TestUser {
  name: string;
  role: Role;
  password: string;
}

export interface BrowserDashboard {
  storage: Storage;
  data: BrowserData;
  /** the running server (replaced by restart()) */
  server: Dashboard;
  relay: TcpRelay;
  /** the address the browser uses (the relay) */
  base: string;
  browser: TestBrowser;
  wallToken: string;
  /** every line the server logged (JSON records) */
  serverLog: string[];
  /** starts a new server on another port and points the relay at it */
  restart(): Promise<Dashboard>;
}

export async function startBrowserDashboard(t: Teardown, users: TestUser[]): Promise<BrowserDashboard> {
  const scratch = storageScratchDir(t);
  const webDir = buildTestBundle(scratch);
  const storage = await openTestStorage(t);
  const data = await fillBrowserData(storage, scratch);
  // low scrypt cost: the tests log in, they do not measure hashing
  const store = new UserStore(storage, 1024);
  for (const u of users) await store.add(u.name, u.role, u.password);
  const { token: wallToken } = await store.createToken('wall-1');

  const { log, lines: serverLog } = memoryLogger('ja4-dashboard');
  const start = (): Promise<Dashboard> => startDashboard(storage, { listen: '127.0.0.1:0', log, scryptCost: 1024, webDir });
  const dash: BrowserDashboard = {
    storage,
    data,
    server: await start(),
    relay: undefined as unknown as TcpRelay,
    base: '',
    browser: undefined as unknown as TestBrowser,
    wallToken,
    serverLog,
    async restart(): Promise<Dashboard> {
      dash.server = await start();
      dash.relay.retarget(dash.server.port);
      return dash.server;
    },
  };
  t.teardown(() => dash.server.stop());
  // The browser reaches the server through a relay, so a test can take the
  // network away and bring a new server back behind the same address, as a
  // restart behind a load balancer would.
  dash.relay = new TcpRelay(dash.server.port);
  await dash.relay.listen();
  t.teardown(() => dash.relay.close());
  dash.base = `http://127.0.0.1:${dash.relay.port}`;
  dash.browser = await launchBrowser(t, dash.base);
  return dash;
}

/**
 * The bundle as `make build-web` makes it, but into the test's own folder:
 * test files run in parallel, and a build replaces its output folder.
 */
export function buildTestBundle(scratch: string): string {
  const webDir = join(scratch, 'web-dist');
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-web.mjs'), '--out', webDir], { stdio: 'pipe' });
  return webDir;
}

/**
 * Waits until the page element for the current URL has loaded its data
 * and every Lit element (charts, tables) has rendered it. Page elements
 * set `loading` in the same update that receives a new route, so "route
 * matches the URL, no update pending, not loading" means done.
 */
export async function settle(p: Page): Promise<void> {
  await p.waitForFunction(() => {
    const main = document.querySelector('ja4-app')?.shadowRoot?.querySelector('main');
    const pageEl = main?.firstElementChild as unknown as { hasUpdated?: boolean; loading?: boolean; route?: { path: string; query: URLSearchParams } } | null | undefined;
    if (!pageEl?.hasUpdated || pageEl.route?.path !== location.pathname) return false;
    if (pageEl.route.query.toString() !== new URLSearchParams(location.search).toString() || pageEl.loading === true) return false;
    const busy = (root: Document | ShadowRoot): boolean => {
      for (const el of root.querySelectorAll('*')) {
        if ((el as unknown as { isUpdatePending?: boolean }).isUpdatePending === true) return true;
        if (el.shadowRoot && busy(el.shadowRoot)) return true;
      }
      return false;
    };
    return !busy(document);
  });
}

/** Logs in through the form and waits for the page it returns to. */
export async function logIn(page: Page, base: string, user: TestUser, next = '/'): Promise<void> {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}${next}`);
  await settle(page);
}
