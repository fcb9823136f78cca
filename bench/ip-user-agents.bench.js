// The IP page's user-agent history (`node bench/ip-user-agents.bench.js`):
// agg_ip_ua_1h (sql/0015) against the query it replaced (http_logs by IP,
// whose key is (hour, ja4, client_ip, ts): a window means reading all of
// it), interleaved in the same run on the api bench's kept database
// (`node bench/api.bench.js --keep` first; it applies pending migrations
// on --reuse). Prints p50/p95 of each, the ratio, and PASS/FAIL against
// p95 < 300 ms for the aggregate. Needs dist/. Not a test.
//
//   --ip ADDR   the client (default: the busiest one of the last 7 days)
//   --reps N    runs of each query per window (default 10)
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStorage, validateStorageOptions, TABLES } from '../dist/storage/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dbDir = join(root, 'bench', '.data', 'api-db');
const { values: opt } = parseArgs({ options: { ip: { type: 'string', default: '' }, reps: { type: 'string', default: '10' } } });
if (!existsSync(dbDir)) throw new Error(`${dbDir} missing: run node bench/api.bench.js --keep first`);

const storage = await openStorage(validateStorageOptions({ dataDir: dbDir }));
try {
  const [last] = await storage.query(`SELECT toUnixTimestamp(max(hour)) + 3600 AS end FROM ${TABLES.aggIpUa}`);
  const end = Number(last.end);
  const ip = opt.ip || (await storage.query(`SELECT toString(client_ip) AS ip FROM ${TABLES.aggIpUa} GROUP BY client_ip ORDER BY sum(requests) DESC LIMIT 1`))[0].ip;
  const chTime = (s) => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19);
  const queries = {
    'http_logs (before)': `SELECT hour_start, user_agent, total_requests FROM
        (SELECT toStartOfHour(ts) AS hour_start, user_agent, count() AS total_requests FROM ${TABLES.httpLogs}
         WHERE client_ip = toIPv6({ip:String}) AND ts >= {from:DateTime64(6, 'UTC')} AND ts < {to:DateTime64(6, 'UTC')} GROUP BY hour_start, user_agent)
      ORDER BY hour_start, total_requests DESC LIMIT 5 BY hour_start`,
    'agg_ip_ua_1h (after)': `SELECT hour_start, user_agent, total_requests FROM
        (SELECT hour AS hour_start, user_agent, sum(requests) AS total_requests FROM ${TABLES.aggIpUa}
         WHERE client_ip = toIPv6({ip:String}) AND hour >= toStartOfHour({from:DateTime('UTC')}) AND hour < {to:DateTime('UTC')} GROUP BY hour_start, user_agent)
      ORDER BY hour_start, total_requests DESC, user_agent LIMIT 5 BY hour_start`,
  };
  const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  console.log(`client ${ip}; ${opt.reps} runs of each, interleaved`);
  let ok = true;
  for (const [label, hours] of [['6h', 6], ['24h', 24], ['7d', 168]]) {
    const params = { ip, from: chTime(end - hours * 3600), to: chTime(end) };
    const times = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
    const rows = {};
    for (let i = 0; i <= Number(opt.reps); i++) {
      for (const [k, sql] of Object.entries(queries)) {
        const t0 = performance.now();
        rows[k] = (await storage.query(sql, params)).length;
        if (i > 0) times[k].push(performance.now() - t0); // the first run warms up
      }
    }
    const [before, after] = Object.keys(queries);
    for (const k of [before, after]) console.log(`  ${label.padEnd(4)} ${k.padEnd(22)} rows ${String(rows[k]).padStart(4)}  p50 ${pct(times[k], 0.5).toFixed(1).padStart(7)} ms  p95 ${pct(times[k], 0.95).toFixed(1).padStart(7)} ms`);
    const p95 = pct(times[after], 0.95);
    ok &&= p95 < 300;
    console.log(`  ${label.padEnd(4)} ratio before/after p50 ${(pct(times[before], 0.5) / pct(times[after], 0.5)).toFixed(1)}x; aggregate p95 ${p95.toFixed(1)} ms: ${p95 < 300 ? 'PASS' : 'FAIL'}`);
  }
  console.log(`target p95 < 300 ms for the IP page's user agents: ${ok ? 'PASS' : 'FAIL'}`);
} finally {
  await storage.close();
}
