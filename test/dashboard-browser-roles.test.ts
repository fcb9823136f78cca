// The dashboard in a real browser, from the point of view of each role and
// of the URL: a viewer sees no analyst actions and is told, without an API
// call, that the audit trail and users need more; an analyst classifies a
// campaign's selected members in bulk (one verdict per IP, one audit row
// each); a deep link opened without a session goes through the login and
// lands where it pointed; sorting is kept in the URL; the theme choice
// survives a reload; an unknown path says so.
import t from 'tap';
import { TABLES } from '../src/storage/index.js';
import { CAMPAIGN_ID, CLIENTS } from './helpers/browser-data.js';
import { deepText, findChromium } from './helpers/browser.js';
import { logIn, settle, startBrowserDashboard, type TestUser } from './helpers/browser-dashboard.js';
import { JA4_GO } from './helpers/storage-fixture.js';

const skip = findChromium() === undefined ? 'no Chromium installed (scripts/setup.sh installs it; or set JA4_CHROMIUM)' : false;

const VIEWER: TestUser = { name: 'victor', role: 'viewer', password: 'viewer password 123' };
const ANALYST: TestUser = { name: 'ana', role: 'analyst', password: 'analyst password 123' };

t.test('roles and URLs in a browser', { skip }, async (t) => {
  const dash = await startBrowserDashboard(t, [VIEWER, ANALYST]);
  const { base, storage } = dash;
  const tb = dash.browser;

  await t.test('a deep link without a session goes through the login and back', async (t) => {
    const page = await tb.newPage();
    const target = `/ja4/${JA4_GO}`;
    await page.goto(target);
    await page.waitForURL(`${base}/login?next=${encodeURIComponent(target)}`);
    t.pass('sent to the login page, keeping the target');
    await page.getByLabel('User name').fill(VIEWER.name);
    await page.getByLabel('Password').fill(VIEWER.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}${target}`);
    await settle(page);
    t.match(await deepText(page), 'GoLang', 'the JA4 page it pointed to is shown');
    // The only error of this test: the session check before logging in.
    const expected = (p: (typeof tb.problems)[number]): boolean =>
      (p.kind === 'http' && /\/api\/auth\/me: HTTP 401$/.test(p.text)) || (p.kind === 'console' && /status of 401/.test(p.text));
    const unexpected = tb.problems.filter((p) => !expected(p));
    t.same(unexpected, [], 'no other console error');
    tb.problems.length = 0;
    await page.close();
  });

  await t.test('a viewer sees no analyst actions', async (t) => {
    const page = await tb.newPage();
    await logIn(page, base, VIEWER, '/ip/198.51.100.7');
    const nav = (await page.getByRole('navigation').getByRole('link').allTextContents()).map((s) => s.trim());
    t.same(nav, ['Overview', 'Detections', 'Campaigns', 'HTTP logs', 'Model', 'Pipeline', 'Wall'], 'navigation without the audit trail and users');
    t.equal(await page.getByRole('button', { name: 'Classify' }).count(), 0, 'no Classify button on the IP page');
    await page.goto('/audit');
    const alert = page.getByRole('alert');
    t.equal((await alert.textContent())?.trim(), 'This page needs the analyst role; you are viewer.', 'the audit trail says which role it needs');
    await page.goto('/users');
    t.equal((await page.getByRole('alert').textContent())?.trim(), 'This page needs the admin role; you are viewer.', 'so do the users');
    await page.goto('/no/such/page');
    // goto resolves at the load event, before the app has rendered its route
    // (the <noscript> text is all there is then): give it up to 5 s.
    let text = '';
    for (let i = 0; i < 100 && !(text = await deepText(page)).includes('No page at'); i++) await page.waitForTimeout(50);
    t.match(text, 'No page at /no/such/page', 'an unknown path says so');
    t.same(tb.problems, [], 'no console errors');
    await page.close();
  });

  await t.test('an analyst classifies campaign members in bulk', async (t) => {
    const page = await tb.newPage();
    await page.context().clearCookies();
    await logIn(page, base, ANALYST, `/cluster/${CAMPAIGN_ID}`);
    const members = CLIENTS.filter((c) => c.detection?.campaign === CAMPAIGN_ID).map((c) => c.ip);
    const chosen = members.slice(0, 2);
    for (const ip of chosen) await page.getByRole('checkbox', { name: `select ${ip}` }).check();
    const button = page.getByRole('button', { name: 'Classify 2 selected IPs' });
    await button.click();
    const dialog = page.getByRole('dialog');
    t.equal((await dialog.getByRole('heading').textContent())?.trim(), 'Classify 2 IPs', 'the dialog says how many');
    await dialog.getByLabel('whitelisted').check();
    await dialog.getByLabel('Note').fill('partner monitoring');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await settle(page);
    const rows = await storage.query<{ subject: string; label: string; actor: string }>(
      `SELECT subject, label, actor FROM ${TABLES.analystClassifications} FINAL WHERE subject_type = 'ip' ORDER BY subject`,
    );
    t.same(
      rows,
      chosen.sort().map((ip) => ({ subject: ip, label: 'whitelisted', actor: ANALYST.name })),
      'one verdict per selected IP, by the analyst',
    );
    const audits = await storage.query<{ subject: string; action: string }>(
      `SELECT subject, action FROM ${TABLES.auditLogs} WHERE actor = {a:String} AND subject_type = 'ip' ORDER BY subject`,
      { a: ANALYST.name },
    );
    t.same(audits.map((a) => a.subject), chosen.sort(), 'one audit row per IP');
    t.equal(await page.getByRole('checkbox', { name: `select ${chosen[0]}` }).isChecked(), false, 'the selection is cleared afterwards');
    await tb.screenshot(page, '20-cluster-bulk-classified');
    t.same(tb.problems, [], 'no console errors');
    await page.close();
  });

  await t.test('sorting lives in the URL; the theme survives a reload', async (t) => {
    const page = await tb.newPage();
    await page.goto('/detections');
    await settle(page);
    await page.getByRole('button', { name: 'Score' }).click();
    await page.waitForURL(/sort=score&order=desc/);
    await settle(page);
    const scores = (await page.locator('ja4-table tbody tr td:nth-child(3)').allTextContents()).map(Number);
    t.same(scores, [...scores].sort((a, b) => b - a), 'rows by score, highest first');
    t.equal(scores[0], Math.max(...CLIENTS.map((c) => c.detection?.score ?? 0)), 'the best score leads');
    await page.getByRole('button', { name: /switch to (light|dark) theme/ }).click();
    const chosen = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.reload();
    await settle(page);
    t.equal(await page.evaluate(() => document.documentElement.dataset.theme), chosen, 'the chosen theme is back after a reload');
    t.match(page.url(), /sort=score&order=desc/, 'the sort order is still in the URL');
    t.same(tb.problems, [], 'no console errors');
    await page.close();
  });
});
