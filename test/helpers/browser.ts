// A real browser for the dashboard tests: playwright-core driving the
// system's Chromium (Debian's /usr/bin/chromium, installed by
// scripts/setup.sh; JA4_CHROMIUM overrides). One browser per test file,
// pages reused. Every console error and uncaught page error is collected,
// so a test can assert there were none; screenshots go to
// test-artifacts/screenshots/ (git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './paths.js';
import type { Teardown } from './scratch-dir.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib64/chromium-browser/headless_shell', '/usr/bin/google-chrome'];

/** The Chromium binary to drive, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const env = process.env.JA4_CHROMIUM;
  if (env) return env;
  return CANDIDATES.find((p) => existsSync(p));
}

export const SCREENSHOT_DIR = join(repoRoot, 'test-artifacts', 'screenshots');

export interface BrowserProblem {
  page: string;
  kind: 'console' | 'pageerror' | 'requestfailed' | 'http';
  text: string;
}

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  /** console errors, uncaught exceptions, failed requests and HTTP errors of every page so far */
  problems: BrowserProblem[];
  /** a new tab with problem collection attached */
  newPage(): Promise<Page>;
  /** saves test-artifacts/screenshots/<name>.png and returns its path */
  screenshot(page: Page, name: string): Promise<string>;
  /** time spent taking screenshots so far */
  readonly screenshotMs: number;
}

export async function launchBrowser(t: Teardown, baseURL: string): Promise<TestBrowser> {
  const executablePath = findChromium();
  if (executablePath === undefined) throw new Error('no Chromium found (scripts/setup.sh installs it; or set JA4_CHROMIUM)');
  // --no-sandbox: the suites run as root in CI containers, where Chromium's
  // sandbox cannot start.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 }, colorScheme: 'dark', reducedMotion: 'reduce' });
  const problems: BrowserProblem[] = [];
  let screenshotMs = 0;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    context,
    problems,
    async newPage(): Promise<Page> {
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push({ page: page.url(), kind: 'console', text: msg.text() });
      });
      page.on('pageerror', (err) => problems.push({ page: page.url(), kind: 'pageerror', text: err.message }));
      page.on('response', (res) => {
        if (res.status() >= 400) problems.push({ page: page.url(), kind: 'http', text: `${res.request().method()} ${res.url()}: HTTP ${res.status()}` });
      });
      page.on('requestfailed', (req) => {
        // navigation away aborts pending fetches on purpose; that is no fault
        const failure = req.failure()?.errorText ?? '';
        if (failure !== 'net::ERR_ABORTED') problems.push({ page: page.url(), kind: 'requestfailed', text: `${req.url()}: ${failure}` });
      });
      return page;
    },
    async screenshot(page: Page, name: string): Promise<string> {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      const started = performance.now();
      if (process.env.JA4_SCREENSHOTS !== '0') await page.screenshot({ path }); // the viewport: full-page captures of the long pages cost seconds each
      screenshotMs += performance.now() - started;
      return path;
    },
    get screenshotMs(): number {
      return screenshotMs;
    },
  };
}

export interface ChartState {
  id: string;
  kind: string;
  /** data points across all series (the chart.js instance's datasets) */
  points: number;
  /** sum of the data values */
  total: number;
  /** the canvas has drawn (non-transparent) pixels */
  drawn: boolean;
}

/**
 * Every <ja4-chart> on the page (inside shadow roots too) with what its
 * chart.js instance holds and whether its canvas has pixels on it.
 */
export async function chartStates(page: Page): Promise<ChartState[]> {
  return page.evaluate(() => {
    const found: Element[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of root.querySelectorAll('*')) {
        if (el.tagName === 'JA4-CHART') found.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return found.map((el) => {
      const chart = (el as unknown as { chart?: { data: { datasets: { data: unknown[] }[] } } }).chart;
      const values = chart?.data.datasets.flatMap((d) => d.data.map(Number)) ?? [];
      const canvas = el.shadowRoot?.querySelector('canvas');
      let drawn = false;
      if (canvas && canvas.width > 0 && canvas.height > 0) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4 * 7) {
          if (px[i] !== 0) {
            drawn = true;
            break;
          }
        }
      }
      return { id: el.id, kind: el.getAttribute('kind') ?? '', points: values.length, total: values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0), drawn };
    });
  });
}

/** Text of the page with shadow roots flattened (what a user reads). */
export async function deepText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const parts: string[] = [];
    const walk = (node: Node): void => {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
      const el = node as Element;
      if (el.shadowRoot) walk(el.shadowRoot);
      for (const child of node.childNodes) walk(child);
    };
    walk(document.body);
    return parts.join(' ').replace(/\s+/g, ' ');
  });
}
