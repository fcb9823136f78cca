// RowBinary rows (what `ja4 run` inserts) against JSONEachRow rows (the
// reference): the writer's bytes for each type, then the same records
// correlated both ways and loaded into the real engine (migrated schema,
// enrichment view): the stored http_logs, http_requests and tls_events rows
// must be equal, column by column, for every correlation status, IPv4,
// IPv4-mapped and IPv6 clients, non-ASCII text, long strings, cookies,
// certificates and truncated records. And the format travels through the
// spool: a RowBinary segment replays with its format and columns.
import t from 'tap';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import { CorrelatorPool } from '../src/correlator/correlator-pool.js';
import { RowBinaryWriter } from '../src/correlator/row-binary-writer.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from '../src/correlator/rows-binary.js';
import { Spool } from '../src/pipeline/spool.js';
import { clickhouseSink, jsonlFileSink } from '../src/pipeline/sinks.js';
import { TABLES, type Storage } from '../src/storage/index.js';
import { closeEvent, flowEvent, httpRecord, lines } from './helpers/correlator-records.js';
import { openTestStorage, storageScratchDir } from './helpers/storage-fixture.js';
import { silentLogger } from '../src/config/index.js';

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

/** Records covering every path of both encoders. */
function traffic(): { tls: Buffer; http: Buffer } {
  const tls = [
    flowEvent({ first: T0_US, port: 40001 }),
    { ...flowEvent({ first: T0_US, port: 40002, ip: '2001:db8::7', ja4: 't13d190900_9dc949149365_97f8aa674fd9' }), dst: '2001:db8::1' },
    { ...flowEvent({ first: T0_US, port: 40003 }), tls_certs: [{ x509: [{ ja4x: 'aaa_bbb_ccc' }, { ja4x: 'ddd_eee_fff' }] }], client_ttl: 255, alpn: undefined },
    closeEvent({ first: T0_US, port: 40001, last: T0_US + 900_000 }),
    { ...flowEvent({ first: T0_US, port: 40005 }), dst_port: 80, tls_version: undefined, ja4: undefined, closed: true },
  ];
  const http = [
    // matched, keep-alive, non-ASCII in the URI and a header value, a long User-Agent
    httpRecord({ ts: T0_US + 1000, port: 40001, n: 1, uri: '/café?q=ü', extra: { headers: { 'user-agent': `Mozilla/5.0 ${'x'.repeat(300)}`, accept: 'текст/html' } } }),
    httpRecord({ ts: T0_US + 2000, port: 40001, n: 2, extra: { unique_id: 'YXZ-unique', truncated: ['headers'], cookies: [] } }),
    // an IPv6 client, matched
    httpRecord({ ts: T0_US + 1000, port: 40002, ip: '2001:db8::7', extra: { local_ip: '2001:db8::1', bytes_out: 2 ** 40 } }),
    // IPv4-mapped on the HTTP side, two certificates
    httpRecord({ ts: T0_US + 1000, port: 40003, ip: '::ffff:203.0.113.7', extra: { status: 65535, dur_us: 0xffffffff, req_n: 0xffffffff } }),
    // HTTPS with no TLS event: tls_not_seen (mod_ssl's version)
    httpRecord({ ts: T0_US + 1000, port: 40004, extra: { tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', sni: 'sni.example' } } }),
    // plain HTTP with a flow event (JA4T), and plain HTTP without: no_tls
    httpRecord({ ts: T0_US + 1000, port: 40005, scheme: 'http' }),
    httpRecord({ ts: T0_US + 1000, port: 40006, scheme: 'http', extra: { local_ip: '', local_port: 0, headers: {}, header_order: [], method: '', host: '' } }),
  ];
  return { tls: lines(...tls), http: lines(...http) };
}

function correlate<F extends 'JSONEachRow' | 'RowBinary'>(format: F) {
  const bc = new BatchCorrelator({ format, tlsWaitMs: 1000 });
  const { tls, http } = traffic();
  const a = bc.process(http, tls, T0_US + S);
  const b = bc.process(undefined, undefined, T0_US + 3 * S);
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

t.test('the same rows in the engine from RowBinary as from JSONEachRow', async (t) => {
  const storage = await openTestStorage(t);
  const json = correlate('JSONEachRow');
  const bin = correlate('RowBinary');
  t.same(bin.map((r) => [r.ingestRows, r.requestRows, r.tlsEventRows]), json.map((r) => [r.ingestRows, r.requestRows, r.tlsEventRows]));
  t.same(json.map((r) => [r.ingestRows, r.requestRows, r.tlsEventRows]), [[6, 7, 4], [1, 0, 0]], 'six rows at once, the orphan after its wait');
  t.ok(Buffer.isBuffer(bin[0]!.ingest) && bin[0]!.format === 'RowBinary');

  const load = async (format: 'JSONEachRow' | 'RowBinary', rows: typeof json | typeof bin): Promise<void> => {
    for (const r of rows) {
      const cols = format === 'RowBinary';
      await storage.insertEncoded(TABLES.httpLogsIngest, r.ingest, format, undefined, cols ? INGEST_COLUMNS : undefined);
      await storage.insertEncoded(TABLES.httpRequests, r.requests, format, undefined, cols ? REQUEST_COLUMNS : undefined);
      await storage.insertEncoded(TABLES.tlsEvents, r.tlsEvents, format, undefined, cols ? TLS_EVENT_COLUMNS : undefined);
    }
  };
  await load('JSONEachRow', json);
  const fromJson = await stored(storage);
  await truncate(storage);
  await load('RowBinary', bin);
  const fromBinary = await stored(storage);

  t.equal(fromJson.logs.length, 7);
  t.equal(fromJson.requests.length, 7);
  t.equal(fromJson.tls.length, 4);
  t.same(fromBinary.logs, fromJson.logs, 'http_logs, column by column');
  t.same(fromBinary.requests, fromJson.requests, 'http_requests');
  t.same(fromBinary.tls, fromJson.tls, 'tls_events');
  // a few values checked outright (equal rows could share a mistake)
  const logs = fromBinary.logs as Record<string, unknown>[];
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
});

t.test('the pool returns RowBinary from its worker; a JSON output refuses RowBinary parts', async (t) => {
  const { tls, http } = traffic();
  const pool = new CorrelatorPool({ shards: 1, format: 'RowBinary', tlsWaitMs: 1000 });
  t.teardown(() => pool.close());
  const inline = new BatchCorrelator({ format: 'RowBinary', tlsWaitMs: 1000 }).process(http, tls, T0_US + S);
  const fromWorker = await pool.process(Buffer.from(http), Buffer.from(tls), T0_US + S);
  t.equal(fromWorker.format, 'RowBinary');
  t.same([fromWorker.ingestRows, fromWorker.requestRows, fromWorker.tlsEventRows], [6, 7, 4]);
  t.ok(fromWorker.ingest.equals(inline.ingest), 'the same bytes as inline');
  t.ok(fromWorker.requests.equals(inline.requests));
  t.ok(fromWorker.tlsEvents.equals(inline.tlsEvents));
  t.throws(() => new CorrelatorPool({ shards: 0, format: 'CSV' as 'RowBinary' }), /format must be one of JSONEachRow, RowBinary, got "CSV"/);

  const file = `${storageScratchDir(t)}/out.jsonl`;
  const sink = await jsonlFileSink(file, TABLES.httpLogsIngest);
  t.teardown(() => sink.close());
  t.equal(sink.format, 'JSONEachRow');
  await t.rejects(sink.write({ token: 'x', parts: [{ table: TABLES.httpLogsIngest, body: fromWorker.ingest, rows: 6, format: 'RowBinary' }] }), /rows are RowBinary: a JSON output needs/);
});

t.test('a RowBinary batch spooled and replayed keeps its format and columns', async (t) => {
  const storage = await openTestStorage(t);
  const dir = `${storageScratchDir(t)}/spool`;
  const [rows] = correlate('RowBinary');
  const parts = [
    { table: TABLES.httpLogsIngest, body: rows!.ingest, rows: rows!.ingestRows, format: 'RowBinary' as const, columns: INGEST_COLUMNS },
    { table: TABLES.tlsEvents, body: rows!.tlsEvents, rows: rows!.tlsEventRows, format: 'RowBinary' as const, columns: TLS_EVENT_COLUMNS },
  ];
  await new Spool(dir, 1 << 20, silentLogger()).append({ token: 'tok-1', parts });
  const reopened = new Spool(dir, 1 << 20, silentLogger());
  const seg = await reopened.oldest();
  t.same(
    seg?.batch.parts.map((p) => [p.table, p.format, p.columns, p.rows, p.body.equals(parts.find((q) => q.table === p.table)!.body)]),
    parts.map((p) => [p.table, 'RowBinary', p.columns, p.rows, true]),
  );
  const sink = clickhouseSink(storage);
  await sink.write(seg!.batch);
  await sink.write(seg!.batch); // a replay of the same segment: deduplicated by its token
  const [n] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.httpLogs}`);
  t.equal(n!.n, 6);
  const [e] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.tlsEvents}`);
  t.equal(e!.n, 4 * 2, 'tls_events has no deduplication window (docs/correlator.md): the replay is there twice');
});
