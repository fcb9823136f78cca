// agg_ja4_network_1h and agg_ja4_ua_1h (sql/0018), the JA4 page's ASN,
// country and user-agent charts, and agg_ja4_ip_1h (sql/0020), its client
// IPs: the views fill them from http_logs (exact
// rows), the route answers what the old queries over http_logs answered for
// windows on and off the hour (the user agents' partial hours come from
// http_logs), and the migration's backfill, run again on emptied tables,
// computes the same rows (an upgraded installation's past hours).
import t from 'tap';
import { TABLES } from '../src/storage/index.js';
import { API_SETTINGS } from '../src/dashboard/sql.js';
import { wholeHours } from '../src/dashboard/routes/ja4.js';
import { fixtureRows, JA4_CHROME, JA4_GO, UA_GOOGLEBOT, INJECTION } from './helpers/storage-fixture.js';
import { USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { assertBackfillRecomputes } from './helpers/migration-backfill.js';

const fx = await startDashboardFixture(t);
const hourUs = fx.hourMs * 1000;
const MIN = 60e6;
// more Chrome-JA4 clients: at :40 and :55 of the fixture's hour, :20 and :50 of the next one
// (the fixture's A, C and D are in AS64500/FR, AS15169/US, AS64502/NL)
const [a0] = fixtureRows(hourUs);
const extra = [
  { ...a0!, request_id: 'bd-1', ts: hourUs + 40 * MIN, client_ip: '66.249.66.2', headers: { 'user-agent': 'curl/8.5.0' } },
  { ...a0!, request_id: 'bd-2', ts: hourUs + 55 * MIN, client_ip: '66.249.66.3', headers: { 'user-agent': 'curl/8.5.0' } },
  { ...a0!, request_id: 'bd-3', ts: hourUs + 80 * MIN, client_ip: '66.249.66.2', headers: { 'user-agent': 'curl/8.5.0' } },
  { ...a0!, request_id: 'bd-4', ts: hourUs + 110 * MIN, client_ip: '203.0.113.10', headers: { 'user-agent': INJECTION } },
  { ...a0!, request_id: 'bd-5', ts: hourUs + 111 * MIN, client_ip: '203.0.113.10', headers: { 'user-agent': UA_GOOGLEBOT } },
];
await fx.storage.insertRows(TABLES.httpLogsIngest, extra as unknown as Record<string, unknown>[]);

// the route's queries before sql/0018, with the tie-breaks (key order) the route adds
const JA4_HOURS = "ja4 = {ja4:String} AND toStartOfHour(ts) >= toStartOfHour({from:DateTime('UTC')}) AND toStartOfHour(ts) < {to:DateTime('UTC')}";
const TS = "ts >= {from:DateTime64(6, 'UTC')} AND ts < {to:DateTime64(6, 'UTC')}";
const OLD = {
  asns: `SELECT a.asn AS asn, ifNull(n.asn_name, '') AS asn_name, a.total_requests AS total_requests
         FROM (SELECT asn, count() AS total_requests FROM ${TABLES.httpLogs} WHERE ${JA4_HOURS} GROUP BY asn ORDER BY total_requests DESC, asn LIMIT 20) AS a
         LEFT JOIN (SELECT asn, any(name) AS asn_name FROM ja4_processing.ref_ip_asn GROUP BY asn) AS n ON n.asn = a.asn
         ORDER BY total_requests DESC, asn`,
  countries: `SELECT toString(country) AS country, count() AS total_requests FROM ${TABLES.httpLogs} WHERE ${JA4_HOURS}
              GROUP BY country ORDER BY total_requests DESC, country LIMIT 20`,
  user_agents: `SELECT user_agent, count() AS total_requests, uniq(client_ip) AS ips FROM ${TABLES.httpLogs}
                WHERE ja4 = {ja4:String} AND ${TS} GROUP BY user_agent ORDER BY total_requests DESC, user_agent LIMIT 20`,
};
const OLD_IPS = `SELECT replaceRegexpOne(toString(i.client_ip), '^::ffff:(\\d+\\.\\d+\\.\\d+\\.\\d+)$', '\\1') AS client_ip, i.total_requests AS total_requests,
         i.asn AS asn, toString(i.country) AS country, if(d.n > 0, d.max_score, NULL) AS max_score, if(d.n > 0, d.level, '') AS threat_level, i.last_seen AS last_seen
  FROM (SELECT client_ip, count() AS total_requests, max(asn) AS asn, max(country) AS country, max(ts) AS last_seen
        FROM ${TABLES.httpLogs} WHERE ${JA4_HOURS} GROUP BY client_ip) AS i
  LEFT JOIN (SELECT client_ip, count() AS n, max(score) AS max_score, toString(argMax(threat_level, score)) AS level
             FROM ${TABLES.mlDetectedAnomalies} WHERE ja4 = {ja4:String} AND detected_at >= {from:DateTime('UTC')} AND detected_at < {to:DateTime('UTC')}
             GROUP BY client_ip) AS d ON d.client_ip = i.client_ip
  ORDER BY total_requests DESC, client_ip LIMIT 26 OFFSET 0`;
const IP_ROWS = `SELECT ja4, hour, toString(client_ip) AS ip, sum(requests) AS requests, max(asn) AS asn, toString(max(country)) AS country, max(last_seen) AS last_seen
                 FROM ${TABLES.aggJa4Ip} GROUP BY ja4, hour, client_ip ORDER BY ja4, hour, ip`;
const NETWORK_ROWS = `SELECT ja4, hour, asn, toString(country) AS country, sum(requests) AS requests FROM ${TABLES.aggJa4Network}
                      GROUP BY ja4, hour, asn, country ORDER BY ja4, hour, asn`;
const UA_ROWS = `SELECT ja4, hour, user_agent, sum(requests) AS requests, uniqMerge(client_ips) AS ips FROM ${TABLES.aggJa4Ua}
                 GROUP BY ja4, hour, user_agent ORDER BY ja4, hour, user_agent`;
const iso = (ms: number) => new Date(ms).toISOString();
const chTime = (ms: number) => iso(ms).replace('T', ' ').replace('Z', '');

t.test('whole hours of a window', async (t) => {
  const h = fx.hourMs;
  const whole = (from: number, to: number) => wholeHours({ from: new Date(from), to: new Date(to) });
  t.same(whole(h + 1, h + 2 * 3_600_000 - 1), { whole_from: chTime(h + 3_600_000).slice(0, 19), whole_to: chTime(h + 3_600_000).slice(0, 19) }, 'one whole hour is none');
  t.same(whole(h, h + 2 * 3_600_000), { whole_from: chTime(h).slice(0, 19), whole_to: chTime(h + 2 * 3_600_000).slice(0, 19) }, 'on the hour: both');
  t.same(whole(h + 60_000, h + 120_000), { whole_from: chTime(h + 3_600_000).slice(0, 19), whole_to: chTime(h).slice(0, 19) }, 'inside one hour: empty');
});

t.test('the views: one row per JA4 x hour x network and per JA4 x hour x user agent', async (t) => {
  const hour = iso(fx.hourMs).replace('.000Z', 'Z');
  const next = iso(fx.hourMs + 3_600_000).replace('.000Z', 'Z');
  const net = await fx.storage.query<Record<string, unknown>>(NETWORK_ROWS, {}, API_SETTINGS);
  t.same(
    net.filter((r) => r.ja4 === JA4_CHROME).map((r) => [r.hour, r.asn, r.country, r.requests]),
    [
      [hour, 15169, 'US', 4],
      [hour, 64500, 'FR', 6],
      [next, 15169, 'US', 1],
      [next, 64500, 'FR', 3],
    ],
  );
  const ua = await fx.storage.query<Record<string, unknown>>(UA_ROWS, {}, API_SETTINGS);
  t.same(
    ua.filter((r) => r.ja4 === JA4_GO).map((r) => [r.hour, r.user_agent, r.requests, r.ips]),
    [
      [hour, 'Go-http-client/1.1', 4, 1],
      [hour, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 1, 1],
    ],
  );
  t.same(
    ua.filter((r) => r.ja4 === JA4_CHROME && r.user_agent === 'curl/8.5.0').map((r) => [r.hour, r.requests, r.ips]),
    [
      [hour, 2, 2],
      [next, 1, 1],
    ],
    'distinct IPs per hour',
  );
  const ips = await fx.storage.query<Record<string, unknown>>(IP_ROWS, {}, API_SETTINGS);
  t.same(
    ips.filter((r) => r.ja4 === JA4_CHROME).map((r) => [r.hour, r.ip, r.requests, r.asn, r.country]),
    [
      [hour, '::ffff:203.0.113.10', 6, 64500, 'FR'],
      [hour, '::ffff:66.249.66.1', 2, 15169, 'US'],
      [hour, '::ffff:66.249.66.2', 1, 15169, 'US'],
      [hour, '::ffff:66.249.66.3', 1, 15169, 'US'],
      [next, '::ffff:203.0.113.10', 3, 64500, 'FR'],
      [next, '::ffff:66.249.66.2', 1, 15169, 'US'],
    ],
    'one row per JA4 x hour x client',
  );
  t.equal(ips.find((r) => r.ja4 === JA4_CHROME && r.hour === next && r.ip === '::ffff:203.0.113.10')?.last_seen, iso(fx.hourMs + 111 * 60_000).replace('Z', '000Z'), 'its last request');
});

t.test('the route answers what the old queries over http_logs answered', async (t) => {
  const viewer = await login(fx.dashboard, USERS.viewer);
  const h = fx.hourMs;
  const ranges: [string, number, number][] = [
    ['whole hours around both', h - 3_600_000, h + 2 * 3_600_000],
    ['both ends mid-hour', h + 30 * 60_000, h + 100 * 60_000],
    ['inside one hour', h + 20 * 60_000, h + 50 * 60_000],
    ['from on the hour, to mid-hour', h, h + 110 * 60_000 + 30_000],
    ['from mid-hour, to on the hour', h + 45 * 60_000, h + 2 * 3_600_000],
    ['no requests', h - 5 * 3_600_000, h - 3_600_000],
  ];
  for (const ja4 of [JA4_CHROME, JA4_GO]) {
    for (const [name, from, to] of ranges) {
      const r = await api(fx.dashboard, `/api/ja4/${ja4}/breakdown?from=${iso(from)}&to=${iso(to)}`, { login: viewer });
      t.equal(r.status, 200, name);
      const p = { from: chTime(from), to: chTime(to), ja4 };
      const sec = { ...p, from: p.from.slice(0, 19), to: p.to.slice(0, 19) };
      t.same(r.body.asns, await fx.storage.query(OLD.asns, sec, API_SETTINGS), `${ja4} ${name}: ASNs`);
      t.same(r.body.countries, await fx.storage.query(OLD.countries, sec, API_SETTINGS), `${ja4} ${name}: countries`);
      t.same(r.body.user_agents, await fx.storage.query(OLD.user_agents, p, API_SETTINGS), `${ja4} ${name}: user agents`);
      const ips = await api(fx.dashboard, `/api/ja4/${ja4}/ips?from=${iso(from)}&to=${iso(to)}&limit=25&offset=0`, { login: viewer });
      t.same(ips.body.items, await fx.storage.query(OLD_IPS, sec, API_SETTINGS), `${ja4} ${name}: client IPs`);
    }
  }
  const r = await api(fx.dashboard, `/api/ja4/${JA4_CHROME}/breakdown?from=${iso(h + 30 * 60_000)}&to=${iso(h + 100 * 60_000)}`, { login: viewer });
  t.same(
    r.body.user_agents.map((u: Record<string, unknown>) => [u.user_agent, u.total_requests, u.ips]),
    [
      ['curl/8.5.0', 3, 2],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 1, 1],
    ],
    "mid-hour ends: curl at :40, :55 and the next hour's :20 from two IPs, A at 1:00; A's :10 and 1:50 are outside",
  );
});

t.test('the backfill of an upgrade computes the same rows from http_logs', async (t) => {
  await assertBackfillRecomputes(
    t,
    fx.storage,
    '0018_create_ja4_breakdown_aggregates.sql',
    2,
    [
      { table: TABLES.aggJa4Network, rows: NETWORK_ROWS },
      { table: TABLES.aggJa4Ua, rows: UA_ROWS },
    ],
    'the same hours, networks, user agents, counts and IPs',
  );
});

t.test('the backfill of sql/0020 computes the same client rows from http_logs', async (t) => {
  await assertBackfillRecomputes(t, fx.storage, '0020_create_ja4_client_aggregate.sql', 1, [{ table: TABLES.aggJa4Ip, rows: IP_ROWS }], 'the same JA4s, hours, clients, counts, networks and last requests');
});
