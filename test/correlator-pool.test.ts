// The correlator in piscina workers: the same input gives the same rows in
// the main thread (shards 0), one worker, or two workers with lines routed
// by connection key; input buffers are transferred (detached here), not
// copied; counters are summed over the shards.
import t from 'tap';
import { CorrelatorPool } from '../src/correlator/correlator-pool.js';
import { splitByShard } from '../src/correlator/shard-router.js';
import { T0_US, flowEvent, httpRecord, lines } from './helpers/correlator-records.js';

const S = 1_000_000;

function input(): { http: Buffer; tls: Buffer } {
  const http: unknown[] = [];
  const tls: unknown[] = [];
  for (let p = 0; p < 40; p++) {
    // ports 0-29 have a TLS event; 30-39 are orphans; every third is IPv4-mapped on the HTTP side
    if (p < 30) tls.push(flowEvent({ first: T0_US + p, port: 20000 + p }));
    for (let n = 1; n <= 3; n++) {
      http.push(httpRecord({ ts: T0_US + p + n * 1000, port: 20000 + p, conn: `c${p}`, n, ...(p % 3 === 0 ? { ip: '::ffff:203.0.113.7' } : {}) }));
    }
  }
  http.push('garbage');
  return { http: lines(...http), tls: lines(...tls) };
}

async function run(shards: number): Promise<{ rows: string[]; stats: ReturnType<CorrelatorPool['stats']>; detached: boolean }> {
  const pool = new CorrelatorPool({ shards, tlsWaitMs: 1000 });
  try {
    const { http, tls } = input();
    // pooled Buffers (lines() output is one allocation) must be copied, whole ArrayBuffers moved
    const own = Buffer.from(new ArrayBuffer(http.length));
    http.copy(own);
    const a = await pool.process(own, tls, T0_US + S);
    const detached = own.buffer.byteLength === 0;
    const b = await pool.process(undefined, undefined, T0_US + 3 * S);
    const rows = (a.ingest.toString() + b.ingest.toString()).trimEnd().split('\n').sort();
    return { rows, stats: pool.stats(), detached };
  } finally {
    await pool.close();
  }
}

t.test('inline, one worker and two sharded workers give the same rows and counters', async (t) => {
  const inline = await run(0);
  t.equal(inline.rows.length, 120);
  t.equal(inline.rows.filter((r) => r.includes('"correlation_status":"matched"')).length, 90);
  t.equal(inline.rows.filter((r) => r.includes('"correlation_status":"tls_not_seen"')).length, 30);
  for (const shards of [1, 2]) {
    const r = await run(shards);
    t.same(r.rows, inline.rows, `${shards} worker(s): same rows`);
    t.same(r.stats, inline.stats, `${shards} worker(s): same counters`);
    // with one shard the received buffer itself moves; with several the router's per-shard copies do
    if (shards === 1) t.ok(r.detached, 'one worker: the input buffer was transferred, not copied');
  }
  t.same(inline.stats.drops.http, { oversized: 0, not_json: 1, schema_invalid: 0 });
});

t.test('the router sends both spellings of a client to the same shard', async (t) => {
  const a = lines(httpRecord({ ts: 1, port: 1234 }), httpRecord({ ts: 1, port: 1234, ip: '::ffff:203.0.113.7' }), httpRecord({ ts: 1, port: 1234, ip: '::FFFF:203.0.113.7' }));
  const parts = splitByShard(a, 4, 'http');
  t.equal(parts.filter((p) => p.length > 0).length, 1);
  // a zone is not part of the client's address (normalizeIp): spread over 16 ports, the zoned and bare spellings always meet
  const zoned = (port: number, ip: string): number => splitByShard(lines(httpRecord({ ts: 1, port, ip })), 4, 'http').findIndex((p) => p.length > 0);
  const bare = (port: number): number => splitByShard(lines(flowEvent({ first: 1, port, ip: 'fe80::1' })), 4, 'tls').findIndex((p) => p.length > 0);
  const ports = Array.from({ length: 16 }, (_, i) => 3000 + i);
  t.same(ports.map((p) => zoned(p, 'fe80::1%eth0')), ports.map(bare), 'fe80::1%eth0 goes where fe80::1 goes');
  t.ok(new Set(ports.map(bare)).size > 1, 'over several shards');
  const tls = splitByShard(lines(flowEvent({ first: 1, port: 1234 })), 4, 'tls');
  t.equal(parts.findIndex((p) => p.length > 0), tls.findIndex((p) => p.length > 0), 'the TLS event goes there too');
  // a sensor whose JSON has spaces after the colons (Python's json.dumps):
  // valid, parsed by the correlator, and routed like the compact spelling
  const spaced = Buffer.from(JSON.stringify(flowEvent({ first: 1, port: 1234 }), null, 0).replace(/":/g, '": ') + '\n');
  t.match(spaced.toString(), /"src": "/);
  const viaSpaced = splitByShard(spaced, 4, 'tls');
  t.equal(viaSpaced.findIndex((p) => p.length > 0), tls.findIndex((p) => p.length > 0), 'spaces after the colons: the same shard');
  const others = Array.from({ length: 16 }, (_, i) => Buffer.from(JSON.stringify(flowEvent({ first: 1, port: 2000 + i })).replace(/":/g, '": ') + '\n'));
  t.ok(new Set(others.map((b) => splitByShard(b, 4, 'tls').findIndex((p) => p.length > 0))).size > 1, 'and spread over the shards, not all on shard 0');
});

t.test('inline: a correlator that throws is replaced by a fresh one, as a worker replaces its own; its connections are forgotten', async (t) => {
  const pool = new CorrelatorPool({ shards: 0, tlsWaitMs: 1000 });
  t.teardown(() => pool.close());
  const inner = (): { process: (...a: unknown[]) => unknown } => (pool as unknown as { inline: { current: { process: (...a: unknown[]) => unknown } } }).inline.current;
  // one connection known, and two requests waiting for a TLS event that never comes
  await pool.process(lines(httpRecord({ ts: T0_US, port: 21001 }), httpRecord({ ts: T0_US, port: 21002 })), lines(flowEvent({ first: T0_US, port: 21000 })), T0_US);
  t.equal(pool.stats().correlator.pending, 2);
  const broken = inner();
  // no known input makes the correlator throw any more: the failure is injected
  broken.process = () => {
    throw new Error('half a row in the encoder');
  };
  await t.rejects(pool.process(lines(httpRecord({ ts: T0_US + 1000, port: 21000 })), undefined, T0_US + 1000), /half a row/);
  t.not(inner(), broken, 'the correlator that threw is gone');
  const a = await pool.process(lines(httpRecord({ ts: T0_US + 2000, port: 21000, conn: 'c2' })), undefined, T0_US + 2000);
  const b = await pool.process(undefined, undefined, T0_US + 3 * S);
  const rows = (a.ingest.toString() + b.ingest.toString()).trimEnd().split('\n');
  t.equal(rows.length, 1, 'the next request is written');
  t.match(rows[0], /"correlation_status":"tls_not_seen"/, 'by a correlator that never saw its connection');
  const c = pool.stats().correlator;
  t.equal(c.flow_events, 1, "the replaced correlator's counters are kept (Prometheus counters never go down)");
  t.equal(c.http_records, 3);
  t.equal(c.tls_not_seen, 1);
  t.equal(c.connections, 0, 'its gauges are not: its connections are gone');
  t.equal(c.pending, 0, 'nor its waiting requests');
  t.equal(c.pending_lost, 2, 'which are counted lost: they are never written');
});

t.test('a worker that dies is replaced by piscina; the counters summed over the shards do not go down', async (t) => {
  const pool = new CorrelatorPool({ shards: 1, tlsWaitMs: 1000 });
  t.teardown(() => pool.close());
  const piscina = (pool as unknown as { pools: Array<{ threads: Array<{ threadId: number; terminate: () => Promise<number> }> }> }).pools[0]!;
  await pool.process(lines(httpRecord({ ts: T0_US, port: 22000 }), httpRecord({ ts: T0_US, port: 22002 })), lines(flowEvent({ first: T0_US - 10, port: 22000 })), T0_US);
  t.same([pool.stats().correlator.http_records, pool.stats().correlator.matched, pool.stats().correlator.connections, pool.stats().correlator.pending], [2, 1, 1, 1]);
  const dead = piscina.threads[0]!.threadId;
  await piscina.threads[0]!.terminate();
  const start = Date.now();
  while (!(piscina.threads.length === 1 && piscina.threads[0]!.threadId !== dead) && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
  t.not(piscina.threads[0]?.threadId, dead, 'piscina started another worker');
  await pool.process(lines(httpRecord({ ts: T0_US + 1000, port: 22001 })), lines(flowEvent({ first: T0_US + 990, port: 22001 })), T0_US + 1000);
  const c = pool.stats().correlator;
  t.equal(c.http_records, 3, 'the dead worker\'s records are still counted');
  t.equal(c.matched, 2);
  t.equal(c.flow_events, 2);
  t.equal(c.connections, 1, 'gauges: only the live worker\'s connections');
  t.equal(c.pending, 0);
  t.equal(c.pending_lost, 1, 'the request waiting in the dead worker is counted lost');
});
