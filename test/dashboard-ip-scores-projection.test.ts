// ml_all_scores' by_client_ip projection (sql/0016), which the IP page's
// scores read: the engine picks it for one client's scores over a window
// (the table's own order puts an IP in every granule), and the scores read
// through it are the table's.
import t from 'tap';
import { TABLES } from '../src/storage/index.js';
import { USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { assertReadsProjection } from './helpers/projection.js';

const fx = await startDashboardFixture(t);
const B = '198.51.100.7';
const WHERE = `client_ip = toIPv6({ip:String}) AND window_start >= toDateTime({from:String}, 'UTC') AND window_start < toDateTime({to:String}, 'UTC')`;
const params = {
  ip: B,
  from: new Date(fx.hourMs - 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
  to: new Date(fx.hourMs + 2 * 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
};

// 40,000 more scores, 1,000 clients in turn over the fixture's hours, under
// 20 JA4s: the table's order (window_start, ja4, client_ip) puts every
// client in every granule (as on a busy server). With one JA4 a client's
// rows were contiguous, the primary key alone found them, and when the two
// hours fell on two days (two partitions, fixture hour 23:00 UTC) the
// engine rightly skipped the projection: the test failed from 01:00 to
// 02:00 UTC.
await fx.storage.command(
  `INSERT INTO ${TABLES.mlAllScores} (scored_at, window_start, window, client_ip, ja4, host, score)
   SELECT toDateTime64({base:UInt32} + intDiv(number, 1000), 3, 'UTC'), toDateTime({base:UInt32} + intDiv(number, 20000) * 3600, 'UTC'), '5m',
          toIPv6(IPv4NumToString(toUInt32(167772160 + number % 1000))), concat('bench_ja4_', toString(intDiv(number, 1000) % 20)), 'bulk.example', 0.1
   FROM numbers(40000)`,
  { base: fx.hourMs / 1000 },
);

t.test('the projection exists and the engine reads one IP through it', async (t) => {
  // a bulk client: in every granule of the table's order
  const bulk = { ...params, ip: '10.0.0.7' };
  await assertReadsProjection(t, fx.storage, 'ml_all_scores', 'by_client_ip', `SELECT score FROM ${TABLES.mlAllScores} WHERE ${WHERE}`, bulk);
  const [n] = await fx.storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.mlAllScores} WHERE ${WHERE}`, bulk);
  t.equal(n!.n, 40, 'its 40 scores (one in 1,000 of 40,000)');
});

t.test('the IP page: the same scores as the table holds', async (t) => {
  const direct = await fx.storage.query<{ ja4: string; score: number }>(
    `SELECT toString(ja4) AS ja4, score FROM ${TABLES.mlAllScores} WHERE ${WHERE} SETTINGS optimize_use_projections = 0`,
    params,
  );
  t.equal(direct.length, 1, 'one score of B in the fixture');
  const viewer = await login(fx.dashboard, USERS.viewer);
  const r = await api(fx.dashboard, `/api/ip/${B}/scores`, { login: viewer });
  t.same(r.body.items.map((s: any) => [s.ja4, s.score]), direct.map((s) => [s.ja4, s.score]));
});
