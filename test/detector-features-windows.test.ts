// The detector's features on the real embedded engine: the storage
// fixture's requests go through the migrations' materialized views; the
// hourly rows (view_ai_features_1h) and the 5-minute rows (the query over
// http_logs) give the values this test expects, and agree with each other
// where the two windows hold the same requests. Plus the Benford p-value.
import t from 'tap';
import { join } from 'node:path';
import { loadReferenceData, TABLES } from '../src/storage/index.js';
import {
  BENFORD_NULL_DRAWS,
  FEATURE_NAMES,
  benfordChiSquare,
  benfordEvidence,
  benfordPValue,
  chiSquare8Survival,
  readFeatureRows,
  type FeatureRow,
} from '../src/detector/features/index.js';
import { JA4_CHROME, JA4_GO, fixtureHourUs, fixtureRows, openTestStorage, storageScratchDir, writeTestReferenceDir } from './helpers/storage-fixture.js';

const at = (row: FeatureRow, name: string): number => row.values[FEATURE_NAMES.indexOf(name)]!;
const near = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));

t.test('Benford: chi-square p-values calibrated to n', async (t) => {
  // chi-square(8) critical values from the tables: 15.507 at 5%, 20.090 at 1%, 26.124 at 0.1%
  t.ok(near(chiSquare8Survival(15.507), 0.05, 1e-3), `Q(15.507; 8) = ${chiSquare8Survival(15.507)}`);
  t.ok(near(chiSquare8Survival(20.09), 0.01, 1e-3), `Q(20.090; 8) = ${chiSquare8Survival(20.09)}`);
  t.ok(near(chiSquare8Survival(26.124), 0.001, 1e-3), `Q(26.124; 8) = ${chiSquare8Survival(26.124)}`);
  t.equal(chiSquare8Survival(0), 1);
  // a Benford-shaped sample of 1000 digits: expected counts rounded
  const benfordCounts = [301, 176, 125, 97, 79, 67, 58, 51, 46];
  t.ok(benfordChiSquare(benfordCounts) < 0.1, 'chi-square of a Benford sample is ~0');
  t.ok(benfordPValue(benfordChiSquare(benfordCounts), 1000) > 0.99, 'and its p-value ~1');
  // a metronome: every interval starts with 1
  const metronome = (n: number): number => benfordChiSquare([n, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.equal(benfordPValue(metronome(9), 9), 1, 'below 10 intervals: no evidence');
  const p30 = benfordPValue(metronome(30), 30);
  t.equal(p30, 1 / (BENFORD_NULL_DRAWS + 1), 'n = 30 uses the simulated null: nothing in 2000 draws is that extreme');
  t.equal(benfordPValue(metronome(30), 30), p30, 'the simulated null is deterministic');
  t.ok(benfordPValue(metronome(200), 200) < 1e-30, 'n = 200: the asymptotic law');
  t.equal(benfordEvidence(metronome(200), 200), 30, 'the evidence is capped at 30');
  // the same deviation means less at a small n: the calibration the issue asks for
  const skew = (n: number): number => benfordChiSquare([0.45, 0.2, 0.1, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02].map((p) => Math.round(p * n)));
  t.ok(benfordPValue(skew(20), 20) > benfordPValue(skew(400), 400), 'the same shape is weaker evidence over 20 intervals than over 400');
  t.ok(benfordPValue(skew(20), 20) > 0.05, 'over 20 intervals it is noise');
  t.ok(benfordPValue(skew(400), 400) < 1e-6, 'over 400 it is not');
});

t.test('feature rows of the hourly and 5-minute windows', async (t) => {
  const storage = await openTestStorage(t);
  await loadReferenceData(storage, writeTestReferenceDir(join(storageScratchDir(t), 'ref')));
  const hourUs = fixtureHourUs();
  await storage.insertRows(TABLES.httpLogsIngest, fixtureRows(hourUs) as unknown as Record<string, unknown>[]);
  const hourS = hourUs / 1e6;

  const hourly = await readFeatureRows(storage, '1h', hourS, hourS + 7200);
  t.equal(hourly.length, 5, 'four clients in the first hour, client A again in the second');
  const byIp = (rows: FeatureRow[], ip: string, start = hourS): FeatureRow => rows.find((r) => r.clientIp === ip && r.windowStart === start)!;

  const b = byIp(hourly, '198.51.100.7');
  t.match(b, { window: '1h', ja4: JA4_GO, host: 'shop.example', requests: 4, asn: 64501, country: 'DE', botJa4Name: 'Go net/http', botIpName: '', crawlerRule: 'go-client' }, 'client B: key and reference columns');
  t.same(
    ['requests', 'requests_per_minute', 'distinct_paths', 'distinct_paths_ratio', 'status_4xx_ratio', 'status_2xx_ratio', 'no_referer_ratio', 'no_cookies_ratio', 'known_bot_ja4', 'known_bot_ip', 'crawler_rule_match', 'hosting_asn', 'iat_n', 'iat_mean_ms', 'iat_cv', 'burstiness'].map((n) => at(b, n)),
    [4, 4 / 60, 4, 1, 1, 0, 1, 1, 1, 0, 1, 1, 3, 100, 0, -1],
    'client B: four probes answered 403/404, 100 ms apart (a metronome: CV 0, burstiness -1)',
  );
  t.ok(Number.isNaN(at(b, 'iat_lag1_autocorr')) === false && at(b, 'iat_lag1_autocorr') === 0, 'lag-1 autocorrelation of equal gaps: 0 (no variance)');
  t.equal(at(b, 'benford_evidence'), 0, 'three intervals: no Benford evidence (p = 1)');

  const a = byIp(hourly, '203.0.113.10');
  // A's gaps: 1500, 1000, 2000, 6000, 500 ms
  const gaps = [1500, 1000, 2000, 6000, 500];
  const mean = gaps.reduce((s, x) => s + x, 0) / gaps.length;
  const cv = Math.sqrt(gaps.reduce((s, x) => s + (x - mean) ** 2, 0) / gaps.length) / mean;
  t.ok(near(at(a, 'iat_mean_ms'), mean) && near(at(a, 'iat_cv'), cv), `client A: mean ${mean} ms, CV ${cv.toFixed(4)}`);
  t.ok(near(at(a, 'burstiness'), (cv - 1) / (cv + 1)), 'burstiness = (cv - 1) / (cv + 1)');
  t.same([at(a, 'status_2xx_ratio'), at(a, 'status_3xx_ratio'), at(a, 'status_4xx_ratio'), at(a, 'status_5xx_ratio')], [0.5, 1 / 6, 1 / 6, 1 / 6], 'client A: status mix');
  t.same([at(a, 'known_bot_ja4'), at(a, 'hosting_asn'), at(a, 'browser_ua_ratio'), at(a, 'ua_ja4_mismatch_ratio')], [0, 1, 1, 0], 'client A: a browser UA over a browser JA4 from a hosting ASN');

  const c = byIp(hourly, '66.249.66.1');
  t.match(c, { botIpName: 'Googlebot', host: 'blog.example' });
  t.same([at(c, 'known_bot_ip'), at(c, 'h2_h3_ratio'), at(c, 'iat_n')], [1, 1, 1], 'client C: known bot network, HTTP/2, one interval');
  t.ok(Number.isNaN(at(c, 'iat_cv')) && Number.isNaN(at(c, 'burstiness')), 'one interval: CV and burstiness are missing, not 0');
  const d = byIp(hourly, '2001:db8::5');
  t.same([at(d, 'ua_ja4_mismatch_ratio'), at(d, 'known_bot_ja4'), at(d, 'iat_n')], [1, 1, 0], 'client D (IPv6): the spoofer');

  // JA4 global signals: the Chrome JA4 serves A and C (2 IPs), the Go JA4 B and D
  t.same([at(a, 'ja4_distinct_ips'), at(c, 'ja4_distinct_ips'), at(b, 'ja4_distinct_ips')], [2, 2, 2], 'distinct IPs per JA4 in the hour');
  t.same([at(a, 'ja4_requests'), at(b, 'ja4_requests')], [8, 5], 'requests per JA4 in the hour (Chrome: A 6 + C 2; Go: B 4 + D 1)');
  t.same([at(a, 'ja4_volume_quantile'), at(b, 'ja4_volume_quantile')], [1, 0], 'volume quantile among the hour\'s two JA4s');
  t.equal(a.ja4, JA4_CHROME);

  // every request of the first hour falls in one 5-minute bucket (10:00-10:05 past the hour)
  const five = await readFeatureRows(storage, '5m', hourS, hourS + 3600);
  t.equal(five.length, 4, 'the same four clients in the 5-minute window');
  const bucket = hourS + 600;
  for (const h of hourly.filter((r) => r.windowStart === hourS)) {
    const f = five.find((r) => r.clientIp === h.clientIp && r.ja4 === h.ja4 && r.host === h.host)!;
    t.equal(f.windowStart, bucket, `${h.clientIp}: bucket start`);
    t.equal(at(f, 'requests_per_minute'), h.requests / 5, `${h.clientIp}: rate over 5 minutes`);
    const ownHour = FEATURE_NAMES.filter((n) => n !== 'requests_per_minute' && !n.startsWith('ja4_'));
    const differ = ownHour.filter((n) => !(Object.is(at(f, n), at(h, n)) || near(at(f, n), at(h, n), 1e-12)));
    t.same(differ, [], `${h.clientIp}: every feature of its own requests equals the hourly view's`);
    // the JA4 signals of the previous complete hour: none before the first
    t.same(FEATURE_NAMES.filter((n) => n.startsWith('ja4_') && at(f, n) !== 0), [], `${h.clientIp}: no JA4 signals without a previous hour`);
  }
  t.same(await readFeatureRows(storage, '5m', hourS + 1200, hourS + 3600), [], 'an empty range gives no rows');

  // client A in the second hour: its 5-minute window carries the JA4's
  // signals of the first hour (complete, as when scored live), not of the
  // hour it is in (running: a fraction of the hour's volume live)
  const second = await readFeatureRows(storage, '5m', hourS + 3600, hourS + 7200);
  const a2 = second.find((r) => r.clientIp === '203.0.113.10')!;
  const a2h = byIp(hourly, '203.0.113.10', hourS + 3600);
  t.ok(a2 && a2h, 'client A has a 5-minute and an hourly window in the second hour');
  t.same(
    ['ja4_requests', 'ja4_distinct_ips', 'ja4_volume_quantile', 'ja4_distinct_uas', 'ja4_h2_ratio'].map((n) => at(a2, n)),
    ['ja4_requests', 'ja4_distinct_ips', 'ja4_volume_quantile', 'ja4_distinct_uas', 'ja4_h2_ratio'].map((n) => at(a, n)),
    'the second hour\'s 5-minute window: the JA4 signals of the first hour',
  );
  t.not(at(a2, 'ja4_requests'), at(a2h, 'ja4_requests'), 'not those of its own hour (the hourly window\'s)');
});
