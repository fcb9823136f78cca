// The storage pipeline on the real embedded engine: correlated requests
// inserted into ja4_logs.http_logs_ingest come out enriched in http_logs,
// in the hourly aggregates and in the detector's feature view with exactly
// the values this test computes on its own from the same fixture; the
// dictionaries answer lookups; user input only travels as query parameters.
import t from 'tap';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { INSERT_FILES_DIR, ipHistoryQuery, ja4TimelineQuery, loadReferenceData, overviewKpisQuery, runDashboardQuery, TABLES, topJa4sQuery } from '../src/storage/index.js';
import {
  INJECTION,
  JA4_CHROME,
  JA4_GO,
  UA_CHROME,
  fixtureHourUs,
  fixtureRows,
  openTestStorage,
  storageScratchDir,
  writeTestReferenceDir,
  type IngestRow,
} from './helpers/storage-fixture.js';

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));

// ---- the expected values, computed independently of the SQL ---------------

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

interface Expected {
  requests: number;
  distinctPaths: number;
  status: [number, number, number, number];
  noReferer: number;
  noLang: number;
  noCookies: number;
  headerOrders: number;
  ja4h: number;
  iatN: number;
  iatMeanMs: number;
  iatCv: number;
  lag1: number;
  benfordN: number;
  benfordMad: number;
  benfordChi2: number;
}

function expectedFor(rows: IngestRow[]): Expected {
  const ts = rows.map((r) => r.ts).sort((a, b) => a - b);
  const iat: number[] = [];
  for (let i = 1; i < ts.length; i++) iat.push(ts[i]! - ts[i - 1]!);
  const m = iat.length ? mean(iat) : 0;
  const variance = iat.length ? mean(iat.map((x) => (x - m) ** 2)) : 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < iat.length; i++) den += (iat[i]! - m) ** 2;
  for (let i = 0; i + 1 < iat.length; i++) num += (iat[i]! - m) * (iat[i + 1]! - m);
  const digits = iat.filter((x) => x >= 1).map((x) => Number(String(Math.floor(x))[0]));
  let mad = 0;
  let chi2 = 0;
  for (let d = 1; d <= 9; d++) {
    const e = Math.log10(1 + 1 / d);
    const p = digits.length ? digits.filter((x) => x === d).length / digits.length : 0;
    mad += Math.abs(p - e) / 9;
    chi2 += ((p - e) ** 2 / e) * digits.length;
  }
  const pathOf = (u: string): string => u.split('?')[0]!;
  return {
    requests: rows.length,
    distinctPaths: new Set(rows.map((r) => pathOf(r.uri))).size,
    status: [2, 3, 4, 5].map((c) => rows.filter((r) => Math.floor(r.status / 100) === c).length) as Expected['status'],
    noReferer: rows.filter((r) => !r.headers.referer).length,
    noLang: rows.filter((r) => !r.headers['accept-language']).length,
    noCookies: rows.filter((r) => r.cookie_names.length === 0).length,
    headerOrders: new Set(rows.map((r) => r.header_names.join('\n'))).size,
    ja4h: new Set(rows.map((r) => r.ja4h)).size,
    iatN: iat.length,
    iatMeanMs: m / 1000,
    iatCv: m > 0 ? Math.sqrt(variance) / m : 0,
    lag1: iat.length >= 3 && den > 0 ? num / den : 0,
    benfordN: digits.length,
    benfordMad: digits.length ? mad : 0,
    benfordChi2: digits.length ? chi2 : 0,
  };
}

const hourOf = (us: number): number => Math.floor(us / 3_600_000_000);
const sqlHour = (us: number): string => new Date(hourOf(us) * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
const mapped = (ip: string): string => (ip.includes(':') ? ip : `::ffff:${ip}`);

t.test('raw rows flow into http_logs, the aggregates and the feature view', async (t) => {
  const storage = await openTestStorage(t);
  await loadReferenceData(storage, writeTestReferenceDir(join(storageScratchDir(t), 'ref')));
  const hour = fixtureHourUs();
  const rows = fixtureRows(hour);
  await storage.insertRows(TABLES.httpLogsIngest, rows as unknown as Record<string, unknown>[]);

  t.test('http_logs: one enriched row per request', async (t) => {
    const got = await storage.query<Record<string, string | number>>(
      `SELECT request_id, toString(client_ip) AS ip, path, query, http_major, asn, asn_name, country, asn_label, asn_score,
              bot_ip_name, bot_ja4_name, browser_ja4_name, ja4_application, crawler_rule, crawler_action,
              ua_is_browser, ua_ja4_mismatch, user_agent, accept_language, referer
       FROM ${TABLES.httpLogs} ORDER BY ts`,
    );
    t.equal(got.length, rows.length, 'one row per inserted request');
    const byId = new Map(got.map((r) => [r.request_id, r]));
    const a1 = byId.get('req-1')!;
    t.match(a1, { ip: '::ffff:203.0.113.10', path: '/', query: '', http_major: 1, asn: 64500, asn_name: 'TEST-NET-3-AS', country: 'FR', asn_label: 'hosting', bot_ip_name: '', bot_ja4_name: '', browser_ja4_name: 'Chrome', ja4_application: 'Chromium Browser', crawler_rule: '', crawler_action: '', ua_is_browser: 1, ua_ja4_mismatch: 0, user_agent: UA_CHROME, accept_language: 'fr-FR', referer: '' }, 'client A: ASN, country, reputation, browser JA4');
    t.ok(close(Number(a1.asn_score), 0.75, 1e-6), 'ASN reputation score');
    t.match(byId.get('req-4')!, { path: '/b', query: 'x=1' }, 'path and query split');
    t.match(byId.get('req-7')!, { asn: 64501, country: 'DE', bot_ja4_name: 'Go net/http', ja4_application: 'Sliver Agent', crawler_rule: 'go-client', crawler_action: 'WEIGH', ua_is_browser: 0, ua_ja4_mismatch: 0 }, 'client B: known bot JA4, merged mapping labels, first matching rule (before admin-probe)');
    t.match(byId.get('req-11')!, { asn: 15169, bot_ip_name: 'Googlebot', crawler_rule: 'googlebot', crawler_action: 'ALLOW', http_major: 2, ua_is_browser: 0 }, 'client C: bot network, rule with UA and CIDR');
    t.match(byId.get('req-13')!, { ip: '2001:db8::5', asn: 64502, country: 'NL', crawler_rule: 'nl-v6', crawler_action: 'CHALLENGE', http_major: 3, ua_is_browser: 1, ua_ja4_mismatch: 1, browser_ja4_name: '', bot_ja4_name: 'Go net/http' }, 'client D: IPv6 lookups, a browser UA over a library JA4');
  });

  const groups = new Map<string, IngestRow[]>();
  for (const r of rows) {
    const key = `${hourOf(r.ts)}|${r.client_ip}|${r.ja4}|${r.host}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }

  t.test('agg_host_ip_ja4_1h: per hour x IP x JA4 x host', async (t) => {
    const got = await storage.query<Record<string, number | string>>(
      `SELECT toUnixTimestamp(hour) AS h, toString(client_ip) AS ip, toString(ja4) AS j, toString(host) AS hs,
              sum(requests) AS n, sum(status_2xx) AS s2, sum(status_3xx) AS s3, sum(status_4xx) AS s4, sum(status_5xx) AS s5,
              sum(no_referer) AS nr, sum(no_accept_language) AS nl, sum(no_cookies) AS nc, uniqMerge(paths) AS dp,
              uniqMerge(header_orders) AS ho, uniqMerge(ja4h_values) AS dj, length(groupArraySortedMerge(1000)(ts_sample)) AS sample
       FROM ${TABLES.aggHostIpJa4} GROUP BY hour, client_ip, ja4, host ORDER BY h, ip`,
    );
    t.equal(got.length, groups.size, 'one row per group');
    for (const [key, g] of groups) {
      const [h, ip, ja4, host] = key.split('|');
      const e = expectedFor(g);
      const r = got.find((x) => Number(x.h) === Number(h) * 3600 && x.ip === mapped(ip!) && x.j === ja4 && x.hs === host);
      t.ok(r, `group ${key} present`);
      if (!r) continue;
      t.same(
        [r.n, r.s2, r.s3, r.s4, r.s5, r.nr, r.nl, r.nc, r.dp, r.ho, r.dj, r.sample],
        [e.requests, ...e.status, e.noReferer, e.noLang, e.noCookies, e.distinctPaths, e.headerOrders, e.ja4h, e.requests],
        `counters of ${ip} ${host}`,
      );
    }
  });

  t.test('agg_ja4_1h and view_ja4_signals_1h: per JA4', async (t) => {
    const inHour = rows.filter((r) => hourOf(r.ts) === hourOf(hour));
    const got = await storage.query<Record<string, number>>(
      `SELECT ja4, requests, h2_ratio, h3_ratio, browser_ua_ratio, distinct_uas, distinct_paths, distinct_ips, volume_rank, volume_quantile
       FROM ${TABLES.ja4Signals} WHERE hour = toDateTime({h:String}, 'UTC') ORDER BY ja4`,
      { h: sqlHour(hour) },
    );
    t.equal(got.length, 2, 'two JA4s in the hour');
    for (const ja4 of [JA4_CHROME, JA4_GO]) {
      const rs = inHour.filter((r) => r.ja4 === ja4);
      const r = got.find((x) => (x as unknown as { ja4: string }).ja4 === ja4)!;
      const h2 = rs.filter((x) => x.protocol === 'HTTP/2' || x.alpn === 'h2').length / rs.length;
      const h3 = rs.filter((x) => x.protocol === 'HTTP/3').length / rs.length;
      const browser = rs.filter((x) => x.headers['user-agent']?.startsWith('Mozilla/5.0 (X11')).length / rs.length;
      t.equal(r.requests, rs.length, `${ja4} requests`);
      t.ok(close(r.h2_ratio!, h2) && close(r.h3_ratio!, h3), `${ja4} h2/h3 ratios`);
      t.ok(close(r.browser_ua_ratio!, browser), `${ja4} browser-UA ratio`);
      t.equal(r.distinct_uas, new Set(rs.map((x) => x.headers['user-agent'])).size, `${ja4} distinct UAs`);
      t.equal(r.distinct_paths, new Set(rs.map((x) => x.uri.split('?')[0])).size, `${ja4} distinct paths`);
      t.equal(r.distinct_ips, new Set(rs.map((x) => x.client_ip)).size, `${ja4} distinct IPs`);
    }
    const chrome = got.find((x) => (x as unknown as { ja4: string }).ja4 === JA4_CHROME)!;
    const go = got.find((x) => (x as unknown as { ja4: string }).ja4 === JA4_GO)!;
    // Chrome JA4: 8 requests (A: 6, C: 2), Go JA4: 5 (B: 4, D: 1)
    t.same([chrome.volume_rank, go.volume_rank, chrome.volume_quantile, go.volume_quantile], [1, 2, 1, 0], 'volume rank and quantile');
  });

  t.test('agg_ja4h_1h: per header fingerprint', async (t) => {
    const got = await storage.query<{ ja4h: string; n: number; ips: number }>(
      `SELECT ja4h, sum(requests) AS n, uniqMerge(client_ips) AS ips FROM ${TABLES.aggJa4h} GROUP BY ja4h ORDER BY ja4h`,
    );
    const expected = new Map<string, IngestRow[]>();
    for (const r of rows) expected.set(r.ja4h, [...(expected.get(r.ja4h) ?? []), r]);
    t.same(
      got.map((g) => [g.ja4h, g.n, g.ips]),
      [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.length, new Set(v.map((x) => x.client_ip)).size]),
      'requests and distinct IPs per JA4H',
    );
  });

  t.test('view_ai_features_1h: exact features per group', async (t) => {
    const got = await storage.query<Record<string, number | string>>(
      `SELECT toUnixTimestamp(hour) AS h, toString(client_ip) AS ip, toString(ja4) AS j, toString(host) AS hs, *
       FROM ${TABLES.aiFeatures} ORDER BY h, ip`,
    );
    t.equal(got.length, groups.size, 'one feature row per group');
    for (const [key, g] of groups) {
      const [h, ip, ja4, host] = key.split('|');
      const e = expectedFor(g);
      const r = got.find((x) => Number(x.h) === Number(h) * 3600 && x.ip === mapped(ip!) && x.j === ja4 && x.hs === host)!;
      const pairs: [string, number][] = [
        ['requests', e.requests],
        ['requests_per_minute', e.requests / 60],
        ['distinct_paths_ratio', e.distinctPaths / e.requests],
        ['status_2xx_ratio', e.status[0] / e.requests],
        ['status_3xx_ratio', e.status[1] / e.requests],
        ['status_4xx_ratio', e.status[2] / e.requests],
        ['status_5xx_ratio', e.status[3] / e.requests],
        ['no_referer_ratio', e.noReferer / e.requests],
        ['no_accept_language_ratio', e.noLang / e.requests],
        ['no_cookies_ratio', e.noCookies / e.requests],
        ['header_order_diversity', e.headerOrders / e.requests],
        ['distinct_ja4h', e.ja4h],
        ['iat_n', e.iatN],
        ['iat_mean_ms', e.iatMeanMs],
        ['iat_cv', e.iatCv],
        ['iat_lag1_autocorr', e.lag1],
        ['benford_n', e.benfordN],
        ['benford_mad', e.benfordMad],
        ['benford_chi2', e.benfordChi2],
      ];
      const bad = pairs.filter(([col, want]) => !close(Number(r[col]), want));
      t.same(bad.map(([col, want]) => `${col}: got ${r[col]}, want ${want}`), [], `features of ${ip} ${host} (hour ${h})`);
    }
    // the irregular client A: hand-checked against the formulas, not only the helper
    const a = got.find((x) => x.ip === '::ffff:203.0.113.10' && Number(x.h) === hourOf(hour) * 3600)!;
    // gaps 1.5 s, 1 s, 2 s, 6 s, 0.5 s: mean 2.2 s
    t.ok(close(Number(a.iat_mean_ms), 2200), 'client A mean inter-arrival 2200 ms');
    t.equal(a.benford_n, 5, 'client A: 5 intervals for Benford');
    const b = got.find((x) => x.ip === '::ffff:198.51.100.7')!;
    t.same([b.iat_cv, b.iat_lag1_autocorr, b.benford_n], [0, 0, 3], 'client B: constant 100 ms gaps: CV 0, no autocorrelation defined');
    t.match(b, { bot_ja4_name: 'Go net/http', crawler_rule: 'go-client', asn_label: 'hosting', ja4_requests: 5 }, 'labels and the JA4 signals joined in');
  });

  t.test("the dashboard's main queries", async (t) => {
    const range = { from: new Date(hour / 1000), to: new Date(hour / 1000 + 2 * 3_600_000) };
    const [kpi] = await runDashboardQuery<Record<string, number>>(storage, overviewKpisQuery(storage.tables, range));
    // automated: B (bot JA4, 4), D (bot JA4 + mismatch, 1); C's Googlebot network (2)
    t.match(kpi, { total_requests: rows.length, unique_ips: 4, unique_ja4s: 2, hosts: 2 }, 'overview KPIs');
    t.ok(close(kpi!.bot_share!, 7 / rows.length), 'bot share');
    const top = await runDashboardQuery<{ ja4: string; total_requests: number; ips: number; bot_name: string }>(storage, topJa4sQuery(storage.tables, range, 10));
    t.same(top.map((r) => [r.ja4, r.total_requests, r.ips, r.bot_name]), [[JA4_CHROME, 9, 2, ''], [JA4_GO, 5, 2, 'Go net/http']], 'top JA4s with labels');
    for (const minutes of [5, 60]) {
      const timeline = await runDashboardQuery<{ total_requests: number }>(storage, ja4TimelineQuery(storage.tables, JA4_GO, range, minutes));
      t.equal(timeline.reduce((n, b) => n + b.total_requests, 0), 5, `one JA4's timeline adds up (${minutes} min buckets)`);
    }
    const history = await runDashboardQuery<{ total_requests: number; ja4s: string[]; distinct_paths: number; error_count: number }>(storage, ipHistoryQuery(storage.tables, '203.0.113.10', range));
    t.same(history.map((h) => [h.total_requests, h.ja4s, h.distinct_paths, h.error_count]), [[6, [JA4_CHROME], 4, 2], [1, [JA4_CHROME], 1, 0]], "one IP's history, per hour");
    t.same(await runDashboardQuery(storage, ipHistoryQuery(storage.tables, INJECTION, range)).catch((e: Error) => e.message.includes('IPv6')), true, 'a malformed IP is rejected by the engine, as data');
  });

  t.test('the dictionaries answer lookups', async (t) => {
    const [r] = await storage.query<Record<string, unknown>>(
      `SELECT dictGet('ja4_processing.dict_ip_asn', 'asn', toIPv6({v4:String})) AS v4_asn,
              dictGet('ja4_processing.dict_ip_asn', 'name', toIPv6({v6:String})) AS v6_name,
              dictGetOrDefault('ja4_processing.dict_ip_asn', 'asn', toIPv6('192.0.2.1'), toUInt32(0)) AS unknown_asn,
              dictGet('ja4_processing.dict_bot_ip_prefixes', 'bot_name', toIPv6('66.249.95.255')) AS bot,
              dictGet('ja4_processing.dict_bot_ja4', 'category', tuple({go:String})) AS go_category,
              dictGet('ja4_processing.dict_browser_ja4', 'browser', tuple({chrome:String})) AS browser,
              dictGet('ja4_processing.dict_asn_reputation', 'label', toUInt64(64501)) AS rep,
              dictGet('ja4_processing.dict_ja4plus_mapping', ('application', 'library'), ('ja4s', 't130200_1301_a56c5b993250')) AS ja4s_app`,
      { v4: '203.0.113.200', v6: '2001:db8:ffff::1', go: JA4_GO, chrome: JA4_CHROME },
    );
    t.same(r, { v4_asn: 64500, v6_name: 'DOC-V6-AS', unknown_asn: 0, bot: 'Googlebot', go_category: 'library', browser: 'Chrome', rep: 'hosting', ja4s_app: { application: 'Sliver Agent', library: 'GoLang' } });
  });

  t.test('user input travels as query parameters: an injection string is stored as data', async (t) => {
    const evil = { ...fixtureRows(hour)[0]!, request_id: INJECTION, headers: { 'user-agent': INJECTION }, host: INJECTION };
    await storage.insertRows(TABLES.httpLogsIngest, [evil as unknown as Record<string, unknown>]);
    const found = await storage.query<{ ua: string; host: string }>(
      `SELECT user_agent AS ua, toString(host) AS host FROM ${TABLES.httpLogs} WHERE request_id = {id:String}`,
      { id: INJECTION },
    );
    t.same(found, [{ ua: INJECTION, host: INJECTION }], 'found by parameter, stored verbatim');
    const [count] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.httpLogs}`);
    t.equal(count!.n, rows.length + 1, 'http_logs still there with every row');
  });

  t.test('a replayed batch with the same deduplication token is not counted twice', async (t) => {
    const count = async () =>
      (await storage.query<{ logs: number; agg: number }>(`SELECT (SELECT count() FROM ${TABLES.httpLogs}) AS logs, (SELECT sum(requests) FROM ${TABLES.aggHostIpJa4}) AS agg`))[0]!;
    const before = await count();
    const batch = fixtureRows(hour).slice(0, 3).map((r) => ({ ...r, request_id: `replay-${r.request_id}` })) as unknown as Record<string, unknown>[];
    const settings = { insert_deduplication_token: 'spool-segment-42', deduplicate_blocks_in_dependent_materialized_views: 1 as const };
    await storage.insertRows(TABLES.httpLogsIngest, batch, settings);
    await storage.insertRows(TABLES.httpLogsIngest, batch, settings);
    const after = await count();
    t.same([after.logs - before.logs, after.agg - before.agg], [3, 3], 'http_logs and the aggregates took the batch once');
  });

  t.test('the other tables take rows', async (t) => {
    const now = Date.now();
    await storage.insertRows(TABLES.mlAllScores, [{ scored_at: now, window_start: Math.floor(now / 1000), window: '1h', client_ip: '198.51.100.7', ja4: JA4_GO, host: 'shop.example', model_version: 'm1', score: 0.93, threat_level: 'high', is_anomaly: true }]);
    await storage.insertRows(TABLES.mlDetectedAnomalies, [{ detected_at: now, window_start: Math.floor(now / 1000), window: '1h', client_ip: '198.51.100.7', ja4: JA4_GO, score: 0.93, threat_level: 'high', voices: ['iforest', 'gbt'], top_features: ['iat_cv'], top_contributions: [0.4], features: { iat_cv: 0 } }]);
    await storage.insertRows(TABLES.auditLogs, [{ ts: now, actor: 'alice', role: 'analyst', action: 'classify', subject_type: 'ip', subject: '198.51.100.7', before: '{}', after: '{"label":"bot"}' }]);
    const [r] = await storage.query<Record<string, number>>(
      `SELECT (SELECT count() FROM ${TABLES.mlAllScores} WHERE client_ip = toIPv6({ip:String})) AS scores,
              (SELECT count() FROM ${TABLES.mlDetectedAnomalies} WHERE has(voices, 'gbt')) AS detections,
              (SELECT count() FROM ${TABLES.auditLogs} WHERE subject = {ip:String}) AS audits`,
      { ip: '198.51.100.7' },
    );
    t.same(r, { scores: 1, detections: 1, audits: 1 });
  });

  t.test("one client's scores and detections can be deleted (tables with projections, sql/0022), and stay deleted in every read order", async (t) => {
    const now = Date.now();
    const ips = ['198.51.100.40', '198.51.100.41'] as const;
    for (const ip of ips) {
      await storage.insertRows(TABLES.mlAllScores, [{ scored_at: now, window_start: Math.floor(now / 1000), window: '1h', client_ip: ip, ja4: JA4_GO, host: 'shop.example', model_version: 'm1', score: 0.9, threat_level: 'high', is_anomaly: true }]);
      await storage.insertRows(TABLES.mlDetectedAnomalies, [{ detected_at: now, window_start: Math.floor(now / 1000), window: '1h', client_ip: ip, ja4: JA4_GO, score: 0.9, threat_level: 'high', voices: ['gbt'], top_features: [], top_contributions: [], features: {}, campaign_id: 'c-erase' }]);
    }
    await storage.command(`DELETE FROM ${TABLES.mlAllScores} WHERE client_ip = toIPv6({ip:String})`, { ip: ips[0] });
    await storage.command(`DELETE FROM ${TABLES.mlDetectedAnomalies} WHERE client_ip = toIPv6({ip:String})`, { ip: ips[0] });
    const count = async (ip: string): Promise<Record<string, number>> =>
      (await storage.query<Record<string, number>>(
        `SELECT (SELECT count() FROM ${TABLES.mlAllScores} WHERE client_ip = toIPv6({ip:String})) AS scores,
                (SELECT count() FROM ${TABLES.mlDetectedAnomalies} WHERE client_ip = toIPv6({ip:String}) AND campaign_id = 'c-erase') AS detections`,
        { ip },
      ))[0]!;
    t.same(await count(ips[0]), { scores: 0, detections: 0 }, 'the deleted client is gone, also through the projections (IP, campaign)');
    // read in the projections' own order: with 'rebuild' the deleted rows came back this way
    const inOrder = await storage.query<{ ip: string }>(`SELECT toString(client_ip) AS ip FROM ${TABLES.mlAllScores} WHERE client_ip = toIPv6({ip:String}) ORDER BY client_ip, window_start`, { ip: ips[0] });
    const byCampaign = await storage.query<{ ip: string }>(`SELECT toString(client_ip) AS ip FROM ${TABLES.mlDetectedAnomalies} WHERE campaign_id = 'c-erase' ORDER BY campaign_id, detected_at`);
    t.same([inOrder.length, byCampaign.map((r) => r.ip)], [0, ['::ffff:198.51.100.41']], 'nor in the projections\' order');
    t.same(await count(ips[1]), { scores: 1, detections: 1 }, 'the other client stays');
  });
});

t.test('embedded inserts of encoded bodies: the engine reads a temporary file in the data directory, removed after each insert, and a killed process\'s leftovers are cleaned', async (t) => {
  const dir = join(storageScratchDir(t), 'db');
  const files = join(dir, INSERT_FILES_DIR);
  // a pid that no longer exists: the leftover file of a process killed mid-insert
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, `${deadPid}-1.jsoneachrow`), '{}\n');
  const inTmp = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(`ja4-insert-${process.pid}-`));
  const storage = await openTestStorage(t, { dir });
  const rows = fixtureRows(fixtureHourUs()).slice(0, 5);
  await storage.insertEncoded(TABLES.httpLogsIngest, Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join('')), 'JSONEachRow', {
    insert_deduplication_token: 'tmpfile-1',
    deduplicate_blocks_in_dependent_materialized_views: 1,
  });
  const [{ n }] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.httpLogs}`) as [{ n: number }];
  t.equal(n, 5, 'the rows went through the file into http_logs');
  t.same(readdirSync(files), [], 'the dead process\'s file is removed, and the insert\'s file once loaded');
  t.equal(statSync(files).mode & 0o777, 0o700, 'the directory is private');
  t.same(inTmp(), [], 'nothing in the OS temp directory');
});

t.test('an insert writes Compact parts into http_logs and the raw tables up to 256 MiB (sql/0025): a handful of files, not two per column', async (t) => {
  const storage = await openTestStorage(t);
  // ~12 MiB uncompressed: past the engine's default 10 MiB, where a part is Wide
  const rows = 3000;
  const big = (table: string, column: string): string =>
    `INSERT INTO ${table} (ts, ${column}) SELECT now64(6) - number, repeat('x', 4096) FROM numbers(${rows})`;
  await storage.command(big(TABLES.httpLogs, 'path'));
  await storage.command(big(TABLES.httpRequests, 'uri'));
  const parts = await storage.query<{ table: string; part_type: string; rows: string; bytes: string }>(
    `SELECT table, part_type, toString(sum(rows)) AS rows, toString(sum(data_uncompressed_bytes)) AS bytes FROM system.parts
     WHERE active AND database || '.' || table IN ({http_logs:String}, {http_requests:String}) GROUP BY table, part_type ORDER BY table`,
    { http_logs: TABLES.httpLogs, http_requests: TABLES.httpRequests },
  );
  t.same(parts.map((p) => [p.table, p.part_type, p.rows]), [['http_logs', 'Compact', String(rows)], ['http_requests', 'Compact', String(rows)]]);
  t.ok(parts.every((p) => Number(p.bytes) > 10 * 1048576), `parts past the default Wide threshold (${parts.map((p) => p.bytes).join(', ')} bytes)`);
  const [setting] = await storage.query<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = 'ja4_logs' AND name = 'tls_events'");
  t.match(setting!.q, /min_bytes_for_wide_part = 268435456/, 'tls_events too');
});
