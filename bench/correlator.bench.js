// The correlator benchmark (`npm run bench:correlator [-- options]`; `make
// build` or `npx tsc -p tsconfig.json` first): correlated requests/s from
// datagrams to rows in the embedded database, on this machine, with the
// breakdown and the ratio to a raw insert of the same rows in the same run.
//
// Workload: --requests N mod_reqin_log records (default 200000) on keep-alive
// connections (1-8 requests each, one TLS event each), 20k client IPs, plus
// 2% plain HTTP and 2% HTTPS whose TLS event is lost. A sender thread plays
// mod_reqin_log (SOCK_SEQPACKET, records batched up to 16 KiB per message)
// and a capture sensor (SOCK_DGRAM, one TLS event per datagram), paced by
// the receivers (a refused send is retried) and by the stage's backlog (it
// waits while more than 64 MiB is queued: past 256 MiB the stage would drop
// input). A run that loses input, or stops moving for 60 s, fails.
// `--requests 1000000` (~860 MiB of records, ~30 s per run) gives the
// sustained rate: the fixed tail of a run (the lost-TLS requests' 2 s wait,
// the last insert) weighs little, and the tables and their merges grow.
// `--requests 2000000` needs a larger V8 heap for the workload's encoding:
// `npm run bench:correlator` gives it (NODE_OPTIONS=--max-old-space-size=12288;
// not a node flag: piscina passes the process's flags to its workers, which
// refuse that one).
//
// Contenders, interleaved over --runs (medians):
//   pipeline   the CorrelationStage of `ja4 run`: receivers -> correlator
//              worker(s) -> batcher -> http_logs_ingest (+ the raw tables
//              with --raw); the clock stops when the last row is in http_logs.
//              Beside it the steady rate: rows committed per second between
//              the inserts that pass 10% and 90% of the rows, the run's
//              start and tail left out (steadyRate()).
//   baseline   the same http_logs_ingest rows (made once by the correlator)
//              loaded by the engine from a local file (INSERT ... FROM
//              INFILE), as in bench/storage.bench.js: JSONEachRow (the
//              storage issue's raw insert baseline), RowBinary (what the
//              pipeline wrote before) and Native (what it writes).
//   no database the same pipeline with a sink that discards: receive and
//              correlate alone.
// Breakdown of a pipeline run: receive (first to last datagram taken by the
// receivers), correlate (time in the correlator worker calls), insert (time
// in database inserts); they overlap, the total is the wall clock.
//
// CPU: the process's CPU time (all threads: sender, receivers, correlator
// worker, the embedded engine) per request is printed for each contender.
// Wall-clock rates move 2-4x with the load of a shared machine; CPU per
// request barely does, and it bounds the rate: on C cores no pipeline goes
// faster than C / (CPU per request).
//
//   --requests N   --runs N (default 3)   --threads N correlator shards (default 1)
//   --batch-rows N --batch-ms N  the batcher's limits (default: `ja4 run`'s)
//   --raw          also write the raw tables (off by default, as `ja4 run`)
//   --keep         keep the database directory
//   --db-dir DIR   the embedded database's directory (default bench/.data/correlator-db;
//                  wiped; a non-empty one that is not a database is refused): the
//                  filesystem matters, see docs/correlator.md
//   --format Native|RowBinary|JSONEachRow  the rows the pipeline inserts (default Native, as `ja4 run`)
import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { TABLES } from '../dist/storage/index.js';
import { CorrelationStage } from '../dist/pipeline/correlation-stage.js';
import { clickhouseSink, INGEST_ENGINE_SETTINGS } from '../dist/pipeline/sinks.js';
import { settingsClause } from '../dist/storage/settings-clause.js';
import { DEFAULT_BATCHER_OPTIONS } from '../dist/pipeline/batcher.js';
import { openDatagramReceiver } from '../dist/ingest/datagram-receiver.js';
import { INGEST_COLUMNS } from '../dist/correlator/rows-binary.js';
import { correlatorWorkload as workload, encodeWorkload } from './lib/correlator-workload.js';
import { filesystemOf, openFreshStorage } from './lib/fresh-storage.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'bench', '.data');
const sockDir = join(dataDir, 'correlator-sockets');
const TARGET = 100_000;

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    'batch-rows': { type: 'string', default: String(DEFAULT_BATCHER_OPTIONS.maxRows) },
    'batch-ms': { type: 'string', default: String(DEFAULT_BATCHER_OPTIONS.maxDelayMs) },
    raw: { type: 'boolean', default: false },
    format: { type: 'string', default: 'Native' },
    keep: { type: 'boolean', default: false },
    'db-dir': { type: 'string', default: join(dataDir, 'correlator-db') },
  },
});
const dbDir = opt['db-dir'];
const N = Number(opt.requests);
const runs = Math.max(1, Number(opt.runs));
const shards = Number(opt.threads);
const rawTables = opt.raw;
const batchRows = Number(opt['batch-rows']);
const batchMs = Number(opt['batch-ms']);
const format = opt.format;
/** the baselines' formats; the first is the storage issue's raw insert baseline */
const BASELINE_FORMATS = ['JSONEachRow', 'RowBinary', 'Native'];
if (!BASELINE_FORMATS.includes(format)) throw new Error(`--format must be one of ${BASELINE_FORMATS.join(', ')}, got ${format}`);
const cores = availableParallelism();
/** CPU time of the whole process (every thread) since `from`, seconds. */
const cpuSince = (from) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

// Per-thread CPU (Linux /proc; clock ticks of 10 ms): which thread spends
// the CPU. The engine's threads carry their own names (QueryPipelineEx,
// MergeMutate, ...); Node's are all "node": the main thread, the correlator
// worker (appeared with the stage), the receivers' native threads (appeared
// with them), and the rest, V8's platform threads (GC helpers, compilers)
// and libuv's pool; the sender, gone by the end, is the process total
// minus the live threads.
const TICK_US = 10_000;
function threadTicks() {
  const m = new Map();
  let names = [];
  try {
    names = readdirSync('/proc/self/task');
  } catch {
    return m;
  }
  for (const t of names) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(t, { ticks: Number(f[11]) + Number(f[12]), name: st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')) });
    } catch {
      // exited meanwhile
    }
  }
  return m;
}

const log = (s) => process.stdout.write(`${s}\n`);


// The sender thread: mod_reqin_log and the sensor. A send refused by a full
// receiver is retried after yielding (the real senders would drop; here every
// record must arrive so that runs compare). It also waits while the stage has
// more than PACE_BYTES queued (read from `shared`, which the main thread
// updates): the pipeline drops input past its backlog bound (256 MiB), which
// a sender with ~1 GiB to send as fast as it can (--requests 1000000)
// reaches; paced, it sends as fast as the pipeline takes, a sustained rate.
const PACE_BYTES = 64 << 20;
const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { openDatagramSender } = await import(workerData.senderModule);
  const http = openDatagramSender({ path: workerData.httpPath, type: 'seqpacket' });
  const tls = openDatagramSender({ path: workerData.tlsPath, type: 'dgram' });
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  // the stage's backlog: wait 1 ms rather than spin (a spinning sender would take the CPU the pipeline needs)
  const wait = () => new Promise((r) => setTimeout(r, 1));
  // a full receiver (a UNIX datagram queue is 10 deep here): block the
  // thread 50 us, not a 1 ms timer: the receiver drains the queue in far less,
  // and 1 ms sleeps (~1,900 per 200k requests) idled the sender for half of
  // its sending time, a limit of the bench, not of the pipeline
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const retry = () => Atomics.wait(nap, 0, 0, 0.05);
  let ti = 0, hi = 0, retries = 0, paced = 0;
  const T = workerData.tls, H = workerData.http;
  const at = (w, i) => { const start = i === 0 ? 0 : w.ends[i - 1]; return Buffer.from(w.data.buffer, w.data.byteOffset + start, w.ends[i] - start); };
  const backlog = new Int32Array(workerData.shared);
  // interleave: TLS events run ahead of the HTTP records by a few hundred connections
  while (ti < T.ends.length || hi < H.ends.length) {
    while (Atomics.load(backlog, 0) > workerData.paceBytes) { paced++; await wait(); }
    for (let k = 0; k < 50 && ti < T.ends.length; k++) { const b = at(T, ti); while (!tls.send(b)) { retries++; retry(); } ti++; }
    for (let k = 0; k < 3 && hi < H.ends.length; k++) { const b = at(H, hi); while (!http.send(b)) { retries++; retry(); } hi++; }
  }
  http.close(); tls.close();
  parentPort.postMessage({ retries, paced });
})();
`;

/**
 * The workload's messages as one buffer and their end offsets. Held as
 * ~260k Buffers (1M requests) in the main thread and again in the sender,
 * it was ~260k more objects for every major GC of the run to mark: the
 * collector's share then grew with --requests, a cost of the bench, not of
 * the pipeline.
 */
function pack(list) {
  const data = Buffer.concat(list);
  if (data.length >= 2 ** 32) throw new RangeError('workload too large to pack (4 GiB)');
  const ends = new Uint32Array(list.length);
  let end = 0;
  for (let i = 0; i < list.length; i++) ends[i] = end += list[i].length;
  return { data, ends };
}

/**
 * The sender thread, started with its copy of the workload and its sockets
 * open, waiting: send() starts it and resolves with its retries. Copying
 * the ~170 MiB of records into the thread took the main thread ~0.4 s
 * (2-3 us per request) and is no cost of the pipeline: it happens before
 * the clock and the CPU counters start.
 */
async function startSender(work, httpPath, tlsPath, shared) {
  const w = new Worker(SENDER, {
    eval: true,
    workerData: { senderModule: new URL('../dist/ingest/datagram-sender.js', import.meta.url).href, httpPath, tlsPath, tls: work.tls, http: work.http, shared, paceBytes: PACE_BYTES },
  });
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return {
    send: () =>
      new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage('go');
      }),
    stop: () => w.terminate(),
  };
}

/**
 * The run's watchdog, called every 20 ms while sending and after: throws when
 * input was lost (the runs would not compare) or when nothing moved for 60 s
 * (a stuck stage would otherwise keep a paced sender, and the bench, waiting
 * for ever). Moving: bytes received, rows correlated, batches written (not
 * steps: idle ticks count among them).
 */
function watchdog(stage) {
  let progress = -1;
  let movedAt = performance.now();
  return () => {
    const st = stage.detailedStats();
    const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
    const lost = st.ingest.backlog_dropped_bytes + st.ingest.failed_bytes + sum(st.correlator.drops.http) + sum(st.correlator.drops.tls);
    if (lost > 0) throw new Error(`pipeline: input lost, the run does not compare: ${JSON.stringify({ ingest: st.ingest, drops: st.correlator.drops })}`);
    const moved = st.ingest.http_bytes + st.ingest.tls_bytes + st.ingest.rows_out + st.writer.written_batches;
    if (moved !== progress) [progress, movedAt] = [moved, performance.now()];
    else if (performance.now() - movedAt > 60_000) throw new Error(`pipeline: no progress in 60 s: ${JSON.stringify({ ingest: st.ingest, correlator: st.correlator.correlator, writer: st.writer })}`);
    return st;
  };
}

async function truncateAll(storage) {
  const tables = await storage.query(
    "SELECT database, name FROM system.tables WHERE database IN ('ja4_logs', 'ja4_processing') AND engine LIKE '%MergeTree' AND name NOT LIKE 'ref_%' AND name != 'schema_migrations'",
  );
  for (const t of tables) await storage.command(`TRUNCATE TABLE ${t.database}.${t.name}`);
}

const countLogs = async (storage) => (await storage.query(`SELECT count() AS n FROM ${TABLES.httpLogs}`))[0].n;

// The stage's log, silenced: callable (a `(line) => void` log) and a Logger
// (src/config/logger.ts) at once, so the bench runs against either form.
const quiet = Object.assign(() => undefined, {
  level: 'error', debug() {}, info() {}, warn() {}, error() {}, isEnabled: () => false, child: () => quiet,
});

// A sink that takes every batch at once: the same pipeline without the database.
const nullSink = { name: 'null', format, async write() {}, async close() {} };

async function pipelineRun(storage, work, toDatabase = true) {
  if (toDatabase) await truncateAll(storage);
  rmSync(sockDir, { recursive: true, force: true });
  mkdirSync(sockDir, { recursive: true });
  const beforeStage = new Set(threadTicks().keys());
  const stage = new CorrelationStage({
    sink: toDatabase ? clickhouseSink(storage) : nullSink,
    tables: { ingest: TABLES.httpLogsIngest, requests: TABLES.httpRequests, tlsEvents: TABLES.tlsEvents },
    correlator: { shards, rawTables, tlsWaitMs: 2000, format },
    batcher: { maxRows: batchRows, maxDelayMs: batchMs },
    log: quiet,
  });
  await stage.start();
  await new Promise((r) => setTimeout(r, 50)); // the worker thread is up
  const workerTids = new Set([...threadTicks().keys()].filter((t) => !beforeStage.has(t)));
  let firstRx = 0;
  let lastRx = 0;
  const mark = () => {
    const t = performance.now();
    if (!firstRx) firstRx = t;
    lastRx = t;
  };
  const httpPath = join(sockDir, 'http.socket');
  const tlsPath = join(sockDir, 'network.socket');
  const rxHttp = openDatagramReceiver({ path: httpPath, type: 'seqpacket', receiveBufferBytes: 8 << 20 }, (b) => { mark(); stage.pushHttp(b.data); });
  const rxTls = openDatagramReceiver({ path: tlsPath, type: 'dgram', receiveBufferBytes: 8 << 20, batchSize: 256 }, (b) => { mark(); stage.pushTls(b.data); });
  await new Promise((r) => setTimeout(r, 20));
  const known = new Set([...beforeStage, ...workerTids]);
  const rxTids = new Set([...threadTicks().keys()].filter((t) => !known.has(t)));
  const shared = new SharedArrayBuffer(4);
  const sender = await startSender(work, httpPath, tlsPath, shared);
  const backlog = new Int32Array(shared);
  const pacer = setInterval(() => Atomics.store(backlog, 0, stage.backlogBytes), 2);
  const ticks0 = threadTicks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const watch = watchdog(stage);
  let sent;
  const sending = sender.send().then((r) => (sent = r));
  // (time, rows written) at each insert the sink acknowledged: the steady rate
  const commits = [];
  const noteCommits = (st) => {
    const w = st.writer.written_rows;
    if (w !== (commits.at(-1)?.[1] ?? 0)) commits.push([performance.now(), w]);
    return st;
  };
  try {
    while (!sent) {
      noteCommits(watch());
      await Promise.race([sending, new Promise((r) => setTimeout(r, 20))]);
    }
  } catch (err) {
    await sender.stop();
    throw err;
  } finally {
    clearInterval(pacer);
  }
  const { retries, paced } = sent;
  // rows written once the orphans' wait is over; stop() writes any left
  for (;;) {
    const st = noteCommits(watch());
    const c = st.correlator.correlator;
    if (!toDatabase && c.matched + c.no_tls + c.tls_not_seen >= N) break;
    if (toDatabase && c.http_records >= N && c.pending === 0 && st.writer.written_batches > 0 && (await countLogs(storage)) >= N) break;
    if (c.http_records >= N && c.pending > 0 && performance.now() - lastRx > 2500) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  // the worker and the receivers end with the stage: their CPU is read now;
  // the other threads' (merges of the inserted parts go on) after stop()
  const ticks1 = threadTicks();
  await rxHttp.close();
  await rxTls.close();
  await stage.stop();
  const ticks2 = threadTicks();
  const secs = (performance.now() - t0) / 1000;
  const cpuSecs = cpuSince(c0);
  const st = stage.detailedStats();
  const n = toDatabase ? await countLogs(storage) : st.ingest.rows_out;
  if (n !== N) throw new Error(`pipeline: ${n} rows ${toDatabase ? 'in http_logs' : 'correlated'}, expected ${N}`);
  return {
    rate: N / secs,
    steady: toDatabase ? steadyRate(commits, N) : undefined,
    secs,
    cpuUs: (cpuSecs * 1e6) / N,
    receiveSecs: (lastRx - firstRx) / 1000,
    correlateSecs: st.ingest.correlate_ms / 1000,
    insertSecs: st.writer.write_ms_total / 1000,
    inserts: st.writer.written_batches,
    steps: st.ingest.steps,
    retries,
    paced,
    c: st.correlator.correlator,
    drops: st.correlator.drops,
    threads: threadBreakdown(ticks0, new Map([...ticks2, ...[...ticks1].filter(([t]) => workerTids.has(t) || rxTids.has(t))]), cpuSecs, { workerTids, rxTids }),
  };
}

/**
 * The steady rate: rows committed per second between the first insert
 * acknowledged past 10% of the run's rows and the last one below 90%. The
 * run's start (the worker's and the engine's first steps) and its tail (the
 * requests whose TLS event is lost wait tlsWaitMs, 2 s, after the last
 * datagram; the last insert) are outside it. Inserts overlap correlation,
 * so the rows of the inserts between the two took exactly that time.
 * Undefined with fewer than two inserts inside (--requests 1000000 gives ~8).
 */
function steadyRate(commits, n) {
  // written rows count every table's (with --raw, http_requests' and
  // tls_events' too): requests are their share of the run's total
  const total = commits.at(-1)?.[1] ?? 0;
  const a = commits.find(([, w]) => w >= 0.1 * total);
  const b = commits.findLast(([, w]) => w <= 0.9 * total);
  if (!a || !b || b[0] <= a[0]) return undefined;
  const requests = ((b[1] - a[1]) * n) / total;
  return { rate: (requests * 1000) / (b[0] - a[0]), rows: requests, secs: (b[0] - a[0]) / 1000, inserts: commits.indexOf(b) - commits.indexOf(a) };
}

/** CPU per request (us) by thread group between two snapshots. */
function threadBreakdown(t0, t1, totalSecs, { workerTids, rxTids }) {
  const out = { main: 0, correlator_worker: 0, receivers: 0, v8_gc_and_libuv: 0, engine: 0, sender_exited: 0 };
  let live = 0;
  for (const [tid, { ticks, name }] of t1) {
    const d = (ticks - (t0.get(tid)?.ticks ?? 0)) * TICK_US;
    live += d;
    const group =
      tid === String(process.pid)
        ? 'main'
        : workerTids.has(tid)
          ? 'correlator_worker'
          : rxTids.has(tid)
            ? 'receivers'
            : name !== 'node'
              ? 'engine'
              : 'v8_gc_and_libuv';
    out[group] += d;
  }
  // the sender thread has exited by then: its CPU is what the live threads do not account for
  out.sender_exited = Math.max(0, totalSecs * 1e6 - live);
  for (const k of Object.keys(out)) out[k] = out[k] / N;
  return out;
}
const showThreads = (t) => Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');

async function baselineRun(storage, file, fmt = 'JSONEachRow') {
  await truncateAll(storage);
  const ticks0 = threadTicks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // binary bodies are read with the columns the pipeline names (rows-binary.ts)
  const target = fmt === 'JSONEachRow' ? TABLES.httpLogsIngest : `${TABLES.httpLogsIngest} (${INGEST_COLUMNS.join(', ')})`;
  // with the engine settings of the pipeline's inserts (src/pipeline/sinks.ts)
  await storage.command(`INSERT INTO ${target} FROM INFILE '${file}' ${settingsClause(INGEST_ENGINE_SETTINGS)} FORMAT ${fmt}`);
  const secs = (performance.now() - t0) / 1000;
  const cpuSecs = cpuSince(c0);
  const threads = threadBreakdown(ticks0, threadTicks(), cpuSecs, { workerTids: new Set(), rxTids: new Set() });
  const n = await countLogs(storage);
  if (n !== N) throw new Error(`baseline: ${n} rows, expected ${N}`);
  return { rate: N / secs, secs, cpuUs: (cpuSecs * 1e6) / N, threads };
}

/** writeFileSync in pieces: one write takes at most 2 GiB (--requests 2000000 makes 2.4 GB of JSON rows) */
function writeWhole(path, buf) {
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, Math.min(buf.length - off, 1 << 30));
  } finally {
    closeSync(fd);
  }
}

async function main() {
  const storage = await openFreshStorage(dbDir);
  try {
    const t0Us = (Date.now() - 3_600_000) * 1000;
    let work = workload(N, t0Us);
    const bytes = work.http.reduce((s, b) => s + b.length, 0) + work.tls.reduce((s, b) => s + b.length, 0);
    log(`== correlator: ${fmt(N)} requests (${fmt(work.tls.length)} TLS events, ${fmt(work.http.length)} HTTP messages, ${(bytes / 1048576).toFixed(1)} MiB), ${shards} correlator thread(s), raw tables ${rawTables ? 'on' : 'off'}, ${format} inserts of up to ${fmt(batchRows)} rows or ${fmt(batchMs)} ms, ${runs} interleaved runs, ${cores} cores, database on ${filesystemOf(dbDir)}`);

    // the baseline's rows: the same records through the correlator, once per format
    const files = {};
    for (const f of BASELINE_FORMATS) {
      files[f] = join(dataDir, `correlator-rows.${f.toLowerCase()}`);
      writeWhole(files[f], encodeWorkload(work, f));
    }
    const packed = { tls: pack(work.tls), http: pack(work.http) };
    work = undefined; // the Buffers go: only the packed copy stays
    // warm-up (dictionaries, regex caches, worker start): the first 1,000 rows
    // (read from the file's start: the whole file is ~1 GiB at --requests 1000000)
    const head = Buffer.alloc(4 << 20);
    const fd = openSync(files.JSONEachRow, 'r');
    const jsonRows = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    closeSync(fd);
    let end = 0;
    for (let i = 0, nl; i < 1000 && (nl = jsonRows.indexOf(10, end)) >= 0; i++) end = nl + 1;
    await storage.insertEncoded(TABLES.httpLogsIngest, jsonRows.toString('utf8', 0, end), 'JSONEachRow');

    const pipe = [];
    /** per baseline format, its runs */
    const base = Object.fromEntries(BASELINE_FORMATS.map((f) => [f, []]));
    const nodb = [];
    for (let r = 0; r < runs; r++) {
      const n = await pipelineRun(storage, packed, false);
      nodb.push(n);
      log(`  run ${r + 1}: datagrams -> correlated rows, no database: ${fmt(n.rate)} req/s (receive ${n.receiveSecs.toFixed(2)} s, correlate ${n.correlateSecs.toFixed(2)} s; ${fmt(n.paced)} paced waits; CPU ${n.cpuUs.toFixed(1)} us/req)`);
      log(`         CPU us/req by thread: ${showThreads(n.threads)}`);
      // interleaved: a baseline, the pipeline, the other baselines
      base.JSONEachRow.push(await baselineRun(storage, files.JSONEachRow));
      pipe.push(await pipelineRun(storage, packed));
      for (const f of BASELINE_FORMATS.slice(1)) base[f].push(await baselineRun(storage, files[f], f));
      const p = pipe[pipe.length - 1];
      const lastOf = (f) => base[f][base[f].length - 1];
      log(`  run ${r + 1}: pipeline (${format}) ${fmt(p.rate)} req/s (${p.secs.toFixed(2)} s; receive ${p.receiveSecs.toFixed(2)} s, correlate ${p.correlateSecs.toFixed(2)} s in ${fmt(p.steps)} steps, insert ${p.insertSecs.toFixed(2)} s in ${p.inserts} inserts; ${fmt(p.retries)} send retries, ${fmt(p.paced)} paced waits; CPU ${p.cpuUs.toFixed(1)} us/req) | baseline ${BASELINE_FORMATS.map((f) => `${f} ${fmt(lastOf(f).rate)} rows/s (CPU ${lastOf(f).cpuUs.toFixed(1)} us/row)`).join(', ')}`);
      log(`         steady: ${p.steady ? `${fmt(p.steady.rate)} req/s (${fmt(p.steady.rows)} rows in ${p.steady.inserts} inserts in ${p.steady.secs.toFixed(2)} s, between 10% and 90% of the rows)` : 'n/a (fewer than two inserts between 10% and 90% of the rows: more --requests)'}`);
      log(`         pipeline CPU us/req by thread: ${showThreads(p.threads)}`);
      log(`         baseline ${format} CPU us/row by thread: ${showThreads(lastOf(format).threads)}`);
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const pm = median(pipe.map((p) => p.rate));
    const bm = Object.fromEntries(BASELINE_FORMATS.map((f) => [f, median(base[f].map((b) => b.rate))]));
    const last = pipe[pipe.length - 1];
    log(`  statuses (last run): matched ${fmt(last.c.matched)}, no_tls ${fmt(last.c.no_tls)}, tls_not_seen ${fmt(last.c.tls_not_seen)}; drops ${JSON.stringify(last.drops)}`);
    const nm = median(nodb.map((p) => p.rate));
    log(`  receive + correlate (no database):          ${fmt(nm).padStart(10)} req/s  (runs: ${nodb.map((p) => fmt(p.rate)).join(', ')})`);
    log(`  pipeline (datagrams -> http_logs):          ${fmt(pm).padStart(10)} req/s  (runs: ${pipe.map((p) => fmt(p.rate)).join(', ')}) ${format}, first datagram to last row`);
    const steady = pipe.every((p) => p.steady) ? median(pipe.map((p) => p.steady.rate)) : undefined;
    if (steady) log(`  pipeline, steady (10% to 90% of the rows):  ${fmt(steady).padStart(10)} req/s  (runs: ${pipe.map((p) => fmt(p.steady.rate)).join(', ')})`);
    for (const f of BASELINE_FORMATS) {
      log(`  baseline (INSERT FROM INFILE, same rows):   ${fmt(bm[f]).padStart(10)} rows/s (runs: ${base[f].map((b) => fmt(b.rate)).join(', ')}) ${f}`);
    }
    const nc = median(nodb.map((p) => p.cpuUs));
    const pc = median(pipe.map((p) => p.cpuUs));
    const bc = Object.fromEntries(BASELINE_FORMATS.map((f) => [f, median(base[f].map((b) => b.cpuUs))]));
    log(`  CPU per request (all threads, medians): receive + correlate ${nc.toFixed(1)} us (sender included), pipeline ${pc.toFixed(1)} us, baseline insert ${BASELINE_FORMATS.map((f) => `${bc[f].toFixed(1)} us/row (${f})`).join(', ')}`);
    log(`  => CPU-bound ceilings on ${cores} cores: pipeline ${fmt((cores * 1e6) / pc)} req/s, baseline ${fmt((cores * 1e6) / bc.JSONEachRow)} rows/s; ${fmt(TARGET)} req/s needs <= ${((cores * 1e6) / TARGET).toFixed(1)} us of CPU per request`);
    log(`  pipeline / baseline = ${BASELINE_FORMATS.map((f) => `${(pm / bm[f]).toFixed(2)} (${f} baseline)`).join(', ')}; target >= ${fmt(TARGET)} req/s: first datagram to last row ${pm >= TARGET ? 'OK' : 'NOT MET'}, steady ${steady === undefined ? 'n/a' : steady >= TARGET ? 'OK' : 'NOT MET'}`);
    for (const f of BASELINE_FORMATS) rmSync(files[f], { force: true });
    writeFileSync(join(dataDir, 'correlator-results.json'), JSON.stringify({ requests: N, shards, rawTables, batchRows, format, pipeline: pipe, noDatabase: nodb, baseline: base.JSONEachRow, baselineRowBinary: base.RowBinary, baselineNative: base.Native, median: { pipeline: pm, steady, noDatabase: nm, baseline: bm.JSONEachRow, baselineRowBinary: bm.RowBinary, baselineNative: bm.Native } }, null, 2));
  } finally {
    await storage.close();
    rmSync(sockDir, { recursive: true, force: true });
    if (!opt.keep) rmSync(dbDir, { recursive: true, force: true });
  }
}

await main();
