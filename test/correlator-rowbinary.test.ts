// The binary rows, Native blocks (what `ja4 run` inserts) and RowBinary
// (what it inserted before), against JSONEachRow rows (the reference): the
// writer's bytes for each type and a Native block's bytes, then the same
// records correlated the three ways and loaded into the real engine
// (migrated schema, enrichment view): the stored http_logs, http_requests
// and tls_events rows must be equal, column by column, for every
// correlation status, IPv4, IPv4-mapped and IPv6 addresses, non-ASCII and
// escaped text, empty strings, arrays and maps, long strings, the largest
// integers, cookies, certificates and truncated records. And the format
// travels through the spool: RowBinary and Native segments replay with
// their format and columns.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import { CorrelatorPool } from '../src/correlator/correlator-pool.js';
import { StringArrayColumn, ValueColumn, writeNativeBlock } from '../src/correlator/native-columns.js';
import { mergeNativeBlocks } from '../src/correlator/native-merge.js';
import { RowBinaryWriter } from '../src/correlator/row-binary-writer.js';
import type { RowFormat } from '../src/correlator/row-encoder.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from '../src/correlator/rows-binary.js';
import { Spool } from '../src/pipeline/spool.js';
import { clickhouseSink, jsonlFileSink } from '../src/pipeline/sinks.js';
import { TABLES, type Storage } from '../src/storage/index.js';
import { closeEvent, flowEvent, httpRecord, lines } from './helpers/correlator-records.js';
import { openTestStorage, storageScratchDir } from './helpers/storage-fixture.js';
import { silentLogger } from '../src/config/index.js';

// a global gc() for the merge test below, without a node flag
setFlagsFromString('--expose-gc');

const S = 1_000_000;
// an hour ago, on the second: inside every TTL
const T0_US = (Math.floor(Date.now() / 1000) - 3600) * S;

t.test('RowBinaryWriter: the bytes of each type', async (t) => {
  const w = new RowBinaryWriter(8); // tiny: every write below grows it
  w.uint8(255);
  w.uint16(0x1234);
  w.uint32(0xdeadbeef);
  w.uint64(2 ** 53 - 1);
  w.varint(300);
  w.string('ab');
  w.string('é');
  w.bool(true);
  w.stringArray(['x', '']);
  w.stringMap({ k: 'v' });
  t.same(
    [...w.take()],
    [
      0xff, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, 0xac, 0x02, 2, 0x61, 0x62, 2, 0xc3, 0xa9, 1, 2, 1, 0x78, 0,
      1, 1, 0x6b, 1, 0x76,
    ],
  );
  t.equal(w.length, 0, 'take() starts over');

  const long = 'a'.repeat(200);
  w.string(long);
  const b = w.take();
  t.same([...b.subarray(0, 2)], [0xc8, 0x01], 'a length of 200 is a two-byte LEB128');
  t.equal(b.length, 202);
  const huge = `${'é'.repeat(10_000)}`;
  w.string(huge);
  const h = w.take();
  t.same([...h.subarray(0, 3)], [0xa0, 0x9c, 0x01], '20,000 UTF-8 bytes');
  t.equal(h.toString('utf8', 3), huge);

  // a burst grows the buffer; a later small batch gives the memory back
  const big = new RowBinaryWriter(1024);
  big.string('x'.repeat(10_000));
  for (let i = 0; i < 3000; i++) big.string('y'.repeat(10_000));
  t.ok(big.capacity >= 30_000_000);
  t.equal(big.view().length, 3001 * 10_002);
  big.string('small');
  const small = big.view();
  t.ok(big.capacity < 1 << 20, 'shrunk');
  big.string('again');
  t.same([...small], [5, 0x73, 0x6d, 0x61, 0x6c, 0x6c], 'the view handed out as the buffer shrank is intact');

  const ip = (s: string): string => {
    w.ipv6(s);
    return w.take().toString('hex');
  };
  t.equal(ip(''), '00000000000000000000000000000000');
  t.equal(ip('203.0.113.7'), '00000000000000000000ffffcb007107');
  t.equal(ip('2001:db8::1'), '20010db8000000000000000000000001');
  t.equal(ip('::1'), '00000000000000000000000000000001');
  t.equal(ip('fe80::1%eth0'), 'fe800000000000000000000000000001');
  t.equal(ip('64:ff9b::192.0.2.33'), '0064ff9b0000000000000000c0000221');
  t.equal(ip('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
});

t.test('a Native block: the bytes the engine itself writes', async (t) => {
  // chDB: SELECT toDateTime64(number, 6, 'UTC') AS ts, repeat('é', number) AS s,
  //   if(number = 1, toIPv6('2001:db8::1'), toIPv6('::ffff:1.2.3.4')) AS ip, arraySlice(['x', 'yz'], 1, number) AS a,
  //   number = 1 AS b, toUInt64(number * 1000) AS n FROM numbers(3) INTO OUTFILE '...' FORMAT Native
  const engine =
    '0603027473144461746554696d65363428362c20275554432729000000000000000040420f000000000080841e0000000000017306537472696e670002c3a904' +
    'c3a9c3a9026970044950763600000000000000000000ffff0102030420010db800000000000000000000000100000000000000000000ffff0102030401610d41' +
    '7272617928537472696e67290000000000000000010000000000000003000000000000000178017802797a01620555496e7438000100016e0655496e74363400' +
    '00000000000000e803000000000000d007000000000000';
  const ts = new ValueColumn('ts', "DateTime64(6, 'UTC')");
  const s = new ValueColumn('s', 'String');
  const ip = new ValueColumn('ip', 'IPv6');
  const a = new StringArrayColumn('a');
  const b = new ValueColumn('b', 'UInt8');
  const n = new ValueColumn('n', 'UInt64');
  const block = (): string => {
    for (let i = 0; i < 3; i++) {
      ts.uint64(i * S);
      s.string('é'.repeat(i));
      ip.ipv6(i === 1 ? '2001:db8::1' : '1.2.3.4');
      const items = ['x', 'yz'].slice(0, i);
      const enc = new RowBinaryWriter(16);
      for (const x of items) enc.string(x);
      const bytes = enc.take();
      a.encoded(items.length, bytes, 0, bytes.length);
      b.uint8(i === 1 ? 1 : 0);
      n.uint64(i * 1000);
    }
    const out = new RowBinaryWriter(16); // tiny: grows
    writeNativeBlock(out, 3, [ts, s, ip, a, b, n]);
    return out.take().toString('hex');
  };
  t.equal(block(), engine, 'the same bytes');
  t.equal(block(), engine, 'the columns start over after a block (array offsets from 0 again)');
});

/** Records covering every path of the encoders. */
function traffic(t0 = T0_US): { tls: Buffer; http: Buffer } {
  const tls = [
    flowEvent({ first: t0, port: 40001 }),
    { ...flowEvent({ first: t0, port: 40002, ip: '2001:db8::7', ja4: 't13d190900_9dc949149365_97f8aa674fd9' }), dst: '2001:db8::1' },
    { ...flowEvent({ first: t0, port: 40003 }), tls_certs: [{ x509: [{ ja4x: 'aaa_bbb_ccc' }, { ja4x: 'ddd_eee_fff' }] }], client_ttl: 255, alpn: undefined },
    closeEvent({ first: t0, port: 40001, last: t0 + 900_000 }),
    { ...flowEvent({ first: t0, port: 40005 }), dst_port: 80, tls_version: undefined, ja4: undefined, closed: true },
  ];
  const http = [
    // matched, keep-alive, non-ASCII in the URI and a header value, a long User-Agent
    httpRecord({ ts: t0 + 1000, port: 40001, n: 1, uri: '/café?q=ü', extra: { headers: { 'user-agent': `Mozilla/5.0 ${'x'.repeat(300)}`, accept: 'текст/html' } } }),
    httpRecord({ ts: t0 + 2000, port: 40001, n: 2, extra: { unique_id: 'YXZ-unique', truncated: ['headers'], cookies: [] } }),
    // an IPv6 client, matched
    httpRecord({ ts: t0 + 1000, port: 40002, ip: '2001:db8::7', extra: { local_ip: '2001:db8::1', bytes_out: 2 ** 40 } }),
    // IPv4-mapped on the HTTP side, two certificates
    httpRecord({ ts: t0 + 1000, port: 40003, ip: '::ffff:203.0.113.7', extra: { status: 65535, dur_us: 0xffffffff, req_n: 0xffffffff } }),
    // HTTPS with no TLS event: tls_not_seen (mod_ssl's version)
    httpRecord({ ts: t0 + 1000, port: 40004, extra: { tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', sni: 'sni.example' } } }),
    // plain HTTP with a flow event (JA4T), and plain HTTP without: no_tls; escaped bytes, empty strings in an array and a map, the largest UInt64 a record may hold
    httpRecord({
      ts: t0 + 1000,
      port: 40005,
      scheme: 'http',
      uri: '/a"b\\c?d=\t%00',
      extra: { headers: { 'x-esc': 'q"u\\o\nte\u0001\u007f é', '': '' }, header_order: ['X-Esc', ''], cookies: [''], bytes_in: Number.MAX_SAFE_INTEGER },
    }),
    httpRecord({ ts: t0 + 1000, port: 40006, scheme: 'http', extra: { local_ip: '', local_port: 0, headers: {}, header_order: [], method: '', host: '' } }),
  ];
  return { tls: lines(...tls), http: lines(...http) };
}

/** The traffic correlated into `format`: the first batch, then the orphan after its wait. */
function correlate<F extends RowFormat>(format: F, t0 = T0_US) {
  const bc = new BatchCorrelator({ format, tlsWaitMs: 1000 });
  const { tls, http } = traffic(t0);
  const a = bc.process(http, tls, t0 + S);
  const b = bc.process(undefined, undefined, t0 + 3 * S);
  return [a, b];
}

async function truncate(storage: Storage): Promise<void> {
  for (const table of [TABLES.httpLogs, TABLES.httpRequests, TABLES.tlsEvents]) await storage.command(`TRUNCATE TABLE ${table}`);
}

async function stored(storage: Storage): Promise<{ logs: unknown[]; requests: unknown[]; tls: unknown[] }> {
  // every column but the insertion times
  const logs = await storage.query(`SELECT * EXCEPT inserted_at FROM ${TABLES.httpLogs} ORDER BY client_port, request_seq`);
  const requests = await storage.query(`SELECT * EXCEPT received_at FROM ${TABLES.httpRequests} ORDER BY client_port, request_seq`);
  const tls = await storage.query(`SELECT * EXCEPT received_at FROM ${TABLES.tlsEvents} ORDER BY client_port, ts`);
  return { logs, requests, tls };
}

/** Each table's rows into the engine; binary bodies name their columns, as the ClickHouse sink does. */
async function load(storage: Storage, format: RowFormat, rows: ReturnType<typeof correlate>): Promise<void> {
  const binary = format !== 'JSONEachRow';
  for (const r of rows) {
    await storage.insertEncoded(TABLES.httpLogsIngest, r.ingest, format, undefined, binary ? INGEST_COLUMNS : undefined);
    await storage.insertEncoded(TABLES.httpRequests, r.requests, format, undefined, binary ? REQUEST_COLUMNS : undefined);
    await storage.insertEncoded(TABLES.tlsEvents, r.tlsEvents, format, undefined, binary ? TLS_EVENT_COLUMNS : undefined);
  }
}

t.test('the same rows in the engine from Native and RowBinary as from JSONEachRow', async (t) => {
  const storage = await openTestStorage(t);
  const json = correlate('JSONEachRow');
  const counts = (rows: ReturnType<typeof correlate>): number[][] => rows.map((r) => [r.ingestRows, r.requestRows, r.tlsEventRows]);
  t.same(counts(json), [[6, 7, 4], [1, 0, 0]], 'six rows at once, the orphan after its wait');
  await load(storage, 'JSONEachRow', json);
  const fromJson = await stored(storage);
  t.equal(fromJson.logs.length, 7);
  t.equal(fromJson.requests.length, 7);
  t.equal(fromJson.tls.length, 4);

  let fromNative: Awaited<ReturnType<typeof stored>> | undefined;
  for (const format of ['RowBinary', 'Native'] as const) {
    const bin = correlate(format);
    t.same(counts(bin), counts(json), `${format}: the same row counts`);
    t.ok(Buffer.isBuffer(bin[0]!.ingest) && bin[0]!.format === format);
    t.equal(bin[1]!.requests.length, 0, `${format}: no rows, an empty body`);
    await truncate(storage);
    await load(storage, format, bin);
    const fromBinary = await stored(storage);
    t.same(fromBinary.logs, fromJson.logs, `${format}: http_logs, column by column`);
    t.same(fromBinary.requests, fromJson.requests, `${format}: http_requests`);
    t.same(fromBinary.tls, fromJson.tls, `${format}: tls_events`);
    if (format === 'Native') fromNative = fromBinary;
  }

  // a few values checked outright (equal rows could share a mistake)
  const logs = fromNative!.logs as Record<string, unknown>[];
  const requests = fromNative!.requests as Record<string, unknown>[];
  t.same(
    logs.map((r) => [r.client_ip, r.client_port, r.correlation_status, r.tls_version]),
    [
      ['::ffff:203.0.113.7', 40001, 'matched', '13'],
      ['::ffff:203.0.113.7', 40001, 'matched', '13'],
      ['2001:db8::7', 40002, 'matched', '13'],
      ['::ffff:203.0.113.7', 40003, 'matched', '13'],
      ['::ffff:203.0.113.7', 40004, 'tls_not_seen', '12'],
      ['::ffff:203.0.113.7', 40005, 'no_tls', ''],
      ['::ffff:203.0.113.7', 40006, 'no_tls', ''],
    ],
  );
  t.equal(logs[0]!.path, '/café');
  t.equal(logs[0]!.accept, 'текст/html');
  t.equal(logs[1]!.request_id, 'YXZ-unique');
  t.equal(logs[1]!.truncated, true);
  t.same(logs[3]!.ja4x, ['aaa_bbb_ccc', 'ddd_eee_fff']);
  t.equal(logs[3]!.client_ttl, 255);
  t.equal(logs[3]!.status, 65535);
  t.equal(logs[2]!.server_ip, '2001:db8::1');
  t.equal(logs[2]!.bytes_out, 2 ** 40);
  t.equal(logs[6]!.server_ip, '::');
  t.equal(logs[0]!.ts, `${new Date(T0_US / 1000).toISOString().slice(0, 19).replace('T', ' ')}.001000`);
  const esc = requests[5]!;
  t.same(
    [esc.uri, esc.headers, esc.header_names, esc.cookie_names, esc.bytes_in, logs[5]!.bytes_in],
    ['/a"b\\c?d=\t%00', { 'x-esc': 'q"u\\o\nte\u0001\u007f é', '': '' }, ['X-Esc', ''], [''], Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    'escaped bytes, empty strings, the largest UInt64 of a record',
  );
  t.same([requests[6]!.headers, requests[6]!.header_names, requests[6]!.method, requests[6]!.local_ip], [{}, [], '', '::'], 'an empty map, array and strings');
});

t.test('Native blocks of many correlation steps merged into one: the same rows', async (t) => {
  const storage = await openTestStorage(t);
  // the same traffic in two steps (six rows, then the orphan) and in a step per record
  const twoSteps = correlate('Native');
  const bc = new BatchCorrelator({ format: 'Native', tlsWaitMs: 1000 });
  const { tls, http } = traffic();
  const steps = [bc.process(undefined, tls, T0_US + S)];
  for (const line of http.toString().split('\n').filter(Boolean)) steps.push(bc.process(Buffer.from(`${line}\n`), undefined, T0_US + S));
  steps.push(bc.process(undefined, undefined, T0_US + 3 * S));
  const bodies = steps.map((r) => r.ingest).filter((b) => b.length > 0);
  t.equal(bodies.length, 7, 'a block per row (six at once, the orphan after its wait)');

  const merged = mergeNativeBlocks(bodies);
  t.same([merged[0], merged[1]], [INGEST_COLUMNS.length, 7], 'one block: every column, seven rows');
  t.ok(merged.equals(mergeNativeBlocks(twoSteps.map((r) => r.ingest))), 'the bytes of the same rows merged from two blocks');
  // bodies that are already several blocks (the pool joins its shards' blocks)
  const pairs = [Buffer.concat(bodies.slice(0, 3)), Buffer.concat(bodies.slice(3))];
  t.ok(mergeNativeBlocks(pairs).equals(merged), 'bodies of several blocks');
  t.equal(mergeNativeBlocks([bodies[0]!]), bodies[0], 'one block: as it is');
  t.ok(mergeNativeBlocks([merged.subarray(0, 100)]).equals(merged.subarray(0, 100)), 'a truncated block: left as it is');
  const other = [bodies[0]!, twoSteps[0]!.tlsEvents];
  t.ok(mergeNativeBlocks(other).equals(Buffer.concat(other)), 'blocks of other columns: concatenated');

  await load(storage, 'JSONEachRow', correlate('JSONEachRow'));
  const fromJson = await stored(storage);
  await truncate(storage);
  await storage.insertEncoded(TABLES.httpLogsIngest, merged, 'Native', undefined, INGEST_COLUMNS);
  const requests = mergeNativeBlocks(steps.map((r) => r.requests).filter((b) => b.length > 0));
  await storage.insertEncoded(TABLES.httpRequests, requests, 'Native', undefined, REQUEST_COLUMNS);
  await storage.insertEncoded(TABLES.tlsEvents, mergeNativeBlocks(steps.map((r) => r.tlsEvents)), 'Native', undefined, TLS_EVENT_COLUMNS);
  t.same(await stored(storage), fromJson, 'the engine stores the same rows as from JSONEachRow');
});

t.test('merged bodies collected: their buffers written again by the next merges, each right', async (t) => {
  // the addon keeps a collected merge's buffer for the next (native/core/buffer_pool.h):
  // bodies of other sizes and bytes, merged in turn with the one before collected
  const collect = runInNewContext('gc', {}, { contextName: 'gc' }) as () => void;
  const bodiesOf = (ports: number): Buffer[] => {
    const bc = new BatchCorrelator({ format: 'Native', tlsWaitMs: 1000 });
    const out: Buffer[] = [];
    for (let p = 0; p < ports; p++) {
      const r = bc.process(lines(httpRecord({ ts: T0_US + p, port: 30000 + p, scheme: 'http', uri: `/page/${p}?${'q'.repeat(p * 7)}` })), undefined, T0_US + S);
      if (r.ingest.length > 0) out.push(r.ingest as Buffer);
    }
    return out;
  };
  for (const ports of [40, 7, 40, 23, 40]) {
    const native = bodiesOf(ports);
    const expected = Buffer.from(mergeNativeBlocks(native)); // a copy, in memory of its own
    collect();
    await new Promise((r) => setImmediate(r)); // the finalizer gives the buffer back on a later turn
    await new Promise((r) => setImmediate(r));
    const again = mergeNativeBlocks(native);
    t.ok(again.equals(expected), `${ports} blocks merged into a buffer used before: the same bytes`);
    t.same([again[0], again[1]], [INGEST_COLUMNS.length, ports]);
  }
});

t.test('the pool returns Native and RowBinary from its worker; a JSON output refuses binary parts', async (t) => {
  const { tls, http } = traffic();
  let native: Buffer | undefined;
  for (const format of ['Native', 'RowBinary'] as const) {
    const pool = new CorrelatorPool({ shards: 1, format, tlsWaitMs: 1000 });
    t.teardown(() => pool.close());
    const inline = new BatchCorrelator({ format, tlsWaitMs: 1000 }).process(http, tls, T0_US + S);
    const fromWorker = await pool.process(Buffer.from(http), Buffer.from(tls), T0_US + S);
    t.equal(fromWorker.format, format);
    t.same([fromWorker.ingestRows, fromWorker.requestRows, fromWorker.tlsEventRows], [6, 7, 4]);
    t.ok(fromWorker.ingest.equals(inline.ingest), `${format}: the same bytes as inline`);
    t.ok(fromWorker.requests.equals(inline.requests));
    t.ok(fromWorker.tlsEvents.equals(inline.tlsEvents));
    if (format === 'Native') {
      native = fromWorker.ingest;
      // the native store's block came over in its own buffer: moved, not packed into one with the others
      t.equal(fromWorker.ingest.buffer.byteLength, fromWorker.ingest.length, 'Native: the ingest block moved as it is');
    }
  }
  t.throws(() => new CorrelatorPool({ shards: 0, format: 'CSV' as 'RowBinary' }), /format must be one of JSONEachRow, RowBinary, Native, got "CSV"/);

  const file = `${storageScratchDir(t)}/out.jsonl`;
  const sink = await jsonlFileSink(file, TABLES.httpLogsIngest);
  t.teardown(() => sink.close());
  t.equal(sink.format, 'JSONEachRow');
  await t.rejects(sink.write({ token: 'x', parts: [{ table: TABLES.httpLogsIngest, body: native!, rows: 6, format: 'Native' }] }), /rows are Native: a JSON output needs/);
});

t.test('RowBinary and Native batches spooled and replayed keep their format and columns', async (t) => {
  const storage = await openTestStorage(t);
  t.equal(clickhouseSink(storage).format, 'Native', 'what `ja4 run` writes to the database');
  const dir = `${storageScratchDir(t)}/spool`;
  // a segment an older version wrote (RowBinary), then one of today's (Native), a minute later
  const T1_US = T0_US + 60 * S;
  const partsOf = (format: 'RowBinary' | 'Native', t0: number) => {
    const [rows] = correlate(format, t0);
    return [
      { table: TABLES.httpLogsIngest, body: rows!.ingest, rows: rows!.ingestRows, format, columns: INGEST_COLUMNS },
      { table: TABLES.tlsEvents, body: rows!.tlsEvents, rows: rows!.tlsEventRows, format, columns: TLS_EVENT_COLUMNS },
    ];
  };
  const written = [partsOf('RowBinary', T0_US), partsOf('Native', T1_US)];
  const spool = new Spool(dir, 1 << 20, silentLogger());
  await spool.append({ token: 'tok-1', parts: written[0]! });
  await spool.append({ token: 'tok-2', parts: written[1]! });

  const reopened = new Spool(dir, 1 << 20, silentLogger());
  const sink = clickhouseSink(storage);
  for (const parts of written) {
    const seg = await reopened.oldest();
    t.same(
      seg?.batch.parts.map((p) => [p.table, p.format, p.columns, p.rows, p.body.equals(parts.find((q) => q.table === p.table)!.body)]),
      parts.map((p) => [p.table, p.format, p.columns, p.rows, true]),
      `${parts[0]!.format}: the segment as written`,
    );
    await sink.write(seg!.batch);
    await sink.write(seg!.batch); // a replay of the same segment: deduplicated by its token
    await reopened.remove(seg!.seq);
  }
  t.equal(await reopened.oldest(), undefined);
  const rowsAt = (from: number) =>
    storage.query(
      `SELECT client_port, request_seq, correlation_status, ja4, ja4x, headers FROM ${TABLES.httpLogs} WHERE ts >= fromUnixTimestamp64Micro({from:Int64}) AND ts < fromUnixTimestamp64Micro({to:Int64}) ORDER BY client_port, request_seq`,
      { from, to: from + 60 * S },
    );
  const first = await rowsAt(T0_US);
  t.equal(first.length, 6, 'the RowBinary segment: its six rows, once');
  t.same(await rowsAt(T1_US), first, 'the Native segment: the same rows, once');
  const [e] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.tlsEvents}`);
  t.equal(e!.n, 2 * 4, 'tls_events: each segment once, the replay deduplicated (its window: sql/0021)');
});
