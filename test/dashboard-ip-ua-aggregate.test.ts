// agg_ip_ua_1h (sql/0015), the IP page's user-agent rotation: the view
// fills it from the storage fixture's requests plus a client that changes
// user agent (one row per IP x hour x user agent, exact counts), the
// migration's backfill, run again on an emptied table, computes the same
// rows from http_logs (an upgraded installation's past hours), and the
// route reads it.
import t from 'tap';
import { API_SETTINGS } from '../src/dashboard/sql.js';
import { TABLES } from '../src/storage/index.js';
import { fixtureRows, UA_CHROME, UA_GO, UA_GOOGLEBOT, INJECTION } from './helpers/storage-fixture.js';
import { USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { assertBackfillRecomputes } from './helpers/migration-backfill.js';

const fx = await startDashboardFixture(t);
const hourUs = fx.hourMs * 1000;
const A = '203.0.113.10';
// client A rotates: two more requests in the fixture's hour, as curl and with an injection string as its UA
const [a0] = fixtureRows(hourUs);
const extra = [
  { ...a0!, request_id: 'ua-rot-1', ts: hourUs + 50 * 60e6, headers: { 'user-agent': 'curl/8.5.0' } },
  { ...a0!, request_id: 'ua-rot-2', ts: hourUs + 51 * 60e6, headers: { 'user-agent': INJECTION } },
  { ...a0!, request_id: 'ua-rot-3', ts: hourUs + 52 * 60e6, headers: { 'user-agent': 'curl/8.5.0' } },
];
await fx.storage.insertRows(TABLES.httpLogsIngest, extra as unknown as Record<string, unknown>[]);

const ROWS = `SELECT toString(client_ip) AS ip, hour, user_agent, sum(requests) AS requests
              FROM ${TABLES.aggIpUa} GROUP BY client_ip, hour, user_agent ORDER BY ip, hour, requests DESC, user_agent`;
const hourText = (us: number) => new Date(us / 1000).toISOString().replace('.000Z', 'Z');
const hour = hourText(hourUs);
const next = hourText(hourUs + 3_600_000_000);

t.test('the view: one row per IP x hour x user agent', async (t) => {
  const rows = await fx.storage.query<Record<string, unknown>>(ROWS, {}, API_SETTINGS);
  t.same(
    rows.map((r) => [r.ip, r.hour, r.user_agent, r.requests]),
    [
      ['2001:db8::5', hour, UA_CHROME, 1],
      ['::ffff:198.51.100.7', hour, UA_GO, 4],
      ['::ffff:203.0.113.10', hour, UA_CHROME, 6],
      ['::ffff:203.0.113.10', hour, 'curl/8.5.0', 2],
      ['::ffff:203.0.113.10', hour, INJECTION, 1],
      ['::ffff:203.0.113.10', next, UA_CHROME, 1],
      ['::ffff:66.249.66.1', hour, UA_GOOGLEBOT, 2],
    ],
  );
});

t.test('the IP page reads it: user agents per hour, most used first', async (t) => {
  const viewer = await login(fx.dashboard, USERS.viewer);
  const from = new Date(fx.hourMs - 3_600_000).toISOString();
  const to = new Date(fx.hourMs + 2 * 3_600_000).toISOString();
  const h = await api(fx.dashboard, `/api/ip/${A}/history?from=${from}&to=${to}`, { login: viewer });
  t.equal(h.status, 200);
  const hourIso = new Date(fx.hourMs).toISOString().replace('.000Z', 'Z');
  const nextIso = new Date(fx.hourMs + 3_600_000).toISOString().replace('.000Z', 'Z');
  t.same(h.body.user_agents, [
    { hour_start: hourIso, user_agent: UA_CHROME, total_requests: 6 },
    { hour_start: hourIso, user_agent: 'curl/8.5.0', total_requests: 2 },
    { hour_start: hourIso, user_agent: INJECTION, total_requests: 1 },
    { hour_start: nextIso, user_agent: UA_CHROME, total_requests: 1 },
  ]);
  const b = await api(fx.dashboard, `/api/ip/::ffff:198.51.100.7/history?from=${from}&to=${to}`, { login: viewer });
  t.same(b.body.user_agents, [{ hour_start: hourIso, user_agent: UA_GO, total_requests: 4 }], 'an IPv4-mapped address is the IPv4 one');
});

t.test('the backfill of an upgrade computes the same rows from http_logs', async (t) => {
  await assertBackfillRecomputes(t, fx.storage, '0015_create_ip_user_agent_aggregate.sql', 1, [{ table: TABLES.aggIpUa, rows: ROWS }], 'the same IPs, hours, user agents and counts');
});
