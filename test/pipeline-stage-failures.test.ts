// The correlation stage of `ja4 run` facing what used to stop it: a TLS event
// the correlator's encoder choked on, and a correlation step that fails (a
// worker that throws or dies). Real worker threads, a real JSON lines sink.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CorrelationStage } from '../src/pipeline/correlation-stage.js';
import { jsonlFileSink } from '../src/pipeline/sinks.js';
import { TABLES } from '../src/storage/index.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { flowEvent, httpRecord, lines } from './helpers/correlator-records.js';
import { memoryLogger } from './helpers/memory-logger.js';

const TABLE_NAMES = { ingest: TABLES.httpLogsIngest, requests: TABLES.httpRequests, tlsEvents: TABLES.tlsEvents };

async function stageWithFile(t: Test): Promise<{ stage: CorrelationStage; rows: () => Record<string, unknown>[]; mem: ReturnType<typeof memoryLogger> }> {
  const file = join(scratchDir(t), 'rows.jsonl');
  const mem = memoryLogger();
  const stage = new CorrelationStage({ sink: await jsonlFileSink(file, TABLE_NAMES.ingest), tables: TABLE_NAMES, correlator: { shards: 1, rawTables: false }, batcher: { maxDelayMs: 20 }, tickMs: 20, log: mem.log });
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
      throw new Error('worker exited with code 1');
    }
    return real(...a);
  };
  const now = Date.now() * 1000;
  const lost = lines(httpRecord({ ts: now, port: 80, scheme: 'http' }));
  stage.pushHttp(lost);
  await stage.settle();
  stage.pushHttp(lines(httpRecord({ ts: now + 1000, port: 81, scheme: 'http' })));
  await stage.settle();
  const s = stage.stats();
  t.same([s.failed_steps, s.failed_bytes], [1, lost.length], 'the step and its bytes counted');
  t.match(mem.records().find((r) => r.msg === 'a correlation step failed: its input is dropped'), { level: 'error', error: 'worker exited with code 1', http_bytes: lost.length, failed_steps: 1 });
  await stage.stop();
  t.same(rows().map((r) => r.client_port), [81], 'the next step written');
});
