// Every read route of the dashboard API against the real embedded engine
// filled with the storage fixture (four clients) and three detections: a
// 200 with the values this file derives from the fixture, the validation
// errors naming their field, and the pagination bounds.
import t from 'tap';
import { ROUTES } from '../src/dashboard/api-types.js';
import { INJECTION, JA4_CHROME, JA4_GO, UA_CHROME, UA_GO } from './helpers/storage-fixture.js';
import { CAMPAIGN, IP_A, IP_B, IP_C, IP_D, TEST_SCRYPT_COST, USERS, api, login, startDashboardFixture, type Login } from './helpers/dashboard-fixture.js';
import { silentLogger } from '../src/config/index.js';
import { startDashboard } from '../src/dashboard/server.js';
import { ipValue } from '../src/dashboard/http/params.js';
import type { ClickHouseSettings } from '@clickhouse/client';

const fx = await startDashboardFixture(t);
const d = fx.dashboard;
const viewer: Login = await login(d, USERS.viewer);
const get = <T = any>(path: string) => api<T>(d, path, { login: viewer });
const close = (a: number, b: number, eps = 1e-6): boolean => Math.abs(a - b) <= eps;

t.test('status: public, says which server runs', async (t) => {
  const r = await api(d, '/api/status');
  t.equal(r.status, 200);
  t.match(r.body, { ok: true, server: 'uws', version: '0.1.0', boot_id: d.hub.bootId, seq: 0 });
});

t.test('overview: KPIs from the hourly aggregates', async (t) => {
  const r = await get('/api/overview');
  t.equal(r.status, 200);
  // 14 requests: A 6+1, B 4, C 2, D 1; automated = C (bot network) + B and D (bot JA4) = 7;
  // errors: A 404, 500 and B 403, 404 x3 = 6
  t.same(r.body.kpis, { total_requests: 14, unique_ips: 4, unique_ja4s: 2, hosts: 2, bot_share: 0.5, error_share: 6 / 14, detections: 3 });
  t.same(
    [...r.body.detections_by_level].sort((a: any, b: any) => a.threat_level.localeCompare(b.threat_level)),
    [
      { threat_level: 'critical', detections: 1, ips: 1 },
      { threat_level: 'high', detections: 1, ips: 1 },
      { threat_level: 'medium', detections: 1, ips: 1 },
    ],
  );
  t.equal(r.headers.get('cache-control'), 'no-store');
});

t.test('overview timeline: hourly points with detections', async (t) => {
  const r = await get('/api/overview/timeline');
  t.equal(r.status, 200);
  const h0 = new Date(fx.hourMs).toISOString().replace('.000Z', 'Z');
  const h1 = new Date(fx.hourMs + 3_600_000).toISOString().replace('.000Z', 'Z');
  t.same(r.body, {
    bucket_minutes: 60,
    points: [
      { bucket: h0, total_requests: 13, automated: 7, errors: 6, detections: 3 },
      { bucket: h1, total_requests: 1, automated: 0, errors: 0, detections: 0 },
    ],
  });
  const fine = await get('/api/overview/timeline?bucket_minutes=5');
  t.equal(fine.body.points.reduce((n: number, p: any) => n + p.total_requests, 0), 14, '5-minute buckets from http_logs add up');
  t.match((await get('/api/overview/timeline?bucket_minutes=2')).body, { error: { code: 'bad_request', field: 'bucket_minutes', message: /bucket_minutes must be an integer from 5 to 1440, got "2"/ } });
});

t.test('overview top: ja4, host, asn, country', async (t) => {
  const ja4 = await get('/api/overview/top/ja4');
  t.same(
    ja4.body.items.map((i: any) => [i.key, i.total_requests, i.ips]),
    [
      [JA4_CHROME, 9, 2],
      [JA4_GO, 5, 2],
    ],
  );
  t.equal(ja4.body.items[0].label, 'Chromium Browser', 'label from the FoxIO mapping');
  const host = await get('/api/overview/top/host?limit=1');
  t.same(host.body, { dimension: 'host', items: [{ key: 'shop.example', label: '', total_requests: 12, ips: 3, automated_ratio: 5 / 12 }] });
  const asn = await get('/api/overview/top/asn');
  // from agg_network_1h (sql/0014); automated as in the KPIs: B and D (bot JA4), C (bot network)
  t.same(asn.body.items.map((i: any) => [i.key, i.label, i.total_requests, i.ips, i.automated_ratio]), [
    ['64500', 'hosting', 7, 1, 0],
    ['64501', 'hosting', 4, 1, 1],
    ['15169', '', 2, 1, 1],
    ['64502', '', 1, 1, 1],
  ]);
  const country = await get('/api/overview/top/country');
  t.same(country.body.items.map((i: any) => [i.key, i.total_requests, i.ips, i.automated_ratio]), [
    ['FR', 7, 1, 0],
    ['DE', 4, 1, 1],
    ['US', 2, 1, 1],
    ['NL', 1, 1, 1],
  ]);
  t.match((await get('/api/overview/top/path')).body, { error: { code: 'bad_request', field: 'dimension' } });
  t.match((await get('/api/overview/top/ja4?limit=101')).body, { error: { field: 'limit' } });
});

t.test('detections: list, filters, sort, pages, CSV', async (t) => {
  const all = await get('/api/detections');
  t.equal(all.status, 200);
  t.same(all.body.items.map((x: any) => x.client_ip), [IP_A, IP_D, IP_B], 'newest first, IPv4 as dotted quads');
  t.equal(all.body.total, 3);
  t.same(all.body.items[2], {
    detected_at: new Date(fx.hourMs + 30 * 60_000).toISOString(),
    window_start: new Date(fx.hourMs).toISOString().replace('.000Z', 'Z'),
    window: '1h',
    client_ip: IP_B,
    ja4: JA4_GO,
    host: 'shop.example',
    model_version: 'm1',
    score: 0.93,
    threat_level: 'high',
    voices: ['iforest', 'gbt'],
    bot_name: 'Go net/http',
    campaign_id: CAMPAIGN,
    top_features: ['iat_cv', 'status_4xx_ratio'],
    top_contributions: [0.4, 0.3],
    requests: 4,
    asn: 64501,
    country: 'DE',
    user_agent: UA_GO,
  });
  t.equal(all.body.items[0].user_agent, INJECTION, 'an injection string comes back as data');
  t.ok(close(all.body.items[2].score, 0.93));
  const byScore = await get('/api/detections?sort=score&order=asc');
  t.same(byScore.body.items.map((x: any) => x.score.toFixed(2)), ['0.71', '0.93', '0.97']);
  t.same((await get('/api/detections?sort=threat_level')).body.items.map((x: any) => x.threat_level), ['critical', 'high', 'medium']);
  t.same((await get('/api/detections?level=high,critical')).body.items.map((x: any) => x.client_ip), [IP_D, IP_B]);
  t.same((await get(`/api/detections?ja4=${JA4_CHROME}`)).body.items.map((x: any) => x.client_ip), [IP_A]);
  t.same((await get(`/api/detections?ip=${encodeURIComponent(IP_D)}`)).body.items.map((x: any) => x.score.toFixed(2)), ['0.97']);
  t.same((await get(`/api/detections?campaign=${CAMPAIGN}&min_score=0.95`)).body.total, 1);
  const page = await get('/api/detections?limit=2&offset=1');
  t.match(page.body, { limit: 2, offset: 1, has_more: false, total: 3 });
  t.same(page.body.items.map((x: any) => x.client_ip), [IP_D, IP_B]);
  t.match((await get('/api/detections?limit=1')).body, { has_more: true });
  for (const [q, field] of [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['offset=100001', 'offset'],
    ['offset=-1', 'offset'],
    ['level=severe', 'level'],
    ['sort=ip', 'sort'],
    ['order=up', 'order'],
    ['ja4=nope', 'ja4'],
    ['ip=1.2.3', 'ip'],
    ['min_score=2', 'min_score'],
    ['campaign=a%20b', 'campaign'],
    ['from=yesterday', 'from'],
    ['from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
  ] as const) {
    const r = await get(`/api/detections?${q}`);
    t.equal(r.status, 400, `${q}: 400`);
    t.equal(r.body.error.field, field, `${q}: names ${field}`);
    t.match(r.body.error.message, new RegExp(`^${field} `), `${q}: the message starts with the field`);
  }
  const csv = await api(d, `/api/detections.csv?sort=score&order=desc`, { login: viewer, headers: { 'accept-encoding': 'identity' } });
  t.equal(csv.status, 200);
  t.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  t.match(csv.headers.get('content-disposition'), /attachment; filename="detections\.csv"/);
  const lines = csv.text.split('\r\n');
  t.equal(lines[0], 'detected_at,window_start,window,client_ip,ja4,host,model_version,score,threat_level,voices,bot_name,campaign_id,top_features,top_contributions,requests,asn,country,user_agent');
  t.equal(lines.length, 5, 'header, 3 rows, final CRLF');
  t.match(lines[1], new RegExp(`^[^,]+,[^,]+,1h,${IP_D.replace(/:/g, ':')},${JA4_GO},shop\\.example,m1,0\\.97,critical,gbt,Go net/http,${CAMPAIGN},ua_ja4_mismatch_ratio,0\\.8,1,64502,NL,"?Mozilla`));
  // it holds ';': quoted, or a spreadsheet splitting on ';' would start a cell there
  t.ok(lines[3]!.endsWith(`,"${INJECTION.replace(/"/g, '""')}"`), 'the injection string is one quoted CSV cell');
});

t.test('CSV export: one at a time per user, two overall; reads under a time limit', async (t) => {
  const settings: (ClickHouseSettings | undefined)[] = [];
  // the real database with every query 200 ms slower, so that concurrent exports overlap
  const slow = new Proxy(fx.storage, {
    get(target, prop) {
      if (prop === 'query') {
        return async (sql: string, params?: Record<string, unknown>, s?: ClickHouseSettings) => {
          if (sql.includes('LIMIT {limit:UInt32}')) settings.push(s);
          await new Promise((r) => setTimeout(r, 200));
          return target.query(sql, params, s);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const s = await startDashboard(slow, { listen: '127.0.0.1:0', scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger() });
  t.teardown(() => s.stop());
  const [vic, ann, ada] = [await login(s, USERS.viewer), await login(s, USERS.analyst), await login(s, USERS.admin)];
  const csv = (who: Login) => api(s, '/api/detections.csv', { login: who }).then((r) => `${r.status} ${r.headers.get('retry-after') ?? '-'}`);
  t.same((await Promise.all([csv(vic), csv(vic), csv(vic)])).sort(), ['200 -', '429 5', '429 5'], 'one session, three at once: one runs');
  t.same((await Promise.all([csv(vic), csv(ann), csv(ada)])).sort(), ['200 -', '200 -', '429 5'], 'three users at once: two run');
  t.equal(await csv(vic), '200 -', 'the slots are given back');
  // the Storage scopes them to the query (test/storage-settings-scope.test.ts)
  t.same(settings[0], { date_time_output_format: 'iso', max_execution_time: 30, max_memory_usage: '2147483648' }, 'the API reads with a time limit and the memory cap');
});

t.test('JA4 investigation', async (t) => {
  const s = await get(`/api/ja4/${JA4_GO}`);
  t.equal(s.status, 200);
  t.match(s.body, {
    ja4: JA4_GO,
    kpis: { total_requests: 5, ips: 2, distinct_uas: 2, hosts: 1, detections: 2 },
    reference: { application: 'Sliver Agent', library: 'GoLang', bot_name: 'Go net/http', bot_category: 'library', browser: '' },
    signals: { requests: 5, distinct_ips: 2 },
    classification: null,
  });
  t.ok(close(s.body.kpis.max_score, 0.97));
  t.equal(s.body.kpis.first_seen, new Date(fx.hourMs + 10 * 60_000 + 20_000).toISOString().replace('Z', '000Z'), 'first request of B, µs precision');
  const tl = await get(`/api/ja4/${JA4_GO}/timeline`);
  t.same(tl.body, { bucket_minutes: 60, points: [{ bucket: new Date(fx.hourMs).toISOString().replace('.000Z', 'Z'), total_requests: 5, ips: 2, error_count: 4 }] });
  const b = await get(`/api/ja4/${JA4_GO}/breakdown`);
  t.same(b.body.threat_levels.map((x: any) => x.threat_level).sort(), ['critical', 'high']);
  t.same(b.body.asns, [
    { asn: 64501, asn_name: 'TEST-NET-2-AS', total_requests: 4 },
    { asn: 64502, asn_name: 'DOC-V6-AS', total_requests: 1 },
  ]);
  t.same(b.body.countries, [
    { country: 'DE', total_requests: 4 },
    { country: 'NL', total_requests: 1 },
  ]);
  t.same(b.body.user_agents, [
    { user_agent: UA_GO, total_requests: 4, ips: 1 },
    { user_agent: UA_CHROME, total_requests: 1, ips: 1 },
  ]);
  const ips = await get(`/api/ja4/${JA4_GO}/ips`);
  t.same(
    ips.body.items.map((i: any) => [i.client_ip, i.total_requests, i.asn, i.country, i.max_score?.toFixed(2), i.threat_level]),
    [
      [IP_B, 4, 64501, 'DE', '0.93', 'high'],
      [IP_D, 1, 64502, 'NL', '0.97', 'critical'],
    ],
  );
  const chromeIps = await get(`/api/ja4/${JA4_CHROME}/ips?limit=1`);
  t.match(chromeIps.body, { limit: 1, has_more: true, items: [{ client_ip: IP_A, total_requests: 7 }] });
  const f = await get(`/api/ja4/${JA4_GO}/features`);
  t.equal(f.body.rows, 1, 'one hour with traffic');
  t.match(f.body.features, { distinct_ips: 2, distinct_asns: 2, h2_h3_ratio: 0.2, error_ratio: 0.8 }, 'D claims HTTP/3; B all errors');
  t.same(f.body.features.status_4xx_ratio, 0.8, 'B 4 of 4 requests 4xx, D 0 of 1: 4/5 of the requests');
  t.same(f.body.features.ua_ja4_mismatch_ratio, 0.2, "D's one request: a browser UA over the Go JA4");
  t.same(f.body.features.distinct_uas, 2);
  t.match((await get('/api/ja4/not-a-ja4')).body, { error: { code: 'bad_request', field: 'fp' } });
  t.equal((await get(`/api/ja4/${encodeURIComponent("x' OR 1=1 --")}/ips`)).status, 400);
});

t.test('IP investigation', async (t) => {
  const s = await get(`/api/ip/${IP_A}`);
  t.match(s.body, {
    ip: IP_A,
    kpis: { total_requests: 7, ja4s: 1, hosts: 1, detections: 1 },
    network: { asn: 64500, asn_name: 'TEST-NET-3-AS', country: 'FR', asn_label: 'hosting', bot_network: '' },
    classification: null,
  });
  t.match((await get(`/api/ip/${IP_C}`)).body, { network: { asn: 15169, bot_network: 'Googlebot' }, kpis: { total_requests: 2 } });
  t.match((await get(`/api/ip/${encodeURIComponent(IP_D)}`)).body, { ip: IP_D, network: { country: 'NL', asn_name: 'DOC-V6-AS' } });
  t.match((await get('/api/ip/%3A%3Affff%3A203.0.113.10')).body, { ip: IP_A }, 'an IPv4-mapped address is the IPv4 one');
  t.match((await get('/api/ip/%3A%3AFFFF%3ACB00%3A710A')).body, { ip: IP_A }, 'also written in hex, in capitals');
  t.same(['2001:DB8:0:0:0:0:0:1', '2001:db8::0:1', '::FFFF:1.2.3.4'].map((v) => ipValue('ip', v)), ['2001:db8::1', '2001:db8::1', '1.2.3.4'], 'the canonical text, whatever the spelling');
  t.throws(() => ipValue('ip', 'fe80::1%eth0'), /ip must be an IPv4 or IPv6 address, got "fe80::1%eth0"/, 'a zone index: refused (400, not a 500 from the engine)');
  const h = await get(`/api/ip/${IP_A}/history`);
  t.same(
    h.body.hours.map((x: any) => [x.total_requests, x.ja4s, x.hosts, x.distinct_paths, x.error_count]),
    [
      [6, [JA4_CHROME], ['shop.example'], 4, 2], // paths /, /a, /b, /c
      [1, [JA4_CHROME], ['shop.example'], 1, 0],
    ],
  );
  t.same(h.body.user_agents.map((u: any) => [u.user_agent, u.total_requests]), [
    [UA_CHROME, 6],
    [UA_CHROME, 1],
  ]);
  const c = await get(`/api/ip/${IP_B}/cadence?bucket_seconds=1`);
  t.same(c.body.points.map((p: any) => p.total_requests), [4], 'four requests within one second');
  t.same(c.body.iat, { n: 3, mean_ms: 100, cv: 0 }, 'B is a metronome: 100 ms gaps');
  t.match((await get(`/api/ip/${IP_B}/cadence?from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z`)).body, { error: { field: 'from', message: /at most 1 days/ } });
  const sc = await get(`/api/ip/${IP_B}/scores`);
  t.equal(sc.body.items.length, 1);
  t.match(sc.body.items[0], { ja4: JA4_GO, host: 'shop.example', threat_level: 'high', is_anomaly: true, bot_name: 'Go net/http', top_features: ['iat_cv', 'status_4xx_ratio'] });
  t.ok(close(sc.body.items[0].score_gbt, 0.99));
  t.match((await get(`/api/ip/${IP_C}/scores`)).body.items[0], { is_anomaly: false, top_features: [], threat_level: 'low' }, 'a score without detection: no explanation');
  t.match((await get('/api/ip/999.1.1.1')).body, { error: { code: 'bad_request', field: 'ip', message: 'ip must be an IPv4 or IPv6 address, got "999.1.1.1"' } });
});

t.test('campaigns and a cluster', async (t) => {
  const list = await get('/api/campaigns');
  t.equal(list.body.items.length, 1);
  t.match(list.body.items[0], { campaign_id: CAMPAIGN, detections: 2, ips: 2, ja4s: 1, hosts: 1, max_threat_level: 'critical', top_ja4: JA4_GO, classification: '' });
  const c = await get(`/api/campaigns/${CAMPAIGN}`);
  t.match(c.body, {
    campaign: { campaign_id: CAMPAIGN, detections: 2 },
    timeline: [{ detections: 2, ips: 2 }],
    ja4s: [{ ja4: JA4_GO, detections: 2, ips: 2 }],
    hosts: [{ host: 'shop.example', detections: 2, ips: 2 }],
    classification: null,
  });
  t.same(c.body.asns.map((a: any) => a.asn).sort(), [64501, 64502]);
  const m = await get(`/api/campaigns/${CAMPAIGN}/members`);
  t.same(
    m.body.items.map((x: any) => [x.client_ip, x.detections, x.threat_level, x.country, x.ja4s]),
    [
      [IP_D, 1, 'critical', 'NL', [JA4_GO]],
      [IP_B, 1, 'high', 'DE', [JA4_GO]],
    ],
  );
  t.equal((await get('/api/campaigns/none-such')).status, 404);
  t.match((await get('/api/campaigns/a%20b/members')).body, { error: { field: 'id' } });
});

t.test('HTTP log explorer', async (t) => {
  const all = await get('/api/logs?from=' + new Date(fx.hourMs).toISOString() + '&limit=500');
  t.equal(all.body.items.length, 14);
  t.equal(all.body.items[0].path, '/next', 'newest first');
  // read from the window's newest hour outwards: the same pages whichever window answers
  const span = `from=${new Date(fx.hourMs - 86_400_000).toISOString()}&to=${new Date(fx.hourMs + 3_600_000 + 10_000).toISOString()}`;
  const paths = (r: any) => [r.body.items.map((i: any) => i.request_id), r.body.has_more];
  const ids = all.body.items.map((i: any) => i.request_id);
  t.same(paths(await get(`/api/logs?${span}&limit=5&offset=3`)), [ids.slice(3, 8), true], 'the newest hour holds the page');
  t.same(paths(await get(`/api/logs?${span}&limit=5&offset=10`)), [ids.slice(10, 14), false], 'the page runs past the newest hour: the whole window');
  t.same(paths(await get(`/api/logs?${span}&limit=13`)), [ids.slice(0, 13), true], 'limit + 1 rows in the newest hour');
  const b = await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&ip=${IP_B}&status=4xx`);
  t.same(b.body.items.map((r: any) => [r.path, r.status]), [
    ['/.env', 404],
    ['/wp-admin', 404],
    ['/admin/login', 404],
    ['/admin', 403],
  ]);
  const one = await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&path=/admin&status=403`);
  t.match(one.body.items, [{ client_ip: IP_B, path: '/admin', status: 403, ja4: JA4_GO, asn: 64501, country: 'DE', bot_ja4_name: 'Go net/http', crawler_rule: 'go-client' }]);
  // the fixture's requests carry no method
  t.equal((await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&method=post`)).body.items.length, 0, 'method filter');
  t.equal((await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&user_agent=googlebot&country=us`)).body.items.length, 2, 'UA substring, any case');
  t.equal((await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&asn=15169&host=blog.example`)).body.items.length, 2);
  t.equal((await get(`/api/logs?from=${new Date(fx.hourMs).toISOString()}&user_agent=${encodeURIComponent(INJECTION)}`)).body.items.length, 0, 'an injection string is a harmless filter value');
  for (const [q, field] of [
    ['status=99x', 'status'],
    ['method=G%20T', 'method'],
    ['country=FRA', 'country'],
    ['asn=-1', 'asn'],
    ['from=2026-01-01T00:00:00Z&to=2026-01-09T00:00:00Z', 'from'],
  ] as const) {
    t.equal((await get(`/api/logs?${q}`)).body.error?.field, field, `${q}: names ${field}`);
  }
});

t.test('model status, pipeline health', async (t) => {
  const m = await get('/api/model');
  t.match(m.body, { versions: [{ model_version: 'm1', rows: 4, anomalies: 3, anomaly_rate: 0.75 }], manifest: null });
  t.same(m.body.drift.map((x: any) => [x.rows, x.anomaly_rate]), [[4, 0.75]]);
  t.same(m.body.voices[0], { voice: 'gbt', detections: 2 }, 'gbt fired in two detections');
  t.same(m.body.voices.map((v: any) => v.voice).sort(), ['autoencoder', 'gbt', 'iforest']);
  const p = await get('/api/pipeline');
  t.match(p.body, { counters: {}, spool: null, websocket: { clients: 0, dropped_slow: 0 } });
  t.equal(p.body.ingest_per_minute.reduce((n: number, x: any) => n + x.rows, 0), 14, 'the 14 rows arrived in the last 15 minutes');
  t.ok(p.body.lag_seconds.http_logs >= 3600 && p.body.lag_seconds.http_logs < 7200, 'newest request about an hour old');
});

t.test('routes, methods, not found', async (t) => {
  t.match((await api(d, '/api/nothing', { login: viewer })).body, { error: { code: 'not_found' } });
  const r = await api(d, ROUTES.overview.path, { method: 'DELETE', login: viewer });
  t.equal(r.status, 405);
  t.equal(r.headers.get('allow'), 'GET');
  t.equal((await api(d, '/api/detections')).status, 401, 'no session: 401');
  const big = await api(d, '/api/auth/login', { method: 'POST', body: 'x'.repeat(70_000) });
  t.equal(big.status, 413);
  t.match((await api(d, '/api/auth/login', { method: 'POST', body: '{not json' })).body, { error: { code: 'bad_request', field: 'body' } });
});

t.test('compression and the web bundle', async (t) => {
  const r = await fetch(`${d.url}/api/detections?limit=50`, { headers: { cookie: viewer.cookie, 'accept-encoding': 'br' } });
  t.equal(r.headers.get('content-encoding'), 'br', 'brotli for a JSON answer over 1 KiB');
  t.equal((await r.json() as any).items.length, 3, 'and it decodes');
  const g = await fetch(`${d.url}/api/detections`, { headers: { cookie: viewer.cookie, 'accept-encoding': 'gzip' } });
  t.equal(g.headers.get('content-encoding'), 'gzip');
  const small = await fetch(`${d.url}/api/status`, { headers: { 'accept-encoding': 'br' } });
  t.equal(small.headers.get('content-encoding'), null, 'small answers are sent as they are');
});

t.test('the web bundle: caching headers, compression, SPA fallback, no escape', async (t) => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { request } = await import('node:http');
  const { scratchDir } = await import('./helpers/scratch-dir.js');
  const { startDashboard } = await import('../src/dashboard/server.js');
  const web = scratchDir(t, 'ja4-web-');
  mkdirSync(join(web, 'assets'));
  const index = '<!doctype html><title>ja4</title><script type="module" src="/assets/main-AB12CD34.js"></script>';
  const js = `export const x = ${JSON.stringify('chart '.repeat(2000))};\n`;
  writeFileSync(join(web, 'index.html'), index);
  writeFileSync(join(web, 'assets', 'main-AB12CD34.js'), js);
  writeFileSync(join(web, 'robots.txt'), 'User-agent: *\n');
  const s = await startDashboard(fx.storage, { listen: '127.0.0.1:0', webDir: web, publisher: false, log: silentLogger() });
  t.teardown(() => s.stop());

  const root = await fetch(`${s.url}/`);
  t.equal(await root.text(), index);
  t.equal(root.headers.get('cache-control'), 'no-cache', 'index.html is revalidated');
  t.match(root.headers.get('content-security-policy'), /default-src 'self'/);
  for (const page of ['/wall', `/ja4/${JA4_GO}`, `/ip/${IP_A}`, '/cluster/camp-go-1', '/detections']) {
    const r = await fetch(s.url + page);
    t.same([r.status, await r.text()], [200, index], `${page}: the client-side router's page`);
  }
  const asset = await fetch(`${s.url}/assets/main-AB12CD34.js`, { headers: { 'accept-encoding': 'br' } });
  t.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'hashed names are cached for good');
  t.equal(asset.headers.get('content-encoding'), 'br');
  t.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.equal(await asset.text(), js, 'brotli decodes to the file');
  const gz = await fetch(`${s.url}/assets/main-AB12CD34.js`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(gz.headers.get('content-encoding'), 'gzip');
  t.equal((await fetch(`${s.url}/robots.txt`)).headers.get('cache-control'), 'no-cache');
  t.equal((await fetch(`${s.url}/assets/missing-AB12CD34.js`)).status, 404);
  t.equal((await fetch(`${s.url}/`, { method: 'POST' })).status, 405);
  // a raw request line, so that no client normalizes the dots away
  const raw = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, path, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  for (const path of ['/../../../../etc/passwd', '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/%2e%2e%2fpackage.json']) {
    const r = await raw(path);
    t.notMatch(r.body, /root:|"name": "ja4-platform"/, `${path}: nothing outside the bundle`);
  }
  const bare = await startDashboard(fx.storage, { listen: '127.0.0.1:0', webDir: join(web, 'nothing-here'), publisher: false, log: silentLogger() });
  t.teardown(() => bare.stop());
  const missing = await fetch(`${bare.url}/wall`);
  t.equal(missing.status, 503);
  t.match(await missing.text(), /web bundle is not built: run <code>make build-web<\/code>/);
});

t.test('stop() closes keep-alive connections and returns promptly', async (t) => {
  const { Agent, request } = await import('node:http');
  const { startDashboard } = await import('../src/dashboard/server.js');
  const s = await startDashboard(fx.storage, { listen: '127.0.0.1:0', publisher: false, log: silentLogger() });
  t.teardown(() => s.stop());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  // one request through a keep-alive agent: its socket stays open and idle afterwards
  const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path: '/api/status', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.socket!));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(socket.destroyed, false, 'the client keeps its connection open');
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  const t0 = performance.now();
  await s.stop();
  t.ok(performance.now() - t0 < 500, 'stop() resolves at once');
  const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 2000))]);
  t.ok(closedAt >= 0 && closedAt - t0 < 1000, `the server closed the kept-alive connection (${closedAt < 0 ? 'not within 2 s' : `${(closedAt - t0).toFixed(0)} ms`})`);
  await t.rejects(fetch(`${s.url}/api/status`), 'nothing listens any more');
});
