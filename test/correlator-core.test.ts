// The correlation rules on batches of JSON lines, as the receivers deliver
// them: keep-alive, HTTP before TLS, port reuse, every orphan status, close
// events, idle and window expiry, memory limits, garbage counted per reason.
// The clock is explicit ("now" per batch), so every window is exact.
import t from 'tap';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import { ConnectionJa4h, ja4hOf } from '../src/correlator/ja4h.js';
import { CLIENT_IP, JA4_A, JA4_B, SERVER_IP, T0_US, closeEvent, flowEvent, httpRecord, lines, rowsOf } from './helpers/correlator-records.js';

const MS = 1000;
const S = 1_000_000;

function statusOf(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => `${String(r.request_id)}:${String(r.correlation_status)}:${String(r.ja4)}`);
}

t.test('keep-alive: one TLS event, three requests, each row carries the connection fingerprints', async (t) => {
  const bc = new BatchCorrelator();
  const now = T0_US + 1 * S;
  const out = bc.process(
    lines(httpRecord({ ts: T0_US + 10 * MS, n: 1 }), httpRecord({ ts: T0_US + 20 * MS, n: 2 }), httpRecord({ ts: T0_US + 30 * MS, n: 3 })),
    lines(flowEvent({ first: T0_US })),
    now,
  );
  const rows = rowsOf(out.ingest);
  t.same(statusOf(rows), [`c-50000:1:matched:${JA4_A}`, `c-50000:2:matched:${JA4_A}`, `c-50000:3:matched:${JA4_A}`]);
  t.equal(out.ingestRows, 3);
  // the complete row of the first request, column by column
  t.same(rows[0], {
    ts: T0_US + 10 * MS,
    request_id: 'c-50000:1',
    conn_id: 'c-50000',
    request_seq: 1,
    client_ip: CLIENT_IP,
    client_port: 50000,
    server_ip: SERVER_IP,
    server_port: 443,
    duration_us: 480,
    method: 'GET',
    scheme: 'https',
    host: 'www.example.org',
    uri: '/',
    protocol: 'HTTP/1.1',
    status: 200,
    bytes_in: 412,
    bytes_out: 5731,
    header_names: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Cookie'],
    headers: { 'user-agent': 'Mozilla/5.0', accept: 'text/html', 'accept-language': 'en-US,en;q=0.9' },
    cookie_names: ['sid', 'theme'],
    ja4h: 'ge11cn04enus_8ddaef5d77af_1777f707f29d_1777f707f29d',
    tls_cipher: 'TLS_AES_256_GCM_SHA384',
    sni: 'www.example.org',
    tls_version: '13',
    alpn: 'h2',
    ja4: JA4_A,
    ja4_r: 'raw',
    ja4_o: 'orig',
    ja3: '0149f47eabf9a20d0893e2a44e5a6323',
    ja4s: 't130200_1302_a56c5b993250',
    ja4t: '65495_2-4-8-1-3_65495_10',
    ja4ts: '',
    ja4l_c: '10_64',
    ja4l_s: '',
    ja4x: ['a373a9f83c6b_a373a9f83c6b_795797892f9c'],
    client_ttl: 64,
    correlation_status: 'matched',
    truncated: false,
  });
  t.equal(rowsOf(out.requests).length, 3, 'raw http_requests rows');
  t.equal(rowsOf(out.tlsEvents).length, 1, 'raw tls_events row');
  t.same(rowsOf(out.tlsEvents)[0]!.ja4x, ['a373a9f83c6b_a373a9f83c6b_795797892f9c']);
  const s = bc.stats().correlator;
  t.same([s.matched, s.no_tls, s.tls_not_seen, s.connections, s.pending], [3, 0, 0, 1, 0]);
});

t.test('an IPv6 zone and an upper-case IPv4-mapped prefix name the same client: joined, and stored without the zone', async (t) => {
  // Apache logs "fe80::1%eth0" for a link-local client; the capture has no zone. The
  // engine refuses an IPv6 text with a zone: unnormalized, the whole JSONEachRow insert failed.
  const bc = new BatchCorrelator();
  const out = bc.process(
    lines(
      httpRecord({ ts: T0_US + 10 * MS, port: 40001, ip: 'fe80::1%eth0' }),
      httpRecord({ ts: T0_US + 10 * MS, port: 40002, ip: '::FFFF:203.0.113.7' }),
      httpRecord({ ts: T0_US + 10 * MS, port: 40003, ip: 'FE80::2%2', scheme: 'http' }),
    ),
    lines(flowEvent({ first: T0_US, port: 40001, ip: 'fe80::1' }), flowEvent({ first: T0_US, port: 40002 })),
    T0_US + 1 * S,
  );
  const rows = rowsOf(out.ingest);
  t.same(rows.map((r) => [r.client_ip, r.client_port, r.correlation_status]), [
    ['fe80::1', 40001, 'matched'],
    [CLIENT_IP, 40002, 'matched'],
    ['fe80::2', 40003, 'no_tls'],
  ]);
  t.same(bc.stats().drops.http, { oversized: 0, not_json: 0, schema_invalid: 0 });
});

t.test('HTTP before TLS: the request waits, and joins when the event comes within the window', async (t) => {
  const bc = new BatchCorrelator({ tlsWaitMs: 2000 });
  let out = bc.process(lines(httpRecord({ ts: T0_US + 50 * MS })), undefined, T0_US + 100 * MS);
  t.equal(out.ingest, '', 'nothing written while waiting');
  t.equal(bc.stats().correlator.pending, 1);
  out = bc.process(undefined, lines(flowEvent({ first: T0_US })), T0_US + 1500 * MS);
  t.same(statusOf(rowsOf(out.ingest)), [`c-50000:1:matched:${JA4_A}`]);
  const s = bc.stats().correlator;
  t.same([s.matched, s.matched_late, s.pending], [1, 1, 0]);
});

t.test('orphans: tls_not_seen after the wait (not before), no_tls at once, every record written', async (t) => {
  const bc = new BatchCorrelator({ tlsWaitMs: 2000 });
  const arrive = T0_US + 10 * S;
  let out = bc.process(lines(httpRecord({ ts: T0_US, port: 41000 }), httpRecord({ ts: T0_US, port: 80, scheme: 'http', extra: { local_port: 80 } })), undefined, arrive);
  t.same(statusOf(rowsOf(out.ingest)), ['c-80:1:no_tls:'], 'plain HTTP is written at once');
  out = bc.process(undefined, undefined, arrive + 1999 * MS);
  t.equal(out.ingest, '', 'still waiting 1 ms before the window ends');
  out = bc.process(undefined, undefined, arrive + 2000 * MS);
  const rows = rowsOf(out.ingest);
  t.same(statusOf(rows), ['c-41000:1:tls_not_seen:']);
  t.equal(rows[0]!.tls_version, '13', "mod_ssl's TLSv1.3 in the engine's form");
  t.equal(rows[0]!.sni, 'www.example.org', "mod_ssl's SNI");
  // a TLS event arriving after the request was written does not write it again
  out = bc.process(undefined, lines(flowEvent({ first: T0_US - S, port: 41000 })), arrive + 3 * S);
  t.equal(out.ingest, '');
  const s = bc.stats().correlator;
  t.same([s.http_records, s.matched, s.no_tls, s.tls_not_seen, s.pending], [2, 0, 1, 1, 0]);
});

t.test('plain HTTP on a connection the capture reported gets its TCP fingerprints, status no_tls', async (t) => {
  const bc = new BatchCorrelator();
  const flow = { ...flowEvent({ first: T0_US, port: 42000 }), dst_port: 80, ja4: undefined, ja4s: undefined, tls_certs: undefined, tls_server_name: undefined };
  const out = bc.process(lines(httpRecord({ ts: T0_US + 5 * MS, port: 42000, scheme: 'http' })), lines(flow), T0_US + S);
  const [row] = rowsOf(out.ingest);
  t.same([row!.correlation_status, row!.ja4, row!.ja4t, row!.server_port], ['no_tls', '', '65495_2-4-8-1-3_65495_10', 80]);
});

t.test('plainHttpWait: a plain-HTTP request arriving before its flow event waits for it (TCP fingerprints), else no_tls after the wait', async (t) => {
  const bc = new BatchCorrelator({ tlsWaitMs: 2000, plainHttpWait: true });
  const arrive = T0_US + 10 * S;
  const plain = (port: number) => httpRecord({ ts: T0_US + 5 * MS, port, scheme: 'http', extra: { local_port: 80 } });
  let out = bc.process(lines(plain(42000), plain(42001)), undefined, arrive);
  t.equal(out.ingest, '', 'both wait');
  const flow = { ...flowEvent({ first: T0_US, port: 42000 }), dst_port: 80, ja4: undefined, ja4s: undefined, tls_certs: undefined, tls_server_name: undefined };
  out = bc.process(undefined, lines(flow), arrive + 500 * MS);
  let rows = rowsOf(out.ingest);
  t.same(rows.map((r) => [r.correlation_status, r.ja4t, r.client_port]), [['no_tls', '65495_2-4-8-1-3_65495_10', 42000]], 'its flow event came: the TCP fingerprints, status no_tls');
  out = bc.process(undefined, undefined, arrive + 1999 * MS);
  t.equal(out.ingest, '', 'the other still waits 1 ms before the window ends');
  out = bc.process(undefined, undefined, arrive + 2000 * MS);
  rows = rowsOf(out.ingest);
  t.same(rows.map((r) => [r.correlation_status, r.ja4t, r.client_port]), [['no_tls', '', 42001]], 'then written without them, no_tls (not tls_not_seen)');
  const s = bc.stats().correlator;
  t.same([s.http_records, s.matched, s.no_tls, s.tls_not_seen, s.matched_late, s.pending], [2, 0, 2, 0, 1, 0]);
});

t.test('port reuse: timestamps and the Apache connection id decide the connection', async (t) => {
  const bc = new BatchCorrelator();
  // connection 1 from port 50000, its first request joins it
  let out = bc.process(lines(httpRecord({ ts: T0_US + 10 * MS, conn: 'apache-1' })), lines(flowEvent({ first: T0_US, ja4: JA4_A })), T0_US + S);
  t.same(statusOf(rowsOf(out.ingest)), [`apache-1:1:matched:${JA4_A}`]);
  // the client reuses the port 10 s later with another TLS stack
  out = bc.process(undefined, lines(flowEvent({ first: T0_US + 10 * S, ja4: JA4_B })), T0_US + 10 * S + 5 * MS);
  t.equal(bc.stats().correlator.port_reuse, 1);
  // a late record of connection 1 (request at +2 s) and the first of connection 2 arrive together
  out = bc.process(
    lines(httpRecord({ ts: T0_US + 2 * S, conn: 'apache-1', n: 2 }), httpRecord({ ts: T0_US + 10 * S + 20 * MS, conn: 'apache-2', n: 1 })),
    undefined,
    T0_US + 11 * S,
  );
  t.same(statusOf(rowsOf(out.ingest)), [`apache-1:2:matched:${JA4_A}`, `apache-2:1:matched:${JA4_B}`]);
  // a record of apache-1 stamped after the reuse still goes to connection 1 (bound by id)
  out = bc.process(lines(httpRecord({ ts: T0_US + 10 * S + 30 * MS, conn: 'apache-1', n: 3 })), undefined, T0_US + 11 * S);
  t.same(statusOf(rowsOf(out.ingest)), [`apache-1:3:matched:${JA4_A}`]);
  // a third Apache connection on the port: neither TLS connection is free, it waits and ends tls_not_seen
  out = bc.process(lines(httpRecord({ ts: T0_US + 10 * S + 40 * MS, conn: 'apache-3' })), undefined, T0_US + 11 * S);
  t.equal(out.ingest, '');
  out = bc.process(undefined, undefined, T0_US + 14 * S);
  t.same(statusOf(rowsOf(out.ingest)), ['apache-3:1:tls_not_seen:']);
});

t.test('port reuse is a new SYN on the same 4-tuple: the same client port towards another server port is another live connection', async (t) => {
  const bc = new BatchCorrelator();
  // a client behind NAT: source port 40000 to 443 (JA4_A) and, a second later, to 8443 on the same server (JA4_B)
  bc.process(undefined, lines(flowEvent({ first: T0_US, port: 40000, ja4: JA4_A })), T0_US + MS);
  bc.process(undefined, lines({ ...flowEvent({ first: T0_US + S, port: 40000, ja4: JA4_B }), dst_port: 8443 }), T0_US + S + MS);
  t.equal(bc.stats().correlator.port_reuse, 0, 'the 443 connection is still open');
  const out = bc.process(lines(httpRecord({ ts: T0_US + 2 * S, port: 40000, conn: 'apache-443' })), undefined, T0_US + 2 * S + MS);
  t.same(statusOf(rowsOf(out.ingest)), [`apache-443:1:matched:${JA4_A}`], 'the request on 443 gets the 443 handshake');
  // a new SYN to 443 from the same port does end the first one
  bc.process(undefined, lines(flowEvent({ first: T0_US + 3 * S, port: 40000, ja4: JA4_B })), T0_US + 3 * S + MS);
  t.equal(bc.stats().correlator.port_reuse, 1);
});

t.test('close events: late records join during the grace period, then the connection is forgotten', async (t) => {
  const bc = new BatchCorrelator({ closeGraceMs: 5000, tlsWaitMs: 1000 });
  bc.process(undefined, lines(flowEvent({ first: T0_US })), T0_US + S);
  bc.process(undefined, lines(closeEvent({ first: T0_US, last: T0_US + 2 * S })), T0_US + 2 * S);
  t.equal(bc.stats().correlator.close_events, 1);
  let out = bc.process(lines(httpRecord({ ts: T0_US + 1900 * MS, n: 4 })), undefined, T0_US + 3 * S);
  t.same(statusOf(rowsOf(out.ingest)), [`c-50000:4:matched:${JA4_A}`], 'a request before the close, logged after it');
  out = bc.process(undefined, undefined, T0_US + 7 * S);
  t.same([bc.stats().correlator.connections, bc.stats().correlator.expired_closed], [0, 1], 'forgotten once the grace is over');
  // a request stamped after the close never joins the closed connection
  const bc2 = new BatchCorrelator({ closeGraceMs: 5000, tlsWaitMs: 1000 });
  bc2.process(undefined, lines(flowEvent({ first: T0_US }), closeEvent({ first: T0_US, last: T0_US + 2 * S })), T0_US + 2 * S);
  bc2.process(lines(httpRecord({ ts: T0_US + 3 * S, conn: 'later' })), undefined, T0_US + 3 * S);
  out = bc2.process(undefined, undefined, T0_US + 4 * S);
  t.same(statusOf(rowsOf(out.ingest)), ['later:1:tls_not_seen:']);
  // a close for a connection never seen is counted
  bc2.process(undefined, lines(closeEvent({ first: T0_US, port: 1234 })), T0_US + 5 * S);
  t.equal(bc2.stats().correlator.close_without_flow, 1);
});

t.test('an idle or evicted close only says the capture stopped tracking the flow: the connection still takes its requests', async (t) => {
  for (const reason of ['idle', 'evicted']) {
    const bc = new BatchCorrelator({ closeGraceMs: 5000, tlsWaitMs: 1000 });
    bc.process(lines(httpRecord({ ts: T0_US + 10 * MS, conn: 'h2' })), lines(flowEvent({ first: T0_US })), T0_US + S);
    // a quiet HTTP/2 connection past the capture's idle timeout, or a flow-table flood
    bc.process(undefined, lines(closeEvent({ first: T0_US, last: T0_US + 2 * S, reason })), T0_US + 2 * S);
    bc.process(undefined, undefined, T0_US + 30 * S); // well past the close grace
    const out = bc.process(lines(httpRecord({ ts: T0_US + 31 * S, conn: 'h2', n: 2 })), undefined, T0_US + 31 * S);
    t.same(statusOf(rowsOf(out.ingest)), [`h2:2:matched:${JA4_A}`], `${reason}: the next request still gets the handshake`);
    t.same([bc.stats().correlator.close_untracked, bc.stats().correlator.expired_closed], [1, 0], `${reason}: counted, nothing closed`);
  }
});

t.test('idle timeout and window: connections are forgotten, counted by reason', async (t) => {
  const bc = new BatchCorrelator({ idleTimeoutMs: 10_000, windowMs: 60_000 });
  bc.process(undefined, lines(flowEvent({ first: T0_US, port: 1 }), flowEvent({ first: T0_US, port: 2 })), T0_US);
  // port 2 stays active: a request every 5 s
  for (let s = 5; s <= 55; s += 5) bc.process(lines(httpRecord({ ts: T0_US + s * S, port: 2, n: s })), undefined, T0_US + s * S);
  let st = bc.stats().correlator;
  t.same([st.expired_idle, st.connections_without_http, st.connections], [1, 0, 1], 'port 1 idle for 10 s: out of the join, kept dormant until its window ends');
  bc.process(undefined, undefined, T0_US + 60 * S);
  st = bc.stats().correlator;
  t.same([st.expired_window, st.connections, st.matched], [1, 0, 11], 'port 2 reached the 60 s window while active');
  t.equal(st.connections_without_http, 1, 'port 1 left at its window end without a request: counted then');
});

t.test('a request longer than the idle timeout still gets its connection (mod_reqin_log writes it when it ends)', async (t) => {
  const bc = new BatchCorrelator({ idleTimeoutMs: 300_000, windowMs: 3_600_000 });
  bc.process(undefined, lines(flowEvent({ first: T0_US, port: 7 })), T0_US);
  // nothing for 400 s: the connection goes dormant at 300 s
  bc.process(undefined, undefined, T0_US + 350 * S);
  t.same([bc.stats().correlator.connections, bc.stats().correlator.expired_idle], [0, 1]);
  // a 400 s download, logged as it ends
  const out = bc.process(lines(httpRecord({ ts: T0_US + 1 * S, port: 7 })), undefined, T0_US + 401 * S);
  t.same(statusOf(rowsOf(out.ingest)), [`c-7:1:matched:${JA4_A}`], 'matched, with its fingerprints');
  const st = bc.stats().correlator;
  t.same([st.matched, st.tls_not_seen, st.connections, st.connections_without_http], [1, 0, 1, 0], 'back in the join, not a connection without HTTP');
  // quiet again past the idle timeout: dormant again, but one connection counted once
  bc.process(undefined, undefined, T0_US + 800 * S);
  t.same([bc.stats().correlator.connections, bc.stats().correlator.expired_idle], [0, 1], 'dormant again, expired_idle still 1');
  // a dormant connection's close (FIN) is its own, not a close without a flow
  const closing = new BatchCorrelator({ idleTimeoutMs: 10_000, windowMs: 60_000 });
  closing.process(undefined, lines(flowEvent({ first: T0_US, port: 9 })), T0_US);
  closing.process(undefined, undefined, T0_US + 20 * S);
  closing.process(undefined, lines(closeEvent({ first: T0_US, last: T0_US + 20 * S, port: 9 })), T0_US + 21 * S);
  t.equal(closing.stats().correlator.close_without_flow, 0, 'the close found its dormant connection');
  closing.process(undefined, undefined, T0_US + 30 * S);
  t.equal(closing.stats().correlator.connections_without_http, 1, 'and it leaves after the close grace, not at its window end');
  // past its window a dormant connection is gone
  const late = new BatchCorrelator({ idleTimeoutMs: 10_000, windowMs: 60_000 });
  late.process(undefined, lines(flowEvent({ first: T0_US, port: 8 })), T0_US);
  late.process(undefined, undefined, T0_US + 61 * S);
  late.process(lines(httpRecord({ ts: T0_US + 1 * S, port: 8 })), undefined, T0_US + 62 * S);
  const gone = late.process(undefined, undefined, T0_US + 70 * S);
  t.same(statusOf(rowsOf(gone.ingest)), ['c-8:1:tls_not_seen:'], 'after the window: tls_not_seen');
});

t.test('memory limits: oldest connection evicted, oldest waiting request written early, both counted', async (t) => {
  const bc = new BatchCorrelator({ maxConnections: 2, maxPending: 2 });
  bc.process(undefined, lines(flowEvent({ first: T0_US, port: 1 }), flowEvent({ first: T0_US, port: 2 }), flowEvent({ first: T0_US, port: 3 })), T0_US);
  t.same([bc.stats().correlator.connections, bc.stats().correlator.evicted_connections], [2, 1]);
  const out = bc.process(lines(httpRecord({ ts: T0_US, port: 7 }), httpRecord({ ts: T0_US, port: 8 }), httpRecord({ ts: T0_US, port: 9 })), undefined, T0_US);
  t.same(statusOf(rowsOf(out.ingest)), ['c-7:1:tls_not_seen:'], 'the oldest of three waiting requests is written');
  t.same([bc.stats().correlator.pending, bc.stats().correlator.pending_overflow], [2, 1]);
  const flushed = bc.flush();
  t.same(statusOf(rowsOf(flushed.ingest)), ['c-8:1:tls_not_seen:', 'c-9:1:tls_not_seen:'], 'shutdown writes the rest');
});

t.test('garbage lines are counted per reason and per input; the good lines around them go through', async (t) => {
  const bc = new BatchCorrelator({ maxLineBytes: 4096 });
  const good = httpRecord({ ts: T0_US, scheme: 'http', port: 80 });
  const http = lines(
    '{"ts_us": 1, broken',
    'not json at all',
    good,
    '[1,2,3]',
    '42',
    { ...good, client_ip: 'not-an-ip' },
    { ...good, client_port: 70000 },
    { ...good, ts_us: '1767225600000000' },
    { ...good, headers: { 'user-agent': 5 } },
    { ...good, conn: undefined },
    { ...good, uri: 'x'.repeat(5000) },
    '',
    { ...good, client_ip: '::ffff:198.51.100.9', conn: 'mapped' },
  );
  const tls = lines('{', { ...flowEvent({ first: T0_US }), src: '300.1.1.1' }, { event: 'open' }, { ...flowEvent({ first: T0_US }), ja4: 7 }, flowEvent({ first: T0_US }));
  const out = bc.process(http, tls, T0_US + S);
  const rows = rowsOf(out.ingest);
  t.same(rows.map((r) => `${String(r.conn_id)}@${String(r.client_ip)}`), [`c-80@${CLIENT_IP}`, 'mapped@198.51.100.9'], 'IPv4-mapped client normalised');
  t.same(bc.stats().drops, {
    http: { oversized: 1, not_json: 2, schema_invalid: 7 },
    tls: { oversized: 0, not_json: 1, schema_invalid: 3 },
  });
  t.equal(bc.stats().correlator.flow_events, 1);
});

t.test('a certificate chain that is not an object (tls_certs: [null]) is schema_invalid, in every format: no throw, and the next rows are those of a fresh correlator', async (t) => {
  // it used to throw in the middle of a row (ja4xList read null.x509): the
  // worker's task failed, `ja4 run` died on the rejection, and an encoder that
  // lived on carried half a row into its next block
  const bad = [null, 7, 'chain'].map((c, i) => ({ ...flowEvent({ first: T0_US, port: 41000 + i }), tls_certs: [{ x509: [{ ja4x: 'a_b_c' }] }, c] }));
  const good = flowEvent({ first: T0_US, port: 42000 });
  const request = httpRecord({ ts: T0_US + 1000, port: 42000 });
  for (const format of ['JSONEachRow', 'RowBinary', 'Native'] as const) {
    const hit = new BatchCorrelator({ format, rawTables: true });
    hit.process(undefined, lines(...bad), T0_US);
    t.same(hit.stats().drops.tls, { oversized: 0, not_json: 0, schema_invalid: 3 }, `${format}: counted per reason`);
    const fresh = new BatchCorrelator({ format, rawTables: true });
    const after = hit.process(lines(request), lines(good), T0_US + 2000);
    const want = fresh.process(lines(request), lines(good), T0_US + 2000);
    t.same([after.ingestRows, after.tlsEventRows], [1, 1], `${format}: the next step's rows`);
    t.ok(Buffer.from(after.ingest).equals(Buffer.from(want.ingest)) && Buffer.from(after.tlsEvents).equals(Buffer.from(want.tlsEvents)), `${format}: byte for byte a fresh correlator's`);
  }
});

t.test('a batch with non-ASCII bytes decodes as UTF-8 (U+FFFD for invalid bytes); an ASCII batch the same as before', async (t) => {
  const good = httpRecord({ ts: T0_US, scheme: 'http', port: 80 });
  const uriOf = (batch: Buffer): unknown => {
    const bc = new BatchCorrelator({});
    return rowsOf(bc.process(batch, undefined, T0_US + S).ingest).map((r) => r.uri);
  };
  const ascii = lines({ ...good, uri: '/a?b=c' });
  t.same(uriOf(ascii), ['/a?b=c'], 'ASCII (the latin1 decoder)');
  t.same(uriOf(lines({ ...good, uri: '/caf\u00e9/\u2603' })), ['/caf\u00e9/\u2603'], 'valid UTF-8 (the UTF-8 decoder)');
  // raw invalid bytes inside a string (a sender that does not escape them): replaced, the line still counts
  const [before, after] = JSON.stringify({ ...good, uri: '/x@y' }).split('@');
  const invalid = Buffer.concat([Buffer.from(before!), Buffer.from([0xff, 0xc3]), Buffer.from(after! + '\n')]);
  t.same(uriOf(invalid), ['/x\ufffd\ufffdy'], 'one U+FFFD per invalid byte, as before');
});

t.test('event clock: a replay loaded in one go still waits and expires by its own timestamps', async (t) => {
  const bc = new BatchCorrelator({ clock: 'event', tlsWaitMs: 2000 });
  const out = bc.process(
    lines(httpRecord({ ts: T0_US, port: 5 }), httpRecord({ ts: T0_US + 10 * S, port: 6, scheme: 'http' })),
    undefined,
    0,
  );
  t.same(statusOf(rowsOf(out.ingest)), ['c-6:1:no_tls:', 'c-5:1:tls_not_seen:'], 'by the end of the batch the data clock is 10 s past the https request');
  let out2 = bc.process(lines(httpRecord({ ts: T0_US + 21 * S, port: 7 })), undefined, 0);
  out2 = bc.process(lines(httpRecord({ ts: T0_US + 22 * S, port: 8, scheme: 'http' })), undefined, 0);
  t.same(statusOf(rowsOf(out2.ingest)), ['c-8:1:no_tls:'], '1 s of data time later port 7 still waits');
  out2 = bc.process(lines(httpRecord({ ts: T0_US + 23 * S, port: 9, scheme: 'http' })), lines(flowEvent({ first: T0_US + 20 * S, last: T0_US + 23 * S, port: 7 })), 0);
  t.same(statusOf(rowsOf(out2.ingest)), [`c-7:1:matched:${JA4_A}`, 'c-9:1:no_tls:'], 'its TLS event came 2 s of data time later: joined');
});

t.test('JA4H from the logged fields (cookie values are never logged: section d is over the names)', async (t) => {
  const base = { method: 'GET', proto: 'HTTP/1.1', header_order: ['Host', 'User-Agent', 'Accept'], headers: {}, cookies: [] as string[] };
  t.equal(ja4hOf(base), 'ge11nn030000_' + 'fe444ad14866' + '_000000000000_000000000000');
  const full = ja4hOf({ method: 'POST', proto: 'HTTP/2.0', header_order: ['Host', 'Referer', 'Cookie', 'Accept-Language'], headers: { 'accept-language': ' De-CH,de;q=0.9' }, cookies: ['zeta', 'alpha'] });
  const [a, , c, d] = full.split('_');
  t.equal(a, 'po20cr02dech');
  t.equal(c, d, 'd = c without values');
  t.equal(ja4hOf({ ...base, method: '', proto: 'HTTP/0.9' }).slice(0, 4), '0000', 'unknown method and version');
  t.equal(ja4hOf({ ...base, header_order: ['Accept-Language'], headers: {} }).slice(0, 12), 'ge11nn010000', 'language not logged: 0000');
});

t.test('JA4H memo per Apache connection: a layout that changes on the connection gets its own value', async (t) => {
  const memo = new ConnectionJa4h(2);
  const r = { conn: 'c1', method: 'GET', proto: 'HTTP/1.1', header_order: ['Host', 'User-Agent'], headers: { 'accept-language': 'en-US' }, cookies: [] as string[] };
  const variants = [
    r,
    { ...r, header_order: ['Host', 'User-Agent'] }, // equal content, another array: the same value
    { ...r, header_order: ['Host', 'User-Agent', 'Referer'] },
    { ...r, cookies: ['sid'] },
    { ...r, method: 'POST' },
    { ...r, proto: 'HTTP/2.0' },
    { ...r, headers: { 'accept-language': 'fr-FR' } },
    { ...r, headers: {} },
    { ...r, conn: 'c2' },
    { ...r, conn: 'c3' }, // past maxConnections: cleared, still right
    r,
  ];
  t.same(variants.map((v) => memo.of(v)), variants.map((v) => ja4hOf(v)));
  t.not(memo.of({ ...r, header_order: ['Host'] }), memo.of(r));
});

t.test('many requests waiting on one connection expire in linear time', async (t) => {
  // a busy keep-alive connection whose flow event never came (opened before
  // the capture started): its requests wait on one key. Each expiry filtered
  // the key's whole list: 40k requests took 25 s, 80k 150 s.
  const bc = new BatchCorrelator({ format: 'Native' });
  const n = 60_000;
  bc.process(lines(...Array.from({ length: n }, (_, i) => httpRecord({ ts: T0_US + i + 1, n: i + 1 }))), undefined, T0_US + 1 * S);
  const started = performance.now();
  const out = bc.process(undefined, undefined, T0_US + 10 * S);
  const ms = performance.now() - started;
  t.equal(out.ingestRows, n, 'every waiting request written');
  t.equal(bc.stats().correlator.tls_not_seen, n, 'as tls_not_seen');
  t.ok(ms < 5000, `in ${ms.toFixed(0)} ms`);
});

t.test('live: a request time days away from now is refused, counted as schema_invalid', async (t) => {
  // anything that may write to the socket could spread a batch over more
  // than 100 days' partitions, and the engine refuses such an insert whole
  const bc = new BatchCorrelator();
  const now = T0_US + 10 * S;
  const out = bc.process(
    lines(
      httpRecord({ ts: T0_US, n: 1 }),
      httpRecord({ ts: now + 2 * 86_400 * S, n: 2 }),
      httpRecord({ ts: now - 8 * 86_400 * S, n: 3 }),
      httpRecord({ ts: now - 6 * 86_400 * S, n: 4 }),
    ),
    undefined,
    now,
  );
  t.equal(bc.stats().drops.http.schema_invalid, 2, 'two days ahead and eight days back: refused');
  t.equal(out.ingestRows + bc.stats().correlator.pending, 2, 'the others go on (waiting for their TLS event)');
  // the event clock (replays, the simulator unpaced, the detector's loader) takes any time
  const ev = new BatchCorrelator({ clock: 'event' });
  ev.process(lines(httpRecord({ ts: T0_US - 400 * 86_400 * S, n: 1 })), undefined, 0);
  t.equal(ev.stats().drops.http.schema_invalid, 0);
});
