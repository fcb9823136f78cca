// ml_detected_anomalies' by_campaign projection (sql/0019), which the
// campaign page reads: the engine picks it for one campaign over a window
// (the table's own order puts a campaign in every granule), and the page
// shows what the table holds.
import t from 'tap';
import { TABLES } from '../src/storage/index.js';
import { CAMPAIGN, USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { assertReadsProjection } from './helpers/projection.js';

const fx = await startDashboardFixture(t);
const WHERE = "campaign_id = {id:String} AND detected_at >= toDateTime64({from:String}, 3, 'UTC') AND detected_at < toDateTime64({to:String}, 3, 'UTC')";
const from = new Date(fx.hourMs - 3_600_000).toISOString();
const to = new Date(fx.hourMs + 2 * 3_600_000).toISOString();
const params = { id: CAMPAIGN, from: from.slice(0, 19).replace('T', ' '), to: to.slice(0, 19).replace('T', ' ') };

// 40,000 more detections of 1,000 campaigns in turn over the fixture's hour:
// every granule of the table's order holds every campaign (as on a busy server)
await fx.storage.command(
  `INSERT INTO ${TABLES.mlDetectedAnomalies} (detected_at, window_start, window, client_ip, ja4, host, model_version, score, threat_level, campaign_id, asn, country)
   SELECT toDateTime64({base:UInt32} + intDiv(number, 20), 3, 'UTC'), toDateTime({base:UInt32}, 'UTC'), '1h',
          toIPv6(IPv4NumToString(toUInt32(167772160 + number % 5000))), 'bench_ja4', 'bulk.example', 'm1', 0.5 + (number % 7) / 20, ['low', 'medium', 'high', 'critical', 'other'][1 + intDiv(number, 1000) % 5],
          concat('bulk-', toString(number % 1000)), 64500, 'FR'
   FROM numbers(40000)`,
  { base: fx.hourMs / 1000 },
);

t.test('the projection exists and the engine reads one campaign through it', async (t) => {
  const bulk = { ...params, id: 'bulk-7' };
  const sql = `SELECT count() AS n, uniqExact(client_ip) AS ips, uniqExact(host) AS hosts, max(score) AS s, max(asn) AS a FROM ${TABLES.mlDetectedAnomalies} WHERE ${WHERE}`;
  await assertReadsProjection(t, fx.storage, 'ml_detected_anomalies', 'by_campaign', sql, bulk);
  const [n] = await fx.storage.query<{ n: number; ips: number }>(sql, bulk);
  t.same([n!.n, n!.ips], [40, 5], 'its 40 detections (one in 1,000 of 40,000) of 5 IPs (5,000 in turn)');
});

t.test('the campaign page: what the table holds', async (t) => {
  const viewer = await login(fx.dashboard, USERS.viewer);
  for (const id of [CAMPAIGN, 'bulk-7']) {
    const direct = await fx.storage.query<{ detections: number; ips: number; max_score: number }>(
      `SELECT count() AS detections, uniqExact(client_ip) AS ips, max(score) AS max_score FROM ${TABLES.mlDetectedAnomalies} WHERE ${WHERE}
       SETTINGS optimize_use_projections = 0`,
      { ...params, id },
    );
    const r = await api(fx.dashboard, `/api/campaigns/${id}?from=${from}&to=${to}`, { login: viewer });
    t.equal(r.status, 200, id);
    t.same([r.body.campaign.detections, r.body.campaign.ips, r.body.campaign.max_score], [direct[0]!.detections, direct[0]!.ips, direct[0]!.max_score], `${id}: KPIs`);
    const m = await api(fx.dashboard, `/api/campaigns/${id}/members?from=${from}&to=${to}&limit=100`, { login: viewer });
    t.equal(m.body.items.length, direct[0]!.ips, `${id}: one member per IP`);
  }
  // the list: the old summary (the highest level ranked per detection), with projections off
  const old = await fx.storage.query(
    `SELECT campaign_id, count() AS detections, uniqExact(client_ip) AS ips,
            ['low', 'medium', 'high', 'critical'][max(indexOf(['low', 'medium', 'high', 'critical'], toString(threat_level)))] AS max_threat_level
     FROM ${TABLES.mlDetectedAnomalies} WHERE detected_at >= toDateTime64({from:String}, 3, 'UTC') AND detected_at < toDateTime64({to:String}, 3, 'UTC')
       AND campaign_id != '' GROUP BY campaign_id ORDER BY max(detected_at) DESC, campaign_id LIMIT 200 SETTINGS optimize_use_projections = 0`,
    params,
  );
  const list = await api(fx.dashboard, `/api/campaigns?from=${from}&to=${to}&limit=200`, { login: viewer });
  t.same(
    list.body.items.map((c: Record<string, unknown>) => ({ campaign_id: c.campaign_id, detections: c.detections, ips: c.ips, max_threat_level: c.max_threat_level })),
    old,
    'the list: counts and highest levels as before',
  );
  t.same(new Set(old.map((c) => (c as { max_threat_level: string }).max_threat_level)), new Set(['critical']), 'a bulk campaign reaches critical');
  const r = await api(fx.dashboard, `/api/campaigns/bulk-7?from=${from}&to=${to}`, { login: viewer });
  t.same([r.body.campaign.detections, r.body.campaign.ips, r.body.campaign.hosts], [40, 5, 1], 'bulk-7: exact counts');
});
