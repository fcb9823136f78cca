// agg_model_scores (sql/0017), the model status page's versions and drift:
// the view fills it from scores written in several inserts (two versions,
// hourly and five-minute windows, a window after a range's mid-hour end),
// the route answers exactly what the old queries over ml_all_scores
// answered, and the migration's backfill, run again on an emptied table,
// computes the same rows (an upgraded installation's past scores).
import t from 'tap';
import { TABLES } from '../src/storage/index.js';
import { API_SETTINGS } from '../src/dashboard/sql.js';
import { IP_A, IP_B, USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { JA4_CHROME, JA4_GO } from './helpers/storage-fixture.js';
import { assertBackfillRecomputes } from './helpers/migration-backfill.js';

const fx = await startDashboardFixture(t);
const sec = Math.floor(fx.hourMs / 1000);
const score = (o: Record<string, unknown>) => ({
  window: '5m', client_ip: IP_A, ja4: JA4_CHROME, host: 'shop.example', model_version: 'm2', score_iforest: 0.5, score_autoencoder: 0.5, score_gbt: 0.5,
  threat_level: 'low', is_anomaly: false, bot_name: '', ...o,
});
// the fixture's 4 m1 scores (hourly window) plus, in two inserts: m2 five-minute windows in the
// same hour (one at :50, after a range ending at :45), and the next hour with both versions
await fx.storage.insertRows(TABLES.mlAllScores, [
  score({ window_start: sec + 10 * 60, scored_at: fx.hourMs + 16 * 60_000, score: 0.25 }),
  score({ window_start: sec + 10 * 60, scored_at: fx.hourMs + 16 * 60_000, client_ip: IP_B, ja4: JA4_GO, score: 0.95, threat_level: 'high', is_anomaly: true }),
  score({ window_start: sec + 50 * 60, scored_at: fx.hourMs + 56 * 60_000, score: 0.5 }),
]);
await fx.storage.insertRows(TABLES.mlAllScores, [
  score({ window_start: sec + 10 * 60, scored_at: fx.hourMs + 17 * 60_000, host: 'blog.example', score: 0.125 }),
  score({ window_start: sec + 3600, scored_at: fx.hourMs + 3605 * 1000, score: 0.75, is_anomaly: true }),
  score({ window_start: sec + 3600, scored_at: fx.hourMs + 3700 * 1000, window: '1h', model_version: 'm1', score: 0.375 }),
]);

// the route's queries before sql/0017, over every score
const WINDOW = "window_start >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND window_start < {to:DateTime64(3, 'UTC')}";
const OLD_VERSIONS = `SELECT toString(model_version) AS model_version, min(scored_at) AS first_scored, max(scored_at) AS last_scored, count() AS rows,
                             countIf(is_anomaly) AS anomalies, anomalies / rows AS anomaly_rate
                      FROM ${TABLES.mlAllScores} WHERE ${WINDOW} GROUP BY model_version ORDER BY last_scored DESC`;
const OLD_DRIFT = `SELECT toStartOfHour(window_start) AS hour, count() AS rows, avg(score) AS mean_score, quantile(0.5)(score) AS p50,
                          quantile(0.95)(score) AS p95, countIf(is_anomaly) / rows AS anomaly_rate
                   FROM ${TABLES.mlAllScores} WHERE ${WINDOW} GROUP BY hour ORDER BY hour`;
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const ROWS = `SELECT window_start, toString(model_version) AS v, min(first_scored_at) AS first, max(last_scored_at) AS last, sum(scores) AS n,
                     sum(anomaly_scores) AS a, avgMerge(score_avg) AS mean, quantilesMerge(0.5, 0.95)(score_quantiles) AS q
              FROM ${TABLES.aggModelScores} GROUP BY window_start, model_version ORDER BY window_start, v`;

t.test('the view: one row per window start x model version', async (t) => {
  const rows = await fx.storage.query<Record<string, unknown>>(ROWS, {}, API_SETTINGS);
  const at = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
  const expected: [string, string, number, number, number][] = [
    [at(sec), 'm1', 4, 3, (0.71 + 0.93 + 0.12 + 0.97) / 4],
    [at(sec + 600), 'm2', 3, 1, (0.25 + 0.95 + 0.125) / 3],
    [at(sec + 3000), 'm2', 1, 0, 0.5],
    [at(sec + 3600), 'm1', 1, 0, 0.375],
    [at(sec + 3600), 'm2', 1, 1, 0.75],
  ];
  t.same(
    rows.map((r) => [r.window_start, r.v, r.n, r.a]),
    expected.map((e) => e.slice(0, 4)),
  );
  // float32 scores: their means agree with the decimal ones to float32 precision
  t.same(
    rows.map((r, i) => Math.abs(Number(r.mean) - expected[i]![4]) < 1e-6),
    expected.map(() => true),
    'the mean of each window',
  );
  // the window of three scores in two inserts: its states merged, the counts summed
  const w10 = rows.find((r) => r.window_start === at(sec + 600));
  t.same([w10?.n, w10?.a, w10?.q], [3, 1, [0.25, 0.8799999892711639]], 'quantiles of 0.125, 0.25 and 0.95 (float32), interpolated');
});

t.test('the route answers what the old queries over ml_all_scores answered', async (t) => {
  const viewer = await login(fx.dashboard, USERS.viewer);
  const ranges: [string, number, number][] = [
    ['both hours', fx.hourMs - 3_600_000, fx.hourMs + 2 * 3_600_000],
    ['ending mid-hour, before the :50 window', fx.hourMs, fx.hourMs + 45 * 60_000],
    ['starting mid-hour (its hour counts)', fx.hourMs + 30 * 60_000, fx.hourMs + 2 * 3_600_000],
    ['the second hour only', fx.hourMs + 3_600_000, fx.hourMs + 2 * 3_600_000],
    ['no scores', fx.hourMs - 5 * 3_600_000, fx.hourMs - 3_600_000],
  ];
  for (const [name, from, to] of ranges) {
    const r = await api(fx.dashboard, `/api/model?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, { login: viewer });
    t.equal(r.status, 200, name);
    const p = { from: chTime(from), to: chTime(to) };
    t.same(r.body.versions, await fx.storage.query(OLD_VERSIONS, p, API_SETTINGS), `${name}: versions`);
    t.same(r.body.drift, await fx.storage.query(OLD_DRIFT, p, API_SETTINGS), `${name}: drift`);
  }
  const all = await api(fx.dashboard, `/api/model?from=${new Date(fx.hourMs - 3_600_000).toISOString()}&to=${new Date(fx.hourMs + 2 * 3_600_000).toISOString()}`, {
    login: viewer,
  });
  t.same(
    all.body.versions.map((v: Record<string, unknown>) => [v.model_version, v.rows, v.anomalies]),
    [
      ['m1', 5, 3],
      ['m2', 5, 2],
    ],
    'exact counts per version, latest scored first',
  );
  t.same(
    all.body.drift.map((d: Record<string, unknown>) => [d.rows, d.p50]),
    [
      [8, 0.6049999892711639],
      [2, 0.5625],
    ],
    'per hour: the median of 8 and of 2 scores',
  );
});

t.test('the backfill of an upgrade computes the same rows from ml_all_scores', async (t) => {
  await assertBackfillRecomputes(t, fx.storage, '0017_create_model_scores_aggregate.sql', 1, [{ table: TABLES.aggModelScores, rows: ROWS }], 'the same windows, versions, counts, means and quantiles');
});
