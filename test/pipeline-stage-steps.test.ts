// How the correlation stage of `ja4 run` cuts its input into steps: at most
// one step per minStepMs (input that comes sooner joins the next step), but
// a backlog past a quarter of its bound, or stop(), starts the step at
// once; a step takes at most maxStepBytes, and what it leaves starts the
// next at once. Real worker thread, a real JSON lines sink.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CorrelationStage, type CorrelationStageOptions } from '../src/pipeline/correlation-stage.js';
import { jsonlFileSink } from '../src/pipeline/sinks.js';
import { silentLogger } from '../src/config/index.js';
import { TABLES } from '../src/storage/index.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { flowEvent, httpRecord, lines } from './helpers/correlator-records.js';

const TABLE_NAMES = { ingest: TABLES.httpLogsIngest, requests: TABLES.httpRequests, tlsEvents: TABLES.tlsEvents };

async function stageWith(t: Test, options: Partial<CorrelationStageOptions>): Promise<{ stage: CorrelationStage; rows: () => number }> {
  const file = join(scratchDir(t), 'rows.jsonl');
  const sink = await jsonlFileSink(file, TABLE_NAMES.ingest);
  t.teardown(() => sink.close());
  // no idle ticks: every step counted here is one that input started
  const stage = new CorrelationStage({ sink, tables: TABLE_NAMES, correlator: { shards: 1, rawTables: false }, batcher: { maxDelayMs: 20 }, tickMs: 60_000, log: silentLogger(), ...options });
  await stage.start();
  return { stage, rows: () => readFileSync(file, 'utf8').split('\n').filter(Boolean).length };
}

/** One connection's TLS event and its request, on client port `port`. */
function connection(port: number, now: number): [Buffer, Buffer] {
  return [lines(flowEvent({ first: now, port })), lines(httpRecord({ ts: now + 1000, port }))];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The stage with its worker started and idle (the first step pays the worker's start, ~2 s here). */
async function warm(stage: CorrelationStage, port: number): Promise<void> {
  stage.pushHttp(lines(httpRecord({ ts: Date.now() * 1000, port, scheme: 'http' })));
  await stage.settle();
}

t.test('input that comes within minStepMs of the last step waits for the next one: one step for twenty pushes', async (t) => {
  const { stage, rows } = await stageWith(t, { minStepMs: 1000 });
  await warm(stage, 39999);
  await sleep(1000); // minStepMs after the warm-up step, however fast it was
  const now = Date.now() * 1000;
  const before = stage.counters.steps;
  const [tls0, http0] = connection(40000, now);
  stage.pushTls(tls0);
  stage.pushHttp(http0);
  await sleep(20); // that step started at once: the last one was long ago
  t.equal(stage.counters.steps, before + 1, 'the first push stepped at once');
  for (let i = 1; i <= 20; i++) {
    const [tls, http] = connection(40000 + i, now);
    stage.pushTls(tls);
    stage.pushHttp(http);
    await sleep(10);
  }
  t.equal(stage.counters.steps, before + 1, 'twenty pushes over ~200 ms, within minStepMs (1 s): no step yet');
  await stage.settle();
  t.equal(stage.counters.steps, before + 2, 'then one step took all twenty');
  t.equal(rows(), 22, 'every request written');
  t.equal(stage.stats().matched, 21, 'and joined to its TLS event');
  await stage.stop();
});

t.test('a backlog past a quarter of maxBacklogBytes starts the step at once', async (t) => {
  const { stage } = await stageWith(t, { minStepMs: 60_000, maxBacklogBytes: 64 << 10 });
  await warm(stage, 40999);
  const now = Date.now() * 1000;
  const before = stage.counters.steps;
  stage.pushHttp(lines(httpRecord({ ts: now, port: 41000 })));
  await sleep(200);
  t.equal(stage.counters.steps, before, 'a small push waits: the last step was seconds ago, minStepMs is a minute');
  // ~40 KiB of records: past 16 KiB, a quarter of the bound
  const many: Record<string, unknown>[] = [];
  for (let i = 1; i <= 40; i++) many.push(httpRecord({ ts: now + i, port: 41000 + i, uri: `/${'x'.repeat(400)}` }));
  const big = lines(...many);
  t.ok(big.length > 16 << 10 && big.length < 64 << 10, `${big.length} bytes: past the quarter, under the bound`);
  stage.pushHttp(big);
  const t0 = Date.now();
  while (stage.counters.steps === before && Date.now() - t0 < 10_000) await sleep(10);
  t.equal(stage.counters.steps, before + 1, `stepped after ${Date.now() - t0} ms, not after minStepMs`);
  await stage.settle();
  t.equal(stage.counters.steps, before + 1, 'one step took both pushes');
  t.equal(stage.stats().http_records, 42, 'every record read (the warm-up one too)');
  t.equal(stage.counters.backlog_dropped_bytes, 0, 'nothing dropped');
  await stage.stop();
});

t.test('stop() does not wait out minStepMs: the queued input is correlated and written at once', async (t) => {
  const { stage, rows } = await stageWith(t, { minStepMs: 60_000 });
  await warm(stage, 41999);
  const now = Date.now() * 1000;
  const [tls0, http0] = connection(42000, now);
  stage.pushTls(tls0);
  stage.pushHttp(http0);
  await sleep(20);
  const [tls1, http1] = connection(42001, now);
  stage.pushTls(tls1);
  stage.pushHttp(http1);
  await sleep(20);
  const t0 = Date.now();
  await stage.stop();
  t.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms, not after minStepMs (60 s)`);
  t.equal(rows(), 3, 'every request written');
  t.equal(stage.stats().matched, 2, 'both TLS requests joined');
});

t.test('a step takes at most maxStepBytes of input; what is left starts the next step at once', async (t) => {
  // minStepMs a minute: only the backlog (past 16 KiB, a quarter of the
  // bound) or input left behind by a full step may start a step here
  const { stage, rows } = await stageWith(t, { minStepMs: 60_000, maxBacklogBytes: 64 << 10, maxStepBytes: 8 << 10 });
  await warm(stage, 42999);
  const now = Date.now() * 1000;
  const before = stage.counters.steps;
  // three connections' TLS events in one buffer, then their requests in three buffers of 4-8 KiB
  stage.pushTls(lines(flowEvent({ first: now, port: 43001 }), flowEvent({ first: now, port: 43002 }), flowEvent({ first: now, port: 43003 })));
  const httpBuffers: Buffer[] = [];
  for (let c = 1; c <= 3; c++) {
    const records: Record<string, unknown>[] = [];
    for (let i = 0; i < 6; i++) records.push(httpRecord({ ts: now + 1000 + i, port: 43000 + c, uri: `/${'y'.repeat(400)}` }));
    httpBuffers.push(lines(...records));
  }
  for (const b of httpBuffers) t.ok(b.length > 4 << 10 && b.length < 8 << 10, `${b.length} bytes: two would not fit in one step`);
  for (const b of httpBuffers) stage.pushHttp(b);
  const t0 = Date.now();
  while (stage.counters.steps < before + 3 && Date.now() - t0 < 10_000) await sleep(10);
  t.equal(stage.counters.steps, before + 3, `three steps, one per request buffer, within ${Date.now() - t0} ms (not minStepMs)`);
  await stage.settle();
  t.equal(stage.counters.steps, before + 3, 'and no more');
  t.equal(rows(), 19, 'every request written (the warm-up one too)');
  t.equal(stage.stats().matched, 18, 'each joined to its TLS event');
  t.equal(stage.counters.backlog_dropped_bytes, 0, 'nothing dropped');
  await stage.stop();
});
