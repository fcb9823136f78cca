// Where the embedded engine's CPU goes when `ja4 run` inserts a batch
// (`node bench/engine-views.bench.js [--requests N] [--runs N] [--db-dir DIR (wiped)]`; `make build`
// or `npx tsc -p tsconfig.json` first). Issue 6's throughput target is bound
// by it: on 2 cores, 100k requests/s leave 20 us of CPU per request for
// everything, and this is what the insert alone costs.
//
// The rows: --requests correlated requests of bench/correlator.bench.js's
// workload (default 200000), encoded by the correlator as `ja4 run` does (one
// Native block), loaded with INSERT ... FROM INFILE into http_logs_ingest as
// the pipeline's sink does. Each configuration is measured --runs times
// (default 3; the median is printed) on emptied tables, as CPU time of the
// process per row (the engine's threads: nothing else runs meanwhile):
//
//   all views         what `ja4 run` pays: the enrichment view writing
//                     http_logs and every aggregate view behind it, with
//                     the pipeline's engine settings (src/pipeline/sinks.ts);
//                     beside it, with the engine's default optimize_on_insert
//                     and with sql/0006's crawler rule search (before 0026)
//   without <view>    one aggregate view dropped (recreated after): its cost
//                     is "all views" minus this
//   enrichment only   every aggregate view dropped
//   no views          http_logs_ingest (a Null table) alone: parsing the block
//   enrichment split  the enrichment view's SELECT computed and discarded
//                     (FORMAT Null), and http_logs written with the columns
//                     passed through (no dictionaries, no regexes)
//   insert parts      the same rows as 5 inserts of --requests / 5 (the
//                     pipeline's inserts are 20-50k rows), CPU per row until
//                     1.5 s after the last (the merges they start included),
//                     with http_logs' insert parts Wide (the engine's
//                     default past 10 MiB: two files per column) and Compact
//                     (sql/0025), alternated --runs times
//
// The baseline of the ratios is "all views" measured in the same run.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { TABLES } from '../dist/storage/index.js';
import { INGEST_COLUMNS } from '../dist/correlator/rows-binary.js';
import { INGEST_ENGINE_SETTINGS } from '../dist/pipeline/sinks.js';
import { settingsClause } from '../dist/storage/settings-clause.js';
import { correlatorWorkload, encodeWorkload } from './lib/correlator-workload.js';
import { filesystemOf, openFreshStorage } from './lib/fresh-storage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'bench', '.data');
const rowsFile = join(dataDir, 'engine-views-rows.native');
const TARGET = 100_000;

const { values: opt } = parseArgs({
  options: { requests: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' }, 'db-dir': { type: 'string', default: join(dataDir, 'engine-views-db') } },
});
const dbDir = opt['db-dir'];
const N = Number(opt.requests);
const runs = Math.max(1, Number(opt.runs));
const cores = availableParallelism();
const log = (s) => process.stdout.write(`${s}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const storage = await openFreshStorage(dbDir);
  try {
    writeFileSync(rowsFile, encodeWorkload(correlatorWorkload(N, (Date.now() - 3_600_000) * 1000), 'Native'));

    const target = `${TABLES.httpLogsIngest} (${INGEST_COLUMNS.join(', ')})`;
    const emptyTables = async () => {
      const tables = await storage.query(
        "SELECT database, name FROM system.tables WHERE database IN ('ja4_logs', 'ja4_processing') AND engine LIKE '%MergeTree' AND name NOT LIKE 'ref_%' AND name != 'schema_migrations'",
      );
      for (const t of tables) await storage.command(`TRUNCATE TABLE ${t.database}.${t.name}`);
    };
    /** CPU us per row of `sql` once, on emptied tables */
    const cpuOnce = async (sql) => {
      await emptyTables();
      const c0 = process.cpuUsage();
      await storage.command(sql);
      const u = process.cpuUsage(c0);
      return (u.user + u.system) / N;
    };
    /** median CPU us per row of `sql` over the runs */
    const cpuPerRow = async (sql) => {
      const xs = [];
      for (let r = 0; r < runs; r++) xs.push(await cpuOnce(sql));
      return median(xs);
    };
    // with the engine settings of the pipeline's inserts (src/pipeline/sinks.ts)
    const insertWith = (settings, file = rowsFile) => `INSERT INTO ${target} FROM INFILE '${file}' ${settingsClause(settings)} FORMAT Native`;
    const insert = insertWith(INGEST_ENGINE_SETTINGS);
    // warm-up: dictionaries loaded, regexes compiled
    await cpuPerRow(insert);

    // what the pipeline's engine settings and sql/0026 save: these three
    // alternated run by run (the machine's noise hits each alike)
    const [enrich] = await storage.query("SELECT as_select AS q FROM system.tables WHERE database = 'ja4_processing' AND name = 'http_logs_mv'");
    const before0026 = readFileSync(join(root, 'sql', '0006_create_http_logs_mv.sql'), 'utf8').replace(/^[\s\S]*?\nAS\n/, '').replace(/;\s*$/, '');
    const setEnrichment = (q) => storage.command(`ALTER TABLE ja4_processing.http_logs_mv MODIFY QUERY ${q}`);
    const head = [
      ['all views (what ja4 run pays)', insert, enrich.q],
      ["  with optimize_on_insert = 1 (the engine's default)", insertWith({}), enrich.q],
      ['  before sql/0026 (every crawler rule per request)', insert, before0026],
    ];
    const headRuns = head.map(() => []);
    try {
      for (let r = 0; r < runs; r++) {
        // rotated: whatever one insert leaves behind (the truncated parts'
        // deletions) falls on each configuration alike
        for (let k = 0; k < head.length; k++) {
          const i = (r + k) % head.length;
          const [, sql, q] = head[i];
          await setEnrichment(q);
          headRuns[i].push(await cpuOnce(sql));
        }
      }
    } finally {
      await setEnrichment(enrich.q);
    }
    const rows = head.map(([label], i) => [label, median(headRuns[i])]);
    const all = rows[0][1];
    const views = await storage.query(
      "SELECT database, name, create_table_query AS ddl FROM system.tables WHERE engine = 'MaterializedView' AND database = 'ja4_processing' AND name != 'http_logs_mv' ORDER BY name",
    );
    // only the views reading http_logs are on the insert's path (the model scores view is not)
    const onPath = views.filter((v) => /FROM ja4_processing\.http_logs\b/.test(v.ddl));
    const without = [];
    for (const v of onPath) {
      await storage.command(`DROP VIEW ${v.database}.${v.name}`);
      try {
        without.push([v.name, await cpuPerRow(insert)]);
      } finally {
        await storage.command(v.ddl);
      }
    }
    const allAgain = await cpuPerRow(insert);
    rows.push(['all views, measured again after them', allAgain]);
    const ref = (all + allAgain) / 2;
    for (const [name, us] of without) rows.push([`  without ${name} (its cost: ${(ref - us).toFixed(1)} us)`, us]);

    for (const v of onPath) await storage.command(`DROP VIEW ${v.database}.${v.name}`);
    const enrichOnly = await cpuPerRow(insert);
    rows.push(['enrichment only (every aggregate dropped)', enrichOnly]);

    // the enrichment view split: its SELECT alone, and http_logs written without it
    const [mv] = await storage.query("SELECT as_select AS q, create_table_query AS ddl FROM system.tables WHERE database = 'ja4_processing' AND name = 'http_logs_mv'");
    const cols = await storage.query(`SELECT name, type FROM system.columns WHERE database = 'ja4_logs' AND table = 'http_logs_ingest' ORDER BY position`);
    const structure = cols.filter((c) => INGEST_COLUMNS.includes(c.name)).map((c) => `${c.name} ${c.type}`).join(', ');
    const source = `file('${rowsFile}', Native, '${structure.replaceAll("'", "\\'")}')`;
    const passThrough = cols.map((c) => c.name).filter((n) => INGEST_COLUMNS.includes(n) && n !== 'uri');
    rows.push(['  reading the block (SELECT * FROM file, FORMAT Null)', await cpuPerRow(`SELECT * FROM ${source} FORMAT Null`)]);
    rows.push(['  the enrichment SELECT computed, FORMAT Null', await cpuPerRow(`${mv.q.replace(/FROM ja4_logs\.http_logs_ingest/, `FROM ${source}`)} FORMAT Null`)]);
    rows.push(['  http_logs written, columns passed through', await cpuPerRow(`INSERT INTO ${TABLES.httpLogs} (${passThrough.join(', ')}, path) SELECT ${passThrough.join(', ')}, uri FROM ${source}`)]);

    await storage.command('DROP VIEW ja4_processing.http_logs_mv');
    rows.push(['no views (the Null table alone)', await cpuPerRow(insert)]);

    // insert parts, Wide against Compact: the views back, five distinct slices
    // (the same rows twice would be deduplicated)
    await storage.command(mv.ddl);
    for (const v of onPath) await storage.command(v.ddl);
    const slices = [];
    for (let k = 0; k < 5; k++) {
      const f = join(dataDir, `engine-views-slice-${k}.native`);
      writeFileSync(f, encodeWorkload(correlatorWorkload(Math.floor(N / 5), (Date.now() - 3_600_000 + k * 60_000) * 1000), 'Native'));
      slices.push(f);
    }
    const slicedRun = async () => {
      await emptyTables();
      await new Promise((r) => setTimeout(r, 500));
      const c0 = process.cpuUsage();
      for (const f of slices) await storage.command(insertWith(INGEST_ENGINE_SETTINGS, f));
      await new Promise((r) => setTimeout(r, 1500));
      const u = process.cpuUsage(c0);
      return (u.user + u.system) / (Math.floor(N / 5) * 5);
    };
    const parts = { Wide: [], Compact: [] };
    const wideAt = { Wide: 10485760, Compact: 268435456 };
    await slicedRun(); // warm-up
    for (let r = 0; r < runs; r++) {
      for (const kind of ['Wide', 'Compact']) {
        await storage.command(`ALTER TABLE ${TABLES.httpLogs} MODIFY SETTING min_bytes_for_wide_part = ${wideAt[kind]}`);
        parts[kind].push(await slicedRun());
      }
    }
    for (const f of slices) rmSync(f, { force: true });

    log(`== engine views: ${N.toLocaleString('en-US')} correlated requests in one Native insert, ${runs} runs each (median), ${cores} cores, database on ${filesystemOf(dbDir)}`);
    log(`${'configuration'.padEnd(58)} ${'CPU us/row'.padStart(10)} ${'/ all views'.padStart(12)}`);
    for (const [label, us] of rows) log(`${label.padEnd(58)} ${us.toFixed(1).padStart(10)} ${(us / ref).toFixed(2).padStart(12)}`);
    const budget = (cores * 1e6) / TARGET;
    const pw = median(parts.Wide);
    const pc = median(parts.Compact);
    log(`insert parts, 5 inserts of ${Math.floor(N / 5).toLocaleString('en-US')} rows and their merges: Wide ${pw.toFixed(1)} us/row (runs ${parts.Wide.map((x) => x.toFixed(1)).join(', ')}), Compact (sql/0025) ${pc.toFixed(1)} us/row (runs ${parts.Compact.map((x) => x.toFixed(1)).join(', ')}): Compact / Wide = ${(pc / pw).toFixed(2)}`);
    log(`=> the insert alone: ${ref.toFixed(1)} us/row; ${TARGET.toLocaleString('en-US')} req/s on ${cores} cores allows ${budget.toFixed(1)} us per request for everything (receive, correlate, encode, insert): ${(budget - ref).toFixed(1)} us are left for the rest`);
  } finally {
    await storage.close();
    rmSync(dbDir, { recursive: true, force: true });
    rmSync(rowsFile, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
