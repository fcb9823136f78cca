// The dashboard over traffic made by the real chain: the simulator's
// population (real ClientHello fingerprints, mod_reqin_log records, capture
// loss) correlated by the real correlator into the embedded database with
// the shipped reference data (data/reference/). No detector runs here, so
// the pages checked are those of traffic: the overview's figures against
// what the simulator emitted, the top JA4 opened from its link, the log
// explorer filtered on one simulated bot.
import t from 'tap';
import { join } from 'node:path';
import { loadReferenceData, TABLES } from '../src/storage/index.js';
import { simulate, type LabelRow } from '../src/simulator/index.js';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import { startDashboard, type Dashboard } from '../src/dashboard/server.js';
import { UserStore } from '../src/dashboard/auth/user-store.js';
import { openTestStorage, storageScratchDir } from './helpers/storage-fixture.js';
import { chartStates, deepText, findChromium, launchBrowser } from './helpers/browser.js';
import { buildTestBundle, logIn, settle, type TestUser } from './helpers/browser-dashboard.js';
import { repoRoot } from './helpers/paths.js';
import { silentLogger } from '../src/config/index.js';

const skip = findChromium() === undefined ? 'no Chromium installed (scripts/setup.sh installs it; or set JA4_CHROMIUM)' : false;
const ANALYST: TestUser = { name: 'ana', role: 'analyst', password: 'analyst password 123' };
/** 10 minutes of simulated traffic ending two minutes ago */
const DURATION_S = 600;
const RATE = 10;

t.test('the dashboard over simulated, correlated traffic', { skip }, async (t) => {
  const webDir = buildTestBundle(storageScratchDir(t));
  const storage = await openTestStorage(t);
  await loadReferenceData(storage, join(repoRoot, 'data', 'reference'));

  // simulator -> correlator (event clock: minutes of traffic load in seconds) -> http_logs_ingest
  const correlator = new BatchCorrelator({ clock: 'event' });
  const ips = new Set<string>();
  const labels = new Map<string, LabelRow>();
  let requests = 0;
  const ingest: string[] = [];
  const started = performance.now();
  const startUs = (Date.now() - (DURATION_S + 120) * 1000) * 1000;
  const lines = (xs: string[]): Buffer => Buffer.from(xs.length ? `${xs.join('\n')}\n` : '');
  for await (const batch of simulate({ seed: 11, rate: RATE, durationS: DURATION_S, startUs })) {
    for (const h of batch.http) {
      ips.add((JSON.parse(h) as { client_ip: string }).client_ip);
      requests++;
    }
    for (const l of batch.labels) labels.set(l.client_ip, l);
    // one insert at the end: an insert per simulated second would be most of the test's time
    ingest.push(correlator.process(lines(batch.http), lines(batch.tls), 0).ingest);
  }
  ingest.push(correlator.flush().ingest);
  t.comment(`simulated and correlated ${requests} requests in ${(performance.now() - started).toFixed(0)} ms`);
  await storage.insertEncoded(TABLES.httpLogsIngest, ingest.join(''), 'JSONEachRow');
  const stored = await storage.query<{ n: number; ips: number }>(`SELECT count() AS n, uniqExact(client_ip) AS ips FROM ${TABLES.httpLogs}`);
  t.equal(stored[0]?.n, requests, 'every simulated request reached http_logs');
  t.equal(stored[0]?.ips, ips.size, 'with every simulated client');

  await new UserStore(storage, 1024).add(ANALYST.name, ANALYST.role, ANALYST.password);
  const server: Dashboard = await startDashboard(storage, { listen: '127.0.0.1:0', log: silentLogger(), scryptCost: 1024, webDir });
  t.teardown(() => server.stop());
  const tb = await launchBrowser(t, server.url);
  const page = await tb.newPage();

  await t.test('overview figures are the simulated ones', async (t) => {
    await logIn(page, server.url, ANALYST, '/?hours=1');
    const kpi = (label: string) => page.locator('ja4-kpi', { hasText: label });
    // The overview reads the hourly aggregate's uniqCombined(12) states: an
    // estimate (185 clients read as 188 here), not uniqExact.
    const uniqueIps = Number((await kpi('Unique IPs').locator('.value').textContent())?.replace(/,/g, ''));
    t.ok(Math.abs(uniqueIps - ips.size) <= 0.05 * ips.size, `unique IPs: ${uniqueIps} for the ${ips.size} simulated clients (within 5 %)`);
    const requestsHint = (await kpi('Requests').first().locator('.hint').textContent())?.trim();
    t.equal(requestsHint, requests.toLocaleString('en-US'), 'requests: every simulated request, exactly');
    const charts = new Map((await chartStates(page)).map((c) => [c.id, c]));
    for (const id of ['traffic-chart', 'top-ja4-chart', 'top-asn-chart', 'top-country-chart', 'top-host-chart']) {
      const c = charts.get(id);
      t.ok(c !== undefined && c.points > 0 && c.drawn, `${id} drawn with data`);
    }
    t.equal(charts.get('traffic-chart')?.total !== undefined && charts.get('traffic-chart')!.total >= requests, true, 'the traffic chart holds every request (plus the automated and error series)');
    await tb.screenshot(page, '30-simulated-overview');
  });

  await t.test('the top JA4, opened from its link', async (t) => {
    const link = page.locator('ja4-table').filter({ hasText: 'JA4' }).first().locator('tbody tr a').first();
    const fp = (await link.textContent())!.trim();
    await link.click();
    await page.waitForURL(`${server.url}/ja4/${fp}`);
    await settle(page);
    const text = await deepText(page);
    t.match(text, `JA4 ${fp}`, 'the JA4 page of the busiest fingerprint');
    const timeline = (await chartStates(page)).find((c) => c.id === 'ja4-timeline-chart');
    t.ok(timeline && timeline.points > 0 && timeline.drawn, 'its timeline is drawn');
    await tb.screenshot(page, '31-simulated-ja4');
  });

  await t.test('the log explorer on one simulated bot', async (t) => {
    const bot = [...labels.values()].find((l) => l.is_bot && l.family !== 'known-crawler');
    t.ok(bot, 'the simulation has bots');
    if (!bot) return;
    await page.goto(`/logs?hours=1&ip=${encodeURIComponent(bot.client_ip)}`);
    await settle(page);
    const shown = await page.locator('ja4-table tbody tr td:nth-child(2)').allTextContents();
    t.ok(shown.length > 0, `rows for the ${bot.family} client ${bot.client_ip}`);
    t.same([...new Set(shown.map((s) => s.trim()))], [bot.client_ip], 'only that client');
    await tb.screenshot(page, '32-simulated-logs');
  });

  await t.test('no console errors', async (t) => {
    t.same(tb.problems, [], 'no console errors, page errors, failed requests or HTTP errors');
  });
});
