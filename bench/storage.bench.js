// The storage benchmark (`npm run bench:storage [-- options]`), on the
// embedded engine in bench/.data/storage-db (wiped at start):
//
// 1. Insert rate of correlated requests into ja4_logs.http_logs_ingest (so
//    the enrichment view and the three hourly aggregates run, as in
//    production) through @clickhouse/client on chdb/connection, vs the
//    engine loading the same rows from a local file (INSERT ... FROM INFILE),
//    the baseline. Target: the client reaches at least 50% of the baseline.
// 2. With --rows (default 10M) synthetic requests over 7 days, generated in
//    the engine through the same views, the dashboard's main queries (overview
//    KPIs, top JA4s, one JA4's timeline, one IP's history) over the last 24 h
//    and 7 days: p50/p95 over --reps runs (target p95 < 300 ms), and
//    EXPLAIN indexes = 1 of the JA4 and IP queries.
//
//   --insert-rows N   rows of part 1 (default 200000)  --batch N  rows per insert (default 50000)
//   --runs N          measurements per contender in part 1, interleaved; medians (default 3)
//   --rows N          rows of part 2 (default 10000000; 0 skips part 2)
//   --reps N          runs per query (default 30)
//   --keep            keep the database directory afterwards
//   --reuse           reuse a kept database: skip part 1 and the generation
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStorage, validateStorageOptions, migrate, loadReferenceData, DEFAULT_REFERENCE_DIR, TABLES } from '../dist/storage/index.js';
import { overviewKpisQuery, topJa4sQuery, ja4TimelineQuery, ipHistoryQuery } from '../dist/storage/dashboard-queries.js';
import { insertSyntheticRequests } from './lib/synthetic-requests.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'bench', '.data');
const dbDir = join(dataDir, 'storage-db');
const TARGET_RATIO = 0.5;
const TARGET_P95_MS = 300;

const { values: opt } = parseArgs({
  options: {
    'insert-rows': { type: 'string', default: '200000' },
    batch: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '3' },
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
});
const insertRows = Number(opt['insert-rows']);
const batch = Number(opt.batch);
const bigRows = Number(opt.rows);
const reps = Number(opt.reps);
const runs = Math.max(1, Number(opt.runs));

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const log = (s) => process.stdout.write(`${s}\n`);

// ---- synthetic correlated requests, as the correlator would write them ----
const JA4S = ['t13d1516h2_8daaf6152771_e5627efa2ab1', 't13d1715h2_5b57614c22b0_3d5424432f57', 't13d190900_9dc949149365_97f8aa674fd9', 't13d181000_85036bcba153_d41ae481755e', 'q13d0310h3_55b375c5d22e_cd85d2d88918'];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Go-http-client/1.1',
  'python-requests/2.31',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
];
function jsRows(n, t0Us) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 5;
    out[i] = {
      ts: t0Us + i * 1000,
      request_id: `r${i}`,
      conn_id: `c${i >> 3}`,
      request_seq: i & 7,
      client_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      client_port: 1024 + (i % 60000),
      server_ip: '192.0.2.1',
      server_port: 443,
      duration_us: 800 + (i % 5000),
      method: 'GET',
      scheme: 'https',
      host: `site${i % 20}.example`,
      uri: `/p/${i % 5000}?q=${i % 7}`,
      protocol: k === 4 ? 'HTTP/3' : 'HTTP/2',
      status: i % 10 === 0 ? 404 : 200,
      bytes_in: 420,
      bytes_out: 5000 + (i % 20000),
      header_names: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Cookie'],
      headers: { 'user-agent': UAS[k], accept: 'text/html', 'accept-language': 'en-US' },
      cookie_names: ['sid'],
      ja4h: `ge20cr05enus_${(i % 97).toString(16).padStart(12, '0')}_000000000000_000000000000`,
      sni: `site${i % 20}.example`,
      alpn: k === 4 ? 'h3' : 'h2',
      ja4: JA4S[k],
      ja3: 'cd08e31494f9531f560d64c695473da9',
      correlation_status: 'matched',
    };
  }
  return out;
}

async function truncateAll(storage) {
  const tables = await storage.query(
    "SELECT database, name FROM system.tables WHERE database IN ('ja4_logs', 'ja4_processing') AND engine LIKE '%MergeTree' AND name NOT LIKE 'ref_%' AND name != 'schema_migrations'",
  );
  for (const t of tables) await storage.command(`TRUNCATE TABLE ${t.database}.${t.name}`);
}

async function countLogs(storage) {
  return (await storage.query(`SELECT count() AS n FROM ${TABLES.httpLogs}`))[0].n;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  if (!opt.reuse) rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const storage = await openStorage(validateStorageOptions({ dataDir: dbDir }));
  const results = { insert: {}, queries: [] };
  try {
    const reuse = opt.reuse && (await storage.query("SELECT count() AS n FROM system.tables WHERE database = 'ja4_processing' AND name = 'http_logs'"))[0].n > 0;
    if (!reuse) {
      await migrate(storage);
      await loadReferenceData(storage, DEFAULT_REFERENCE_DIR);
    }
    const [{ version }] = await storage.query('SELECT version() AS version');
    log(`embedded ClickHouse ${version} (chDB), data in ${dbDir}\n`);

    // ---- 1. insert rate ----------------------------------------------------
    if (!reuse) {
    log(`== insert rate: ${fmt(insertRows)} correlated requests into ${TABLES.httpLogsIngest} (enrichment + 3 aggregates), batches of ${fmt(batch)}`);
    const t0Us = (Date.now() - 3_600_000) * 1000;
    const rows = jsRows(insertRows, t0Us);
    const file = join(dataDir, 'storage-insert.jsonl');
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

    const measure = async (label, fn) => {
      await truncateAll(storage);
      const start = performance.now();
      await fn();
      const secs = (performance.now() - start) / 1000;
      const n = await countLogs(storage);
      if (n !== insertRows) throw new Error(`${label}: ${n} rows in http_logs, expected ${insertRows}`);
      return insertRows / secs;
    };
    // warm-up (first inserts pay for dictionary loads and the regex cache)
    await storage.insertRows(TABLES.httpLogsIngest, rows.slice(0, 1000));
    const contenders = [
      ['engine from a local file (INSERT ... FROM INFILE)', () => storage.command(`INSERT INTO ${TABLES.httpLogsIngest} FROM INFILE '${file}' FORMAT JSONEachRow`)],
      ['client.insert(objects), JSONEachRow', async () => {
        for (let i = 0; i < rows.length; i += batch) await storage.insertRows(TABLES.httpLogsIngest, rows.slice(i, i + batch));
      }],
      ['client.exec(pre-encoded JSONEachRow lines)', async () => {
        for (let i = 0; i < rows.length; i += batch) {
          await storage.insertEncoded(TABLES.httpLogsIngest, rows.slice(i, i + batch).map((r) => JSON.stringify(r)).join('\n'), 'JSONEachRow');
        }
      }],
    ];
    // interleaved (a, b, c, a, b, c, ...) so that load from elsewhere hits each alike
    const rates = contenders.map(() => []);
    for (let r = 0; r < runs; r++) for (const [i, [label, fn]] of contenders.entries()) rates[i].push(await measure(label, fn));
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const [baseline, client, encoded] = rates.map(median);
    for (const [i, [label]] of contenders.entries()) {
      log(`  ${label.padEnd(52)} ${fmt(median(rates[i])).padStart(10)} rows/s  (runs: ${rates[i].map(fmt).join(', ')})`);
    }
    results.insert = { rows: insertRows, batch, runs, baseline, client, encoded, ratio: client / baseline };
    log(`  client / baseline = ${(client / baseline).toFixed(2)} (target >= ${TARGET_RATIO}) ${client / baseline >= TARGET_RATIO ? 'OK' : 'BELOW TARGET'}\n`);
    rmSync(file, { force: true });
    }

    // ---- 2. dashboard queries on bigRows ----------------------------------
    if (bigRows > 0) {
      if (!reuse) {
      await truncateAll(storage);
      log(`== dashboard queries: generating ${fmt(bigRows)} requests over 7 days in the engine (through the same views)`);
      const genSecs = await insertSyntheticRequests(storage, bigRows, (done) => process.stdout.write(`\r  ${fmt(done)} rows`));
      await storage.command(`OPTIMIZE TABLE ${TABLES.aggJa4} FINAL`);
      const [size] = await storage.query(
        `SELECT sum(rows) AS rows, formatReadableSize(sum(bytes_on_disk)) AS disk, count() AS parts FROM system.parts WHERE database = 'ja4_processing' AND table = 'http_logs' AND active`,
      );
      log(`\r  ${fmt(size.rows)} rows in http_logs (${size.disk} on disk, ${size.parts} parts), generated in ${genSecs.toFixed(1)} s (${fmt(bigRows / genSecs)} rows/s through the views)\n`);
      }

      const [top] = await storage.query(`SELECT toString(ja4) AS ja4 FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY ja4 ORDER BY count() DESC LIMIT 1 OFFSET 5`);
      const [ip] = await storage.query(`SELECT IPv6NumToString(client_ip) AS ip FROM ${TABLES.httpLogs} WHERE ts > now() - INTERVAL 1 DAY GROUP BY client_ip ORDER BY count() DESC LIMIT 1 OFFSET 50`);
      const now = new Date();
      const windows = [['24h', 86_400_000], ['7d', 7 * 86_400_000]];
      const t = storage.tables;
      log(`  ${'query'.padEnd(22)} ${'window'.padEnd(6)} ${'rows'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
      for (const [wname, span] of windows) {
        const range = { from: new Date(now.getTime() - span), to: now };
        const queries = [overviewKpisQuery(t, range), topJa4sQuery(t, range), ja4TimelineQuery(t, top.ja4, range, wname === '24h' ? 5 : 60), ipHistoryQuery(t, ip.ip, range)];
        for (const q of queries) {
          let rowsOut = 0;
          await storage.query(q.sql, q.params); // warm
          const times = [];
          for (let r = 0; r < reps; r++) {
            const s = performance.now();
            rowsOut = (await storage.query(q.sql, q.params)).length;
            times.push(performance.now() - s);
          }
          times.sort((a, b) => a - b);
          const p50 = percentile(times, 50);
          const p95 = percentile(times, 95);
          results.queries.push({ query: q.name, window: wname, rows: rowsOut, p50, p95 });
          log(`  ${q.name.padEnd(22)} ${wname.padEnd(6)} ${String(rowsOut).padStart(6)} ${p50.toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)}${p95 < TARGET_P95_MS ? '' : '  ABOVE TARGET'}`);
        }
      }
      const worst = Math.max(...results.queries.map((q) => q.p95));
      log(`  worst p95 ${worst.toFixed(1)} ms (target < ${TARGET_P95_MS} ms) ${worst < TARGET_P95_MS ? 'OK' : 'ABOVE TARGET'}\n`);

      const range = { from: new Date(now.getTime() - 86_400_000), to: now };
      for (const q of [ja4TimelineQuery(t, top.ja4, range), ipHistoryQuery(t, ip.ip, range)]) {
        const plan = await storage.query(`EXPLAIN indexes = 1 ${q.sql}`, q.params);
        log(`== EXPLAIN indexes = 1: ${q.name} (last 24 h)`);
        for (const line of plan) log(`  ${line.explain}`);
        log('');
      }
    }
    if (!reuse) writeFileSync(join(dataDir, 'storage-results.json'), JSON.stringify(results, null, 2));
  } finally {
    await storage.close();
    if (!opt.keep && !opt.reuse) rmSync(dbDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
