// The dashboard API benchmark (`node bench/api.bench.js [options]`): the
// main pages' requests over real HTTP against `startDashboard` on the
// embedded engine holding --rows (default 10M) synthetic requests over 7
// days (generated in the engine through the production views, as in
// bench/storage.bench.js), with detections and scores. For each route and
// window (24 h, 7 d): p50/p95 of --reps sequential requests (after one
// warm-up). Target: p95 < 300 ms for every main-page request.
// Needs dist/ (npx tsc -p tsconfig.json). Not a test: numbers depend on the machine.
//
//   --rows N     synthetic requests (default 10000000)
//   --reps N     requests per route and window (default 20)
//   --keep       keep the database (bench/.data/api-db) afterwards
//   --reuse      reuse a kept database (skip the generation)
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStorage, validateStorageOptions, migrate, loadReferenceData, DEFAULT_REFERENCE_DIR, TABLES } from '../dist/storage/index.js';
import { startDashboard } from '../dist/dashboard/server.js';
import { UserStore } from '../dist/dashboard/auth/user-store.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dbDir = join(root, 'bench', '.data', 'api-db');
const TARGET_P95_MS = 300;
const { values: opt } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
});
const rows = Number(opt.rows);
const reps = Number(opt.reps);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const log = (s) => process.stdout.write(`${s}\n`);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Requests as in bench/storage.bench.js: skewed JA4 and IP popularity over 7 days. */
async function generate(storage) {
  const chunk = 1_000_000;
  const start = performance.now();
  for (let off = 0; off < rows; off += chunk) {
    const n = Math.min(chunk, rows - off);
    await storage.command(
      `INSERT INTO ${TABLES.httpLogsIngest}
         (ts, request_id, client_ip, client_port, host, uri, protocol, status, bytes_out, headers, header_names, cookie_names, ja4, ja4h, alpn, correlation_status)
       WITH {off:UInt64} + number AS i, cityHash64(i, 1) AS h1, cityHash64(i, 2) AS h2, cityHash64(i, 3) AS h3,
            toUInt32(pow((h1 % 1000000) / 1000000, 3) * 3000) AS ja4_k,
            toUInt32(pow((h2 % 1000000) / 1000000, 2) * 200000) AS ip_k
       SELECT
         now64(6) - toIntervalMicrosecond(intDiv(i * 604800000000, {total:UInt64})) AS ts,
         toString(i) AS request_id,
         toIPv6(IPv4NumToString(toUInt32(167772160 + ip_k))) AS client_ip,
         toUInt16(1024 + h3 % 60000) AS client_port,
         concat('site', toString(h3 % 20), '.example') AS host,
         concat('/p/', toString(h1 % 5000)) AS uri,
         if(ja4_k % 7 = 0, 'HTTP/1.1', 'HTTP/2') AS protocol,
         toUInt16(multiIf(h2 % 100 < 80, 200, h2 % 100 < 90, 304, h2 % 100 < 98, 404, 500)) AS status,
         h3 % 50000 AS bytes_out,
         map('user-agent', concat(if(ja4_k % 3 = 0, 'python-requests/2.', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1'), toString(ja4_k % 30)),
             'accept-language', if(h1 % 4 = 0, '', 'en-US')) AS headers,
         ['Host', 'User-Agent', 'Accept'] AS header_names,
         if(h2 % 3 = 0, [], ['sid']) AS cookie_names,
         if(ja4_k = 0, 't13d1516h2_8daaf6152771_e5627efa2ab1',
            concat('t13d', leftPad(toString(ja4_k % 100), 2, '0'), '10h2_', lower(substring(hex(cityHash64(ja4_k)), 1, 12)), '_', lower(substring(hex(cityHash64(ja4_k, 9)), 1, 12)))) AS ja4,
         concat('ge11cr03enus_', lower(substring(hex(cityHash64(ja4_k % 500)), 1, 12)), '_000000000000_000000000000') AS ja4h,
         'h2' AS alpn,
         'matched' AS correlation_status
       FROM numbers({n:UInt64})`,
      { off, n, total: rows },
    );
    process.stdout.write(`\r  ${fmt(off + n)} requests`);
  }
  log(`\r  ${fmt(rows)} requests generated in ${((performance.now() - start) / 1000).toFixed(1)} s`);
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
    if (!opt.reuse) {
      await migrate(storage);
      await loadReferenceData(storage, DEFAULT_REFERENCE_DIR);
      log(`== generating ${fmt(rows)} requests over 7 days`);
      await generate(storage);
    }
    const users = new UserStore(storage, 1024);
    if (!(await users.get('bench'))) await users.add('bench', 'admin', 'bench-password-123');
    dashboard = await startDashboard(storage, { listen: '127.0.0.1:0', publisher: false, log: () => {} });
    const login = await fetch(`${dashboard.url}/api/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'bench', password: 'bench-password-123' }) });
    const cookie = login.headers.get('set-cookie').split(';')[0];

    const [top] = await storage.query(`SELECT toString(ja4) AS ja4 FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY ja4 ORDER BY count() DESC LIMIT 1 OFFSET 5`);
    const [ip] = await storage.query(
      `SELECT replaceRegexpOne(IPv6NumToString(client_ip), '^::ffff:', '') AS ip FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY client_ip ORDER BY count() DESC LIMIT 1 OFFSET 50`,
    );
    const [camp] = await storage.query(`SELECT campaign_id FROM ${TABLES.mlDetectedAnomalies} WHERE campaign_id != '' GROUP BY campaign_id ORDER BY count() DESC LIMIT 1`);
    const pages = {
      overview: ['/api/overview', '/api/overview/timeline', '/api/overview/top/ja4', '/api/overview/top/asn', '/api/overview/top/country', '/api/overview/top/host'],
      detections: ['/api/detections', '/api/detections?level=critical&sort=score', '/api/campaigns'],
      ja4: [`/api/ja4/${top.ja4}`, `/api/ja4/${top.ja4}/timeline`, `/api/ja4/${top.ja4}/breakdown`, `/api/ja4/${top.ja4}/ips`, `/api/ja4/${top.ja4}/features`],
      ip: [`/api/ip/${ip.ip}`, `/api/ip/${ip.ip}/history`, `/api/ip/${ip.ip}/scores`],
      cluster: camp ? [`/api/campaigns/${camp.campaign_id}`, `/api/campaigns/${camp.campaign_id}/members`] : [],
      model: ['/api/model'],
    };
    const oneDay = ['/api/logs', `/api/logs?ja4=${top.ja4}`, `/api/ip/${ip.ip}/cadence`, '/api/pipeline'];
    const now = Date.now();
    const windows = [
      ['24h', now - 86_400_000],
      ['7d', now - 7 * 86_400_000],
    ];
    const results = [];
    const time = async (path) => {
      const s = performance.now();
      const r = await fetch(dashboard.url + path, { headers: { cookie, 'accept-encoding': 'br' } });
      const body = await r.text();
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
      return performance.now() - s;
    };
    log(`\n  ${'route'.padEnd(64)} ${'window'.padEnd(6)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
    const measure = async (path, wname) => {
      await time(path); // warm
      const times = [];
      for (let r = 0; r < reps; r++) times.push(await time(path));
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      results.push({ path, window: wname, p50, p95 });
      log(`  ${path.slice(0, 64).padEnd(64)} ${wname.padEnd(6)} ${p50.toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)}${p95 < TARGET_P95_MS ? '' : '  ABOVE TARGET'}`);
    };
    for (const [wname, from] of windows) {
      for (const paths of Object.values(pages)) {
        for (const p of paths) await measure(`${p}${p.includes('?') ? '&' : '?'}from=${new Date(from).toISOString()}`, wname);
      }
    }
    for (const p of oneDay) await measure(p, 'dflt');
    const worst = results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
    const over = results.filter((r) => r.p95 >= TARGET_P95_MS).length;
    log(`\n  worst p95 ${worst.p95.toFixed(1)} ms (${worst.path.split('?')[0]}, ${worst.window}); ${over} of ${results.length} above ${TARGET_P95_MS} ms ${over === 0 ? 'OK' : 'ABOVE TARGET'}`);
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
