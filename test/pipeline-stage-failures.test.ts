// The correlation stage of `ja4 run` facing what used to stop it: a TLS event
// the correlator's encoder choked on, and a correlation step that fails (a
// worker that throws or dies). Real worker threads, a real JSON lines sink.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CorrelationStage } from '../src/pipeline/correlation-stage.js';
import { writerUnhealthy } from '../src/pipeline/health-server.js';
import { jsonlFileSink, type Sink } from '../src/pipeline/sinks.js';
import { Spool } from '../src/pipeline/spool.js';
import { silentLogger } from '../src/config/index.js';
import { TABLES } from '../src/storage/index.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { flowEvent, httpRecord, lines } from './helpers/correlator-records.js';
import { memoryLogger } from './helpers/memory-logger.js';

const TABLE_NAMES = { ingest: TABLES.httpLogsIngest, requests: TABLES.httpRequests, tlsEvents: TABLES.tlsEvents };

async function stageWithFile(t: Test): Promise<{ stage: CorrelationStage; rows: () => Record<string, unknown>[]; mem: ReturnType<typeof memoryLogger> }> {
  const file = join(scratchDir(t), 'rows.jsonl');
  const mem = memoryLogger();
  // the sink is the caller's to close (ja4 run closes its own): an open FileHandle left to the collector is a warning
  const sink = await jsonlFileSink(file, TABLE_NAMES.ingest);
  t.teardown(() => sink.close());
  const stage = new CorrelationStage({ sink, tables: TABLE_NAMES, correlator: { shards: 1, rawTables: false }, batcher: { maxDelayMs: 20 }, tickMs: 20, log: mem.log });
  await stage.start();
  const rows = (): Record<string, unknown>[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stage, rows, mem };
}

t.test('a TLS event with a null certificate chain: counted schema_invalid, the requests of the same batch still written, the process alive', async (t) => {
  const { stage, rows } = await stageWithFile(t);
  const now = Date.now() * 1000;
  const bad = { ...flowEvent({ first: now, port: 41000 }), tls_certs: [null] };
  stage.pushTls(lines(bad, flowEvent({ first: now, port: 42000 })));
  stage.pushHttp(lines(httpRecord({ ts: now + 1000, port: 42000 })));
  await stage.settle();
  const s = stage.stats();
  t.same([s.tls_dropped_schema_invalid, s.flow_events, s.matched, s.failed_steps], [1, 1, 1, 0]);
  await stage.stop();
  t.same(rows().map((r) => [r.client_port, r.correlation_status]), [[42000, 'matched']]);
});

t.test('a correlation step that fails: its input is counted and logged as dropped, the next steps go on', async (t) => {
  const { stage, rows, mem } = await stageWithFile(t);
  // the failure is injected (no known input makes the worker throw any more):
  // the pool's next call rejects as piscina does for a worker that threw or died
  const pool = (stage as unknown as { pool: { process: (...a: unknown[]) => Promise<unknown> } }).pool;
  const real = pool.process.bind(pool);
  let fail = true;
  pool.process = async (...a: unknown[]) => {
    if (fail) {
      fail = false;
      // as the pool does, the input was moved to the worker (detached here) before it failed
      const http = a[0] as Buffer;
      structuredClone(http.buffer, { transfer: [http.buffer] });
      throw new Error('worker exited with code 1');
    }
    return real(...a);
  };
  const now = Date.now() * 1000;
  // a buffer of its own, as the receivers hand them: the pool moves it, not a copy
  const text = lines(httpRecord({ ts: now, port: 80, scheme: 'http' }));
  const lost = Buffer.from(new ArrayBuffer(text.length));
  text.copy(lost);
  const lostBytes = lost.length;
  stage.pushHttp(lost);
  await stage.settle();
  stage.pushHttp(lines(httpRecord({ ts: now + 1000, port: 81, scheme: 'http' })));
  await stage.settle();
  const s = stage.stats();
  t.equal(lost.length, 0, 'the input was moved');
  t.same([s.failed_steps, s.failed_bytes], [1, lostBytes], 'the step and its bytes counted');
  t.match(mem.records().find((r) => r.msg === 'a correlation step failed: its input is dropped'), { level: 'error', error: 'worker exited with code 1', http_bytes: lostBytes, failed_steps: 1 });
  t.match(writerUnhealthy(stage), /^input lost in the last 60 s \(backlog_dropped_bytes 0, failed_steps 1\)/, '/healthz: unhealthy for a minute after input was lost');
  await stage.stop();
  t.same(rows().map((r) => r.client_port), [81], 'the next step written');
});

t.test('a slow database with a spool: batches go to the spool instead of holding the loop; no input dropped, every row written once', async (t) => {
  // every insert takes 300 ms; input comes faster than that. The loop
  // waited on each flush in turn: the backlog filled and input was dropped
  // (92% in the review's run) while the spool stayed empty
  const dir = scratchDir(t);
  const file = join(dir, 'rows.jsonl');
  const inner = await jsonlFileSink(file, TABLE_NAMES.ingest);
  t.teardown(() => inner.close());
  const slow: Sink = { name: 'slow', format: inner.format, async write(b) { await new Promise((r) => setTimeout(r, 300)); await inner.write(b); }, async close() { await inner.close(); } };
  const spool = new Spool(join(dir, 'spool'), 64 << 20, silentLogger());
  const stage = new CorrelationStage({ sink: slow, spool, tables: TABLE_NAMES, correlator: { shards: 0, rawTables: false }, batcher: { maxDelayMs: 20, maxRows: 200 }, tickMs: 10, maxBacklogBytes: 256 << 10, stopWaitMs: 20_000, log: silentLogger() });
  await stage.start();
  const now = Date.now() * 1000;
  let sent = 0;
  for (let i = 0; i < 30; i++) {
    stage.pushHttp(lines(...Array.from({ length: 200 }, () => httpRecord({ ts: now + sent, port: 1000 + (sent++ % 60000), scheme: 'http' }))));
    await new Promise((r) => setTimeout(r, 40));
  }
  const s = stage.stats();
  t.equal(s.backlog_dropped_bytes, 0, 'no input dropped');
  t.ok(s.spool_appended! > 0, `batches went to the spool (${s.spool_appended})`);
  await stage.settle();
  await stage.stop();
  const ports = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { client_port: number }).client_port);
  t.equal(ports.length, sent, `every request written (${sent})`);
  t.equal(new Set(ports).size, sent, 'each once');
});

t.test('a slow database: input dropped behind the full backlog makes /healthz unhealthy, though every insert succeeds', async (t) => {
  // every insert acknowledged after 400 ms: the loop waits on it while
  // input piles up past the (small) backlog bound
  const slow: Sink = { name: 'slow', format: 'JSONEachRow', async write() { await new Promise((r) => setTimeout(r, 400)); }, async close() {} };
  // batches of 50 rows: each correlation step fills one, and its flush holds the loop for the insert
  const stage = new CorrelationStage({ sink: slow, tables: TABLE_NAMES, correlator: { shards: 0, rawTables: false }, batcher: { maxDelayMs: 20, maxRows: 50 }, tickMs: 20, maxBacklogBytes: 64 << 10, log: silentLogger() });
  await stage.start();
  t.equal(writerUnhealthy(stage), undefined, 'healthy at first');
  const now = Date.now() * 1000;
  for (let i = 0; i < 100 && stage.stats().backlog_dropped_bytes === 0; i++) {
    stage.pushHttp(lines(...Array.from({ length: 100 }, (_, k) => httpRecord({ ts: now + k, port: 1000 + k, scheme: 'http' }))));
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(stage.stats().backlog_dropped_bytes! > 0, 'input was dropped');
  t.match(writerUnhealthy(stage), /^input lost in the last 60 s \(backlog_dropped_bytes [1-9]/, 'and /healthz says so');
  await stage.stop();
});

t.test('stop() while the loop itself waits on a batch the spool refuses: bounded too', async (t) => {
  // a full batch (maxRows) holds the correlation loop until it is
  // acknowledged; the spool's disk refuses it and the database is down: the
  // loop never ended, so stop() never returned
  const dir = scratchDir(t);
  const spool = new Spool(join(dir, 'spool'), 1 << 20, silentLogger());
  const mem = memoryLogger();
  const down: Sink = { name: 'down', format: 'JSONEachRow', async write() { throw new Error('connect ECONNREFUSED 127.0.0.1:8123'); }, async close() {} };
  const stage = new CorrelationStage({ sink: down, spool, tables: TABLE_NAMES, correlator: { shards: 0, rawTables: false }, batcher: { maxRows: 100, maxDelayMs: 50 }, writer: { retryMinMs: 20, retryMaxMs: 50 }, tickMs: 20, stopWaitMs: 500, log: mem.log });
  await stage.start();
  rmSync(join(dir, 'spool'), { recursive: true, force: true });
  writeFileSync(join(dir, 'spool'), 'not a directory');
  const now = Date.now() * 1000;
  stage.pushHttp(lines(...Array.from({ length: 150 }, (_, i) => httpRecord({ ts: now + i, port: 2000 + i, scheme: 'http' }))));
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  await stage.stop();
  t.ok(Date.now() - t0 < 3000, `stop() returned in ${Date.now() - t0} ms`);
  t.ok(mem.records().some((r) => r.level === 'error' && String(r.msg).startsWith('stopping: a batch was not acknowledged in time')), 'the loss logged');
});

t.test('stop() with the database down and the spool refusing writes: bounded by the wait, the lost rows logged, no hang', async (t) => {
  const dir = scratchDir(t);
  const spool = new Spool(join(dir, 'spool'), 1 << 20, silentLogger());
  const mem = memoryLogger();
  const down: Sink = { name: 'down', format: 'JSONEachRow', async write() { throw new Error('connect ECONNREFUSED 127.0.0.1:8123'); }, async close() {} };
  const stage = new CorrelationStage({ sink: down, spool, tables: TABLE_NAMES, correlator: { shards: 0, rawTables: false }, writer: { retryMinMs: 20, retryMaxMs: 50 }, tickMs: 20, stopWaitMs: 500, log: mem.log });
  await stage.start();
  rmSync(join(dir, 'spool'), { recursive: true, force: true });
  writeFileSync(join(dir, 'spool'), 'not a directory');
  const now = Date.now() * 1000;
  stage.pushHttp(lines(httpRecord({ ts: now, port: 80, scheme: 'http' }), httpRecord({ ts: now, port: 81, scheme: 'http' })));
  const t0 = Date.now();
  await stage.stop();
  const took = Date.now() - t0;
  t.ok(took < 3000, `stopped in ${took} ms`);
  t.match(mem.records().find((r) => r.msg.startsWith('stopping: batches were not acknowledged in time')), { level: 'error', unacknowledged_rows: 2, last_spool_error: /ENOTDIR/ });
});

t.test('--output jsonl: a write the file takes only in part (a size limit) leaves whole lines, and the batch fails for the retry', async (t) => {
  const file = join(scratchDir(t), 'rows.jsonl');
  // a child under `ulimit -f 2` (2048 bytes), SIGXFSZ caught: the write
  // that crosses the limit is short, the next one EFBIG
  const loader = '@isaacs/ts-node-temp-fork-for-pr-2009/import';
  const child = spawnSync('bash', ['-c', `ulimit -f 2; exec "${process.execPath}" --no-warnings --import ${loader} test/helpers/jsonl-short-write.mts "${file}"`], {
    // not tap's environment (its NODE_OPTIONS hooks write files), and no
    // v8-compile-cache (the TypeScript loader's: on a fresh machine it writes
    // a 2 MB blob at startup): the size limit is the sink's alone
    encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, TS_NODE_TRANSPILE_ONLY: '1', DISABLE_V8_COMPILE_CACHE: '1' },
  });
  t.same(child.stdout.trim().split('\n'), ['ok 0', 'ok 1', 'ok 2', 'fail 3 EFBIG', 'fail 4 EFBIG'], `status ${child.status} signal ${child.signal} ${child.stderr}`);
  const text = readFileSync(file, 'utf8');
  t.equal(text.length, 3 * 618, 'the three accepted batches, and not a byte of the fourth');
  t.equal(text.split('\n').filter(Boolean).filter((l) => JSON.parse(l).x.length === 300).length, 6, 'every line whole');
});

t.test('a spool smaller than the batch limit: batches are cut to a quarter of it, so an outage keeps several within the limit', async (t) => {
  const dir = scratchDir(t);
  const spool = new Spool(join(dir, 'spool'), 64 << 10, silentLogger());
  const down: Sink = { name: 'down', format: 'JSONEachRow', async write() { throw new Error('connect ECONNREFUSED 127.0.0.1:8123'); }, async close() {} };
  // only size cuts batches here (a minute's delay, 200k rows): 128 MiB by default
  const stage = new CorrelationStage({ sink: down, spool, tables: TABLE_NAMES, correlator: { shards: 0, rawTables: false }, batcher: { maxDelayMs: 60_000 }, writer: { retryMinMs: 20, retryMaxMs: 50 }, tickMs: 20, stopWaitMs: 500, log: silentLogger() });
  await stage.start();
  const now = Date.now() * 1000;
  for (let i = 0; i < 40; i++) {
    stage.pushHttp(lines(...Array.from({ length: 10 }, (_, j) => httpRecord({ ts: now + i * 10 + j, port: 20000 + i * 10 + j, scheme: 'http' }))));
    // correlated one push at a time (settle() would wait for the database)
    while (stage.detailedStats().ingest.rows_out < (i + 1) * 10) await new Promise((r) => setTimeout(r, 5));
  }
  await stage.stop();
  const st = spool.stats();
  t.ok(st.bytes <= 64 << 10, `the spool within its limit (${st.bytes} bytes)`);
  t.ok(st.segments >= 2, `several batches kept (${st.segments})`);
  t.ok(st.dropped_segments >= 1, `the oldest dropped and counted (${st.dropped_segments})`);
  t.equal(st.appended, st.segments + st.dropped_segments);
});
