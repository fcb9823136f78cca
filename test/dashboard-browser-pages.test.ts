// The dashboard in a real browser: the real server (startDashboard, in this
// process) over a real embedded database filled with a known population
// (helpers/browser-data.ts), the real bundle (scripts/build-web.mjs), and
// Debian's Chromium driven by playwright-core. One browser for the file,
// one tab reused page after page. Checks: log in, every page renders its
// data (values the fixture implies, charts holding data points and pixels),
// no console errors; a classification made in the UI appears in the audit
// trail; the wall shows a pushed detection within a second and recovers by
// itself when the network goes away and a new server comes back. A
// screenshot per page goes to test-artifacts/screenshots/.
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { TABLES } from '../src/storage/index.js';
import type { Detection } from '../src/dashboard/api-types.js';
import { UserStore } from '../src/dashboard/auth/user-store.js';
import { verifyPassword } from '../src/dashboard/auth/password.js';
import { JA4_GO } from './helpers/storage-fixture.js';
import { CAMPAIGN_ID, CLIENTS, liveDetection } from './helpers/browser-data.js';
import { chartStates, deepText, findChromium, type ChartState } from './helpers/browser.js';
import { settle, startBrowserDashboard, type TestUser } from './helpers/browser-dashboard.js';

const chromiumPath = findChromium();
const skip = chromiumPath === undefined ? 'no Chromium installed (scripts/setup.sh installs it; or set JA4_CHROMIUM)' : false;

const ADMIN: TestUser = { name: 'alice', role: 'admin', password: 'correct horse battery staple' };
const NOTE = 'scanner probing /admin and /.env — confirmed bot';

t.test('dashboard in a browser', { skip }, async (t) => {
  const dash = await startBrowserDashboard(t, [ADMIN]);
  const { storage, data, base, wallToken, serverLog, relay } = dash;
  const tb = dash.browser;
  const page = await tb.newPage();

  const charts = async (p: Page): Promise<Map<string, ChartState>> => new Map((await chartStates(p)).map((c) => [c.id, c]));
  const expectDrawn = (t: Test, all: Map<string, ChartState>, ids: string[]): void => {
    for (const id of ids) {
      const c = all.get(id);
      t.ok(c, `chart ${id} is on the page`);
      if (!c) continue;
      t.ok(c.points > 0 && c.total > 0, `chart ${id} holds data (${c.points} points, total ${c.total})`);
      t.ok(c.drawn, `chart ${id} drew on its canvas`);
    }
  };
  const open = async (path: string, shot: string): Promise<string> => {
    await page.goto(path);
    await settle(page);
    await tb.screenshot(page, shot);
    return deepText(page);
  };

  await t.test('log in', async (t) => {
    await page.goto('/login?next=%2F');
    await page.getByLabel('User name').fill(ADMIN.name);
    await page.getByLabel('Password').fill(ADMIN.password);
    await tb.screenshot(page, '00-login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/`);
    await settle(page);
    t.match(await deepText(page), 'alice (admin)', 'the header names the user and role');
  });

  await t.test('overview', async (t) => {
    const text = await open('/', '01-overview');
    const kpi = (label: string) => page.locator('ja4-kpi', { hasText: label }).locator('.value');
    t.equal((await kpi('Unique IPs').textContent())?.trim(), String(CLIENTS.length), 'unique IPs: every client of the fixture');
    t.equal((await kpi('Detections').first().textContent())?.trim(), String(data.detections), 'detections: every inserted detection');
    const all = await charts(page);
    expectDrawn(t, all, ['traffic-chart', 'levels-chart', 'detections-chart', 'top-ja4-chart', 'top-asn-chart', 'top-country-chart', 'top-host-chart']);
    t.equal(all.get('levels-chart')?.total, data.detections, 'the threat-level doughnut adds up to the detections');
    t.match(text, JA4_GO, 'the top JA4s list the Go client');
    t.match(text, 'shop.example', 'the top hosts list shop.example');
  });

  await t.test('detections: filter, sort, CSV export', async (t) => {
    const text = await open('/detections?level=critical', '02-detections');
    const rows = await page.locator('ja4-table tbody tr').count();
    const critical = CLIENTS.filter((c) => c.detection?.level === 'critical').length;
    const hoursWithData = data.detections / CLIENTS.filter((c) => c.detection).length;
    t.equal(rows, critical * hoursWithData, 'only the critical detections are listed');
    t.match(text, '198.51.100.7', 'the critical client is listed');
    t.notMatch(text, '198.51.100.8', 'a high-level client is filtered out');
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    t.match(href, /^\/api\/detections\.csv\?.*level=critical/, 'the CSV export carries the filter');
    const csv = await page.request.get(href!);
    t.equal(csv.status(), 200, 'the CSV downloads with the session');
    const lines = (await csv.text()).trim().split('\n');
    t.equal(lines.length, 1 + critical * hoursWithData, 'header + one line per critical detection');
  });

  await t.test('JA4 investigation', async (t) => {
    const text = await open(`/ja4/${JA4_GO}`, '03-ja4');
    expectDrawn(t, await charts(page), ['ja4-timeline-chart', 'ja4-levels-chart', 'ja4-asn-chart', 'ja4-country-chart']);
    t.match(text, 'GoLang', 'the FoxIO mapping names the library');
    t.match(text, 'Go net/http', 'the reference list names the bot');
    for (const c of CLIENTS.filter((c) => c.ja4 === JA4_GO)) t.match(text, c.ip, `client IP ${c.ip} is listed`);
  });

  await t.test('IP investigation', async (t) => {
    const text = await open('/ip/198.51.100.7', '04-ip');
    expectDrawn(t, await charts(page), ['ip-cadence-chart', 'ip-history-chart', 'ip-ja4-rotation-chart', 'ip-ua-rotation-chart']);
    t.match(text, 'AS64501', 'the network is named');
    t.match(text, 'status_4xx_ratio', 'scores come with their explanation');
  });

  await t.test('campaigns and one cluster', async (t) => {
    const list = await open('/campaigns', '05-campaigns');
    t.match(list, CAMPAIGN_ID, 'the campaign is listed');
    const text = await open(`/cluster/${CAMPAIGN_ID}`, '06-cluster');
    expectDrawn(t, await charts(page), ['cluster-timeline-chart', 'cluster-ja4-chart', 'cluster-asn-chart', 'cluster-host-chart']);
    for (const c of CLIENTS.filter((c) => c.detection?.campaign === CAMPAIGN_ID)) t.match(text, c.ip, `member ${c.ip} is listed`);
  });

  await t.test('HTTP log explorer with a field filter', async (t) => {
    await open('/logs', '07-logs');
    await page.getByLabel('Client IP').fill('2001:db8::5');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/ip=2001/);
    await settle(page);
    const ips = await page.locator('ja4-table tbody tr td:nth-child(2)').allTextContents();
    t.ok(ips.length > 0, 'rows are shown');
    t.same([...new Set(ips.map((s) => s.trim()))], ['2001:db8::5'], 'every row is the filtered client');
  });

  await t.test('model status and pipeline health', async (t) => {
    const model = await open('/model', '08-model');
    t.match(model, 'test-model-1', 'the model version is listed');
    expectDrawn(t, await charts(page), ['model-drift-chart', 'model-voices-chart', 'model-rows-chart']);
    const health = await open('/pipeline', '09-pipeline');
    t.match(health, 'WebSocket clients', 'the pipeline page shows its figures');
    expectDrawn(t, await charts(page), ['pipeline-ingest-chart']);
  });

  await t.test('a classification made in the UI is in the audit trail', async (t) => {
    const ip = '198.51.100.8';
    await open(`/ip/${ip}`, '10-classify-before');
    await page.getByRole('button', { name: 'Classify' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('bot').check();
    await dialog.getByLabel('Note').fill(NOTE);
    await tb.screenshot(page, '11-classify-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const rows = await storage.query<{ label: string; note: string; actor: string }>(
      `SELECT label, note, actor FROM ${TABLES.analystClassifications} FINAL WHERE subject_type = 'ip' AND subject = {ip:String}`,
      { ip },
    );
    t.same(rows, [{ label: 'bot', note: NOTE, actor: ADMIN.name }], 'the verdict is stored for the detector');
    const audit = await open('/audit', '12-audit');
    t.match(audit, NOTE, 'the note is in the audit trail');
    const row = page.locator('ja4-table tbody tr', { hasText: NOTE });
    await t.resolves(row.waitFor(), 'one audit row carries it');
    const cells = (await row.first().locator('td').allTextContents()).map((s) => s.trim());
    t.equal(cells[1], 'alice (admin)', 'who');
    t.equal(cells[2], 'classify', 'what');
    t.equal(cells[4], ip, 'on which subject');
  });

  await t.test('users (admin): add one, change its role, set its password', async (t) => {
    const text = await open('/users', '13-users');
    t.match(text, ADMIN.name, 'the admin is listed');
    const status = page.getByRole('status').filter({ hasText: /created|now|changed/ });
    await page.getByLabel('Name', { exact: true }).fill('bob');
    await page.getByLabel('role of the new user').selectOption('viewer');
    await page.getByLabel('Password (12+ characters)', { exact: true }).fill('first password 1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await status.filter({ hasText: 'User bob created.' }).waitFor();
    await page.getByLabel('role of bob').selectOption('analyst');
    await status.filter({ hasText: 'bob is now analyst.' }).waitFor();
    await page.getByLabel('user whose password to set').selectOption('bob');
    await page.getByLabel('New password (12+ characters)').fill('second password 2');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await status.filter({ hasText: 'Password of bob changed.' }).waitFor();
    const bob = await new UserStore(storage).get('bob');
    t.equal(bob?.role, 'analyst', 'bob is stored as an analyst');
    t.equal(await verifyPassword('second password 2', bob?.password_hash ?? ''), true, 'with the new password');
    t.equal(await verifyPassword('first password 1', bob?.password_hash ?? ''), false, 'not the first one');
    await tb.screenshot(page, '14-users-changed');
  });

  await t.test('theme switch', async (t) => {
    await open('/', '15-overview-dark');
    await page.getByRole('button', { name: /switch to light theme/ }).click();
    t.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light', 'the light theme is applied');
    await settle(page);
    await tb.screenshot(page, '16-overview-light');
  });

  await t.test('no console errors on any page so far', async (t) => {
    t.comment(`screenshots took ${tb.screenshotMs.toFixed(0)} ms so far`);
    t.same(tb.problems, [], 'no console errors, page errors or failed requests');
    t.same(serverLog.filter((l) => (JSON.parse(l) as { level: string }).level === 'error'), [], 'no request failed on the server');
  });

  await t.test('the wall: a pushed detection within a second, recovery after a restart', async (t) => {
    // The analyst's tab goes: sessions live in the server's memory, so after
    // the restart below it would (rightly) be sent to the login page.
    await page.close();
    const wall = await tb.newPage();
    // every URL the tab asks for (HTTP and WebSocket): the token must be in none of them
    const urls: string[] = [];
    wall.on('request', (r) => urls.push(r.url()));
    wall.on('websocket', (ws) => urls.push(ws.url()));
    // in the fragment: never sent to the server, so never in a proxy's or Apache's logs
    await wall.goto(`/wall#token=${encodeURIComponent(wallToken)}`);
    await wall.getByRole('status').filter({ hasText: 'live' }).waitFor();
    t.equal(wall.url(), `${base}/wall`, 'the token is gone from the address bar (and the history)');
    // a wall screen reloads now and then: the tab kept the token
    await wall.reload();
    await wall.getByRole('status').filter({ hasText: 'live' }).waitFor();
    t.equal(wall.url(), `${base}/wall`);
    await settle(wall);
    t.ok(urls.some((u) => u.endsWith('/ws')) && urls.some((u) => u.includes('/api/')), `the wall used the API and the feed (${urls.length} requests)`);
    t.same(urls.filter((u) => u.includes(wallToken) || u.includes(encodeURIComponent(wallToken))), [], 'no request URL carried the token');
    // the ticker's first rows come from the API (the fixture's detections)
    await wall.locator('ja4-ticker li').first().waitFor();
    const before = tb.problems.length;

    const pushed = liveDetection('198.51.100.77') as unknown as Detection;
    const started = performance.now();
    dash.server.publish(['detections', `ja4:${pushed.ja4}`, `ip:${pushed.client_ip}`], pushed);
    await wall.locator('ja4-ticker li', { hasText: '198.51.100.77' }).waitFor({ timeout: 5000 });
    const ms = performance.now() - started;
    t.ok(ms < 1000, `the wall showed the pushed detection in ${ms.toFixed(0)} ms (< 1000)`);
    await tb.screenshot(wall, '17-wall');
    t.equal(tb.problems.length, before, 'no console errors on the wall');

    // The network goes away while the server keeps publishing: on its
    // return the wall resyncs from its last sequence number and the server
    // replays the missed event from its ring (the event is in no table, so
    // nothing else could bring it).
    await relay.cut();
    await wall.getByRole('status').filter({ hasText: /reconnecting|retrying/ }).waitFor({ timeout: 30_000 });
    const whileAway = liveDetection('198.51.100.76') as unknown as Detection;
    dash.server.publish(['detections', `ja4:${whileAway.ja4}`, `ip:${whileAway.client_ip}`], whileAway);
    await relay.restore();
    await wall.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    await wall.locator('ja4-ticker li', { hasText: '198.51.100.76' }).waitFor({ timeout: 10_000 });
    t.pass('after the network returned the wall replayed the detection published while it was away');

    // The network and the server go away; a new server comes back behind
    // the same address. The wall must notice, reconnect by itself and catch
    // up with what was detected meanwhile (a new boot id: resync from the
    // database by time).
    await relay.cut();
    await dash.server.stop();
    await wall.getByRole('status').filter({ hasText: /reconnecting|retrying/ }).waitFor({ timeout: 30_000 });
    await tb.screenshot(wall, '18-wall-reconnecting');
    const missed = { ...liveDetection('198.51.100.78'), detected_at: new Date().toISOString().replace('T', ' ').replace('Z', '') };
    await storage.insertRows(TABLES.mlDetectedAnomalies, [missed]);
    await dash.restart();
    await relay.restore();
    await wall.getByRole('status').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
    await wall.locator('ja4-ticker li', { hasText: '198.51.100.78' }).waitFor({ timeout: 10_000 });
    t.pass('after the restart the wall reconnected and shows the detection made while it was away');
    await tb.screenshot(wall, '19-wall-after-restart');
    const unexpected = tb.problems.slice(before).filter((p) => !/WebSocket connection|ERR_CONNECTION_(REFUSED|RESET)|Failed to load resource/.test(p.text));
    t.same(unexpected, [], 'only connection errors while the server was down');
  });
});
