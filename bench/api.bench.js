// The dashboard API benchmark (`node bench/api.bench.js [options]`): the
// main pages' requests over real HTTP against `startDashboard` on the
// embedded engine holding --rows (default 10M) synthetic requests over 7
// days (bench/lib/synthetic-requests.js, generated in the engine through
// the production views, as in bench/storage.bench.js), with detections and
// scores. Every request the main pages send (as web/src/pages/*.ts sends
// it), for the 6 h, 24 h and 7 d windows: p50/p95 of --reps sequential
// requests (after one warm-up), PASS/FAIL against p95 < 300 ms.
// Needs dist/ (npx tsc -p tsconfig.json). Not a test: numbers depend on the machine.
//
//   --rows N     synthetic requests (default 10000000)
//   --reps N     requests per route and window (default 20)
//   --keep       keep the database (bench/.data/api-db) afterwards
//   --reuse      reuse a kept database (skip the generation; pending migrations are applied)
//   --only TEXT  only the requests whose path contains TEXT (re-timing one route)
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStorage, validateStorageOptions, migrate, loadReferenceData, DEFAULT_REFERENCE_DIR, TABLES } from '../dist/storage/index.js';
import { startDashboard } from '../dist/dashboard/server.js';
import { silentLogger } from '../dist/config/index.js';
import { UserStore } from '../dist/dashboard/auth/user-store.js';
import { insertSyntheticRequests } from './lib/synthetic-requests.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dbDir = join(root, 'bench', '.data', 'api-db');
const TARGET_P95_MS = 300;
const { values: opt } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
  },
});
const rows = Number(opt.rows);
const reps = Number(opt.reps);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const log = (s) => process.stdout.write(`${s}\n`);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** The shared synthetic requests (bench/lib/synthetic-requests.js), then scores and detections. */
async function generate(storage) {
  const secs = await insertSyntheticRequests(storage, rows, (done) => process.stdout.write(`\r  ${fmt(done)} requests`));
  log(`\r  ${fmt(rows)} requests generated in ${secs.toFixed(1)} s`);
  // scores: one per IP x JA4 x host x hour of the busiest pairs; detections: the top 2% of them
  await storage.command(
    `INSERT INTO ${TABLES.mlAllScores} (scored_at, window_start, window, client_ip, ja4, host, model_version, score, score_iforest, score_autoencoder, score_gbt, threat_level, is_anomaly, bot_name)
     SELECT hour + INTERVAL 65 MINUTE, hour, '1h', client_ip, ja4, host, 'bench-1', s, s, s, s,
            multiIf(s > 0.97, 'critical', s > 0.9, 'high', s > 0.7, 'medium', 'low'), s > 0.9, ''
     FROM (SELECT hour, client_ip, ja4, host, (cityHash64(hour, client_ip, ja4) % 10000) / 10000 AS s
           FROM ${TABLES.aggHostIpJa4} GROUP BY hour, client_ip, ja4, host)`,
  );
  await storage.command(
    `INSERT INTO ${TABLES.mlDetectedAnomalies} (detected_at, window_start, window, client_ip, ja4, host, model_version, score, threat_level, voices, bot_name, campaign_id, top_features, top_contributions, requests, asn, country, user_agent)
     SELECT scored_at, window_start, window, client_ip, ja4, host, model_version, score, threat_level, ['iforest', 'gbt'], '',
            if(score > 0.95, concat('camp-', toString(cityHash64(ja4) % 20)), ''), ['iat_cv', 'ua_ja4_mismatch_ratio'], [0.4, 0.2], 10, 0, '', 'python-requests/2.1'
     FROM ${TABLES.mlAllScores} WHERE is_anomaly`,
  );
  const [c] = await storage.query(`SELECT (SELECT count() FROM ${TABLES.mlAllScores}) AS scores, (SELECT count() FROM ${TABLES.mlDetectedAnomalies}) AS detections`);
  log(`  ${fmt(c.scores)} scores, ${fmt(c.detections)} detections`);
}

async function main() {
  if (!opt.reuse) rmSync(dbDir, { recursive: true, force: true });
  const storage = await openStorage(validateStorageOptions({ dataDir: dbDir }));
  let dashboard;
  try {
    // a reused database gets the migrations added since it was made (their backfills included)
    const m = await migrate(storage);
    if (opt.reuse && m.applied.length > 0) log(`== applied ${m.applied.map((a) => a.name).join(', ')} to the reused database`);
    if (!opt.reuse) {
      await loadReferenceData(storage, DEFAULT_REFERENCE_DIR);
      log(`== generating ${fmt(rows)} requests over 7 days`);
      await generate(storage);
    }
    const users = new UserStore(storage, 1024);
    if (!(await users.get('bench'))) await users.add('bench', 'admin', 'bench-password-123');
    dashboard = await startDashboard(storage, { listen: '127.0.0.1:0', publisher: false, log: silentLogger() });
    const login = await fetch(`${dashboard.url}/api/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'bench', password: 'bench-password-123' }) });
    const cookie = login.headers.get('set-cookie').split(';')[0];

    const [top] = await storage.query(`SELECT toString(ja4) AS ja4 FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY ja4 ORDER BY count() DESC LIMIT 1 OFFSET 5`);
    const [ip] = await storage.query(
      `SELECT replaceRegexpOne(IPv6NumToString(client_ip), '^::ffff:', '') AS ip FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY client_ip ORDER BY count() DESC LIMIT 1 OFFSET 50`,
    );
    const [camp] = await storage.query(`SELECT campaign_id FROM ${TABLES.mlDetectedAnomalies} WHERE campaign_id != '' GROUP BY campaign_id ORDER BY count() DESC LIMIT 1`);
    // Each page's requests exactly as web/src/pages/*.ts sends them, for the
    // range picker's windows (1 h is a subset of 6 h; 6 h is where the
    // timelines switch to 5-minute buckets read from http_logs).
    const pageRequests = (hours) => {
      const to = Date.now();
      const range = `from=${new Date(to - hours * 3_600_000).toISOString()}&to=${new Date(to).toISOString()}`;
      const cadenceHours = Math.min(hours, 24);
      const cadence = `from=${new Date(to - cadenceHours * 3_600_000).toISOString()}&to=${new Date(to).toISOString()}&bucket_seconds=${cadenceHours <= 1 ? 60 : cadenceHours <= 6 ? 300 : 900}`;
      const ja4 = `/api/ja4/${top.ja4}`;
      const ipBase = `/api/ip/${ip.ip}`;
      const camps = camp ? `/api/campaigns/${camp.campaign_id}` : undefined;
      return {
        overview: [
          `/api/overview?${range}`,
          `/api/overview/timeline?${range}&bucket_minutes=${hours <= 6 ? 5 : hours <= 24 ? 60 : 360}`,
          ...['ja4', 'asn', 'country', 'host'].map((d) => `/api/overview/top/${d}?${range}&limit=10`),
        ],
        detections: [`/api/detections?${range}&limit=50&offset=0`, `/api/detections?${range}&level=critical&sort=score&limit=50&offset=0`],
        campaigns: [`/api/campaigns?${range}&limit=50&offset=0`],
        cluster: camps ? [`${camps}?${range}`, `${camps}/members?${range}&limit=100&offset=0`] : [],
        ja4: [
          `${ja4}?${range}`,
          `${ja4}/timeline?${range}&bucket_minutes=${hours <= 6 ? 5 : 60}`,
          `${ja4}/breakdown?${range}`,
          `${ja4}/ips?${range}&limit=25&offset=0`,
          `${ja4}/features?${range}`,
          `/api/logs?${range}&ja4=${top.ja4}&limit=20`,
        ],
        ip: [`${ipBase}?${range}`, `${ipBase}/history?${range}`, `${ipBase}/cadence?${cadence}`, `${ipBase}/scores?${range}&limit=25&offset=0`, `/api/logs?${range}&ip=${ip.ip}&limit=20`],
        logs: [`/api/logs?${range}&limit=50&offset=0`, `/api/logs?${range}&host=site3.example&limit=50&offset=0`],
        model: [`/api/model?${range}`],
        audit: [`/api/audit?${range}&limit=50&offset=0`],
        pipeline: ['/api/pipeline'],
      };
    };
    const results = [];
    const time = async (path) => {
      const s = performance.now();
      const r = await fetch(dashboard.url + path, { headers: { cookie, 'accept-encoding': 'br' } });
      const body = await r.text();
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
      return performance.now() - s;
    };
    const shortPath = (path) => path.replace(/[?&](from|to)=[^&]*/g, '').replace(/^([^?&]*)&/, '$1?');
    log(`\n  ${'page'.padEnd(10)} ${'request'.padEnd(72)} ${'window'.padEnd(6)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}  verdict`);
    const measure = async (page, path, wname) => {
      await time(path); // warm
      const times = [];
      for (let r = 0; r < reps; r++) times.push(await time(path));
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      results.push({ page, path: shortPath(path), window: wname, p50, p95 });
      log(`  ${page.padEnd(10)} ${shortPath(path).slice(0, 72).padEnd(72)} ${wname.padEnd(6)} ${p50.toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)}  ${p95 < TARGET_P95_MS ? 'PASS' : 'FAIL'}`);
    };
    const seen = new Set();
    for (const [wname, hours] of [['6h', 6], ['24h', 24], ['7d', 168]]) {
      for (const [page, paths] of Object.entries(pageRequests(hours))) {
        for (const p of paths) {
          // windowless requests (pipeline) once
          const key = `${page} ${shortPath(p)} ${p.includes('from=') ? wname : ''}`;
          if (seen.has(key) || !p.includes(opt.only)) continue;
          seen.add(key);
          await measure(page, p, p.includes('from=') ? wname : '-');
        }
      }
    }
    const worst = results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
    const failed = results.filter((r) => r.p95 >= TARGET_P95_MS);
    log(`\n  worst p95 ${worst.p95.toFixed(1)} ms (${worst.path}, ${worst.window})`);
    for (const f of failed) log(`  FAIL ${f.page} ${f.path} ${f.window}: p95 ${f.p95.toFixed(1)} ms`);
    log(`  target p95 < ${TARGET_P95_MS} ms on ${fmt(rows)} requests: ${failed.length === 0 ? `PASS (all ${results.length} requests)` : `FAIL (${failed.length} of ${results.length} requests)`}`);
  } finally {
    await dashboard?.stop();
    await storage.close();
    if (!opt.keep && !opt.reuse) rmSync(dbDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
