// TCP handling of the engine on crafted captures: reassembly (out of order,
// retransmissions, overlaps, records split across segments), who is the
// client, HelloRetryRequest, port reuse, and the memory bounds (flow table
// cap, idle eviction, out-of-order buffer cap). Expected fingerprints are
// computed from the hello specs in test/helpers, never copied from output.
import t from 'tap';
import { join } from 'node:path';
import {
  LINUX_SYN_OPTIONS,
  PcapWriter,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
  TcpConversation,
  WINDOWS_SYN_OPTIONS,
} from '../src/capture/pcap-writer.js';
import {
  CHANGE_CIPHER_SPEC,
  EXT_COOKIE,
  EXT_KEY_SHARE,
  HRR_RANDOM,
  clientHello,
  serverHello,
  tlsRecords,
  type ClientHelloSpec,
  type ServerHelloSpec,
} from './helpers/tls-messages.js';
import { expectedJa4, expectedJa4s, expectedJa4t } from './helpers/expected-fingerprints.js';
import {
  CHROME_HELLO,
  CLIENT,
  SERVER,
  T0,
  TLS13_SERVER_HELLO,
  anomalies,
  readWithStats,
  scratchDir,
} from './helpers/captures.js';

const CH = clientHello(CHROME_HELLO);
const CH_RECORD = tlsRecords(CH);
const SH_RECORD = tlsRecords(serverHello(TLS13_SERVER_HELLO));
const JA4 = expectedJa4(CHROME_HELLO);
const JA4S = expectedJa4s(TLS13_SERVER_HELLO);
const JA4T = expectedJa4t(64240, WINDOWS_SYN_OPTIONS);
const JA4TS = expectedJa4t(65160, LINUX_SYN_OPTIONS);

/** Writes one capture; `script` drives a conversation between CLIENT and SERVER. */
function capture(dir: string, name: string, script: (c: TcpConversation, w: PcapWriter) => void): string {
  const file = join(dir, name);
  const w = new PcapWriter(file);
  script(new TcpConversation(w, CLIENT, SERVER, T0), w);
  w.close();
  return file;
}

/** The ClientHello record cut into three segments at these offsets. */
const CUT1 = 100;
const CUT2 = 200;
const SEG1 = CH_RECORD.subarray(0, CUT1);
const SEG2 = CH_RECORD.subarray(CUT1, CUT2);
const SEG3 = CH_RECORD.subarray(CUT2);

t.test('hello fixture sanity: three segments, and the record is longer than the cuts', async (t) => {
  // 5 record + 4 handshake + 105 fixed fields + 176 extension bytes
  t.equal(CH_RECORD.length, 290);
  t.equal(SEG1.length + SEG2.length + SEG3.length, CH_RECORD.length);
});

t.test('a ClientHello in three in-order segments gives the spec JA4, JA4S, JA4T, JA4TS', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'in-order.pcap', (c) => {
    c.handshake();
    c.send(true, CH_RECORD, CUT1);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1);
  const r = records[0]!;
  t.same(
    {
      stream: r.stream,
      src: r.src,
      src_port: r.src_port,
      dst: r.dst,
      dst_port: r.dst_port,
      tls_server_name: r.tls_server_name,
      ja4: r.ja4,
      ja4_r: r.ja4_r,
      ja4_o: r.ja4_o,
      ja4_ro: r.ja4_ro,
      ja4s: r.ja4s,
      ja4s_r: r.ja4s_r,
      ja4t: r.ja4t,
      ja4ts: r.ja4ts,
      alpn: r.alpn,
      tls_version: r.tls_version,
    },
    {
      stream: 0,
      src: CLIENT.ip,
      src_port: CLIENT.port,
      dst: SERVER.ip,
      dst_port: SERVER.port,
      tls_server_name: 'www.example.com',
      ...JA4,
      ...JA4S,
      ja4t: JA4T,
      ja4ts: JA4TS,
      alpn: 'h2',
      tls_version: '13',
    },
  );
  t.equal(stats.tls_client_hellos, 1);
  t.equal(stats.tls_server_hellos, 1);
  const a = anomalies(stats);
  t.same(a.actual, a.expected, 'no anomaly counted');
});

t.test('segments delivered 3,1,2 give the same JA4 as in order; one out-of-order segment counted', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'ooo.pcap', (c) => {
    c.handshake();
    const base = c.nextSeq(true);
    c.raw(true, base + CUT2, SEG3);
    c.raw(true, base, SEG1);
    c.raw(true, base + CUT1, SEG2);
    c.advance(true, CH_RECORD.length);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1);
  t.equal(records[0]!.ja4, JA4.ja4);
  t.equal(records[0]!.ja4_ro, JA4.ja4_ro);
  t.equal(records[0]!.ja4s, JA4S.ja4s);
  const a = anomalies(stats, { tcp_out_of_order: 1 });
  t.same(a.actual, a.expected, 'exactly one out-of-order segment, nothing else');
});

t.test('a retransmitted segment and an overlapping segment are counted; first copy of a byte wins', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'retrans-overlap.pcap', (c) => {
    c.handshake();
    const base = c.nextSeq(true);
    c.raw(true, base, SEG1);
    c.raw(true, base, SEG1); // exact retransmission
    // Overlap: 20 already-delivered bytes (with different content: the
    // first copy must win) followed by all of segment 2.
    const overlap = Buffer.concat([Buffer.alloc(20, 0xee), SEG2]);
    c.raw(true, base + CUT1 - 20, overlap);
    c.raw(true, base + CUT2, SEG3);
    c.advance(true, CH_RECORD.length);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1);
  t.equal(records[0]!.ja4, JA4.ja4);
  t.equal(records[0]!.ja4_r, JA4.ja4_r);
  const a = anomalies(stats, { tcp_retransmissions: 1, tcp_overlaps: 1 });
  t.same(a.actual, a.expected, 'one retransmission, one overlap');
});

t.test('a buffered out-of-order segment overlapped by the gap filler is trimmed when drained', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'drain-overlap.pcap', (c) => {
    c.handshake();
    const base = c.nextSeq(true);
    c.raw(true, base, SEG1);
    c.raw(true, base + CUT2, SEG3); // buffered
    // Fills the gap and runs 30 bytes into the buffered segment.
    c.raw(true, base + CUT1, CH_RECORD.subarray(CUT1, CUT2 + 30));
    c.advance(true, CH_RECORD.length);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records[0]?.ja4, JA4.ja4);
  const a = anomalies(stats, { tcp_out_of_order: 1, tcp_overlaps: 1 });
  t.same(a.actual, a.expected);
});

t.test('a ClientHello fragmented across TLS records gives the same JA4', async (t) => {
  const dir = scratchDir(t);
  const variants: [string, number[]][] = [
    ['two records', [60]],
    ['three records, one cutting the handshake header', [2, 150]],
    ['one-byte records at the start', [1, 2, 3, 4]],
  ];
  for (const [name, cuts] of variants) {
    const file = capture(dir, `frag-${cuts.join('-')}.pcap`, (c) => {
      c.handshake();
      c.send(true, tlsRecords(CH, cuts), 90);
      c.send(false, SH_RECORD);
    });
    const { records, stats } = await readWithStats(file);
    t.equal(records[0]?.ja4, JA4.ja4, `${name}: JA4`);
    t.equal(records[0]?.ja4_ro, JA4.ja4_ro, `${name}: JA4_ro`);
    t.equal(stats.tls_client_hellos, 1, `${name}: one ClientHello`);
    t.equal(stats.malformed_tls_record, 0, `${name}: no malformed record`);
  }
});

t.test('a capture starting with the SYN-ACK (client SYN missing) reports the client as src', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'no-syn.pcap', (c) => {
    c.packet(false, TCP_SYN | TCP_ACK, undefined, { options: LINUX_SYN_OPTIONS, window: 65160 });
    c.advance(true, 1); // the client's SYN was sent, just not captured
    c.packet(true, TCP_ACK);
    c.send(true, CH_RECORD);
    c.send(false, SH_RECORD);
  });
  const { records } = await readWithStats(file);
  t.equal(records.length, 1);
  const r = records[0]!;
  t.same(
    [r.src, r.src_port, r.dst, r.dst_port, r.ja4, r.ja4s, r.ja4t, r.ja4ts, r.ja4l_c],
    [CLIENT.ip, CLIENT.port, SERVER.ip, SERVER.port, JA4.ja4, JA4S.ja4s, undefined, JA4TS, undefined],
  );
});

t.test('server data seen first, client SYN later: the SYN sender is the client', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'server-first.pcap', (c) => {
    // A server segment from an earlier moment of the same 5-tuple.
    c.raw(false, 90000, Buffer.from('late server bytes'));
    c.handshake();
    c.send(true, CH_RECORD);
    c.send(false, SH_RECORD);
  });
  const { records } = await readWithStats(file);
  t.equal(records.length, 1);
  const r = records[0]!;
  t.same([r.src, r.src_port, r.dst, r.dst_port], [CLIENT.ip, CLIENT.port, SERVER.ip, SERVER.port]);
  t.equal(r.ja4, JA4.ja4);
  t.equal(r.ja4t, JA4T);
  t.equal(r.ja4ts, JA4TS);
  // The server direction was given up on its first (non-TLS) bytes.
  t.equal(r.ja4s, undefined);
});

t.test('HelloRetryRequest: JA4 is the first ClientHello, later hellos are not fingerprinted', async (t) => {
  const dir = scratchDir(t);
  const hrr: ServerHelloSpec = {
    random: HRR_RANDOM,
    cipher: 0x1301,
    extensions: [{ type: 0x002b }, { type: EXT_KEY_SHARE, data: Buffer.from([0, 0x17]) }],
    supportedVersion: 0x0304,
  };
  // The retried hello: a P-256 key share and the cookie extension added.
  const second: ClientHelloSpec = {
    ...CHROME_HELLO,
    extensions: [
      ...(CHROME_HELLO.extensions ?? []).map((e) =>
        e.type === EXT_KEY_SHARE ? { type: EXT_KEY_SHARE, data: Buffer.concat([Buffer.from([0, 0x45, 0, 0x17, 0, 0x41]), Buffer.alloc(65, 4)]) } : e,
      ),
      { type: EXT_COOKIE, data: Buffer.from([0, 4, 1, 2, 3, 4]) },
    ],
  };
  t.not(expectedJa4(second).ja4, JA4.ja4, 'the two hellos have different JA4s');
  const file = capture(dir, 'hrr.pcap', (c) => {
    c.handshake();
    c.send(true, CH_RECORD);
    c.send(false, tlsRecords(serverHello(hrr)));
    c.send(true, Buffer.concat([CHANGE_CIPHER_SPEC, tlsRecords(clientHello(second))]));
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1);
  t.equal(records[0]!.ja4, JA4.ja4, 'JA4 of the first ClientHello');
  t.equal(records[0]!.ja4_r, JA4.ja4_r);
  // JA4S is taken from the first ServerHello, i.e. the HRR, as FoxIO's
  // reference does ("we only need data from a single TLS Server Hello").
  t.equal(records[0]!.ja4s, expectedJa4s(hrr).ja4s, 'JA4S of the HelloRetryRequest');
  t.equal(stats.tls_client_hellos, 1);
  t.equal(stats.tls_server_hellos, 1);
});

t.test('port reuse: a SYN after FIN on the same 5-tuple starts the next stream', async (t) => {
  const dir = scratchDir(t);
  const tls12Hello: ClientHelloSpec = {
    ciphers: [0xc02f, 0xc030, 0x009c],
    sni: 'reuse.example',
    sigalgs: [0x0401, 0x0501],
    extensions: [{ type: 0x0000 }, { type: 0x000a, data: Buffer.from([0, 2, 0, 0x17]) }, { type: 0x000d }],
  };
  const file = join(dir, 'reuse.pcap');
  const w = new PcapWriter(file);
  const first = new TcpConversation(w, CLIENT, SERVER, T0, [1000, 5000]);
  first.handshake();
  first.send(true, CH_RECORD);
  first.send(false, SH_RECORD);
  first.close();
  const second = new TcpConversation(w, CLIENT, SERVER, first.tsUs + 1000, [777777, 888888]);
  second.handshake();
  second.send(true, tlsRecords(clientHello(tls12Hello)));
  second.send(false, SH_RECORD);
  second.close();
  w.close();
  const { records, stats } = await readWithStats(file);
  // A TLS flow is reported as soon as both hellos and the JA4L handshake
  // are in, before its FIN: closed is false in the record, while
  // flows_closed still counts the close seen afterwards (see the
  // early-emission test below).
  t.same(
    records.map((r) => [r.stream, r.src, r.src_port, r.ja4, r.tls_server_name, r.closed]),
    [
      [0, CLIENT.ip, CLIENT.port, JA4.ja4, 'www.example.com', false],
      [1, CLIENT.ip, CLIENT.port, expectedJa4(tls12Hello).ja4, 'reuse.example', false],
    ],
  );
  t.equal(stats.flows_created, 2);
  t.equal(stats.flows_closed, 2);
  t.equal(stats.tls_client_hellos, 2);
});

t.test('bounded memory: 1000 half-open flows with maxFlows 100 evict 900, never more than 100 active', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'syn-flood.pcap');
  const w = new PcapWriter(file);
  for (let i = 0; i < 1000; i++) {
    const c = new TcpConversation(w, { ip: CLIENT.ip, port: 10000 + i }, SERVER, T0 + i * 1000);
    c.packet(true, TCP_SYN, undefined, { options: WINDOWS_SYN_OPTIONS, window: 64240 });
  }
  w.close();
  const { records, stats, activeFlows } = await readWithStats(file, { maxFlows: 100, batchRecords: 64 });
  t.equal(stats.flows_created, 1000);
  t.equal(stats.flows_evicted_capacity, 900);
  t.equal(stats.flows_evicted_idle, 0);
  t.equal(stats.records_emitted, 1000);
  t.equal(stats.active_flows, 100, 'the table holds exactly maxFlows at the end');
  // 14 batches of 64 evicted records, then the last 4 evicted + 100 finished:
  // the table is full (exactly maxFlows) at every batch.
  t.same(activeFlows, Array(15).fill(100), 'every batch saw exactly 100 active flows');
  t.equal(records.length, 1000);
  // Evicted flows come out oldest first, the 100 survivors at the end.
  t.same(records.slice(0, 900).map((r) => r.stream), Array.from({ length: 900 }, (_, i) => i));
  t.same(
    records.map((r) => r.stream).sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
    'every stream reported once',
  );
  t.same(
    [...new Set(records.map((r) => `${r.src}|${r.dst}:${r.dst_port}|${r.ja4t}|${r.closed}`))],
    [`${CLIENT.ip}|${SERVER.ip}:${SERVER.port}|${JA4T}|false`],
  );
});

t.test('idle eviction: a flow idle longer than idleTimeoutMs is reported and forgotten', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'idle.pcap');
  const w = new PcapWriter(file);
  const syn = (port: number, ts: number) =>
    new TcpConversation(w, { ip: CLIENT.ip, port }, SERVER, ts).packet(true, TCP_SYN, undefined, {
      options: WINDOWS_SYN_OPTIONS,
      window: 64240,
    }, 0);
  syn(40001, T0); // A
  syn(40002, T0 + 1_000_000); // B: A idle exactly the timeout, kept
  syn(40003, T0 + 1_000_001); // C: A idle past the timeout, evicted
  // A's SYN-ACK after the eviction: a new stream for the same 5-tuple.
  new TcpConversation(w, { ip: CLIENT.ip, port: 40001 }, SERVER, T0 + 1_000_002).packet(
    false,
    TCP_SYN | TCP_ACK,
    undefined,
    { options: LINUX_SYN_OPTIONS, window: 65160 },
    0,
  );
  w.close();
  const { records, stats } = await readWithStats(file, { idleTimeoutMs: 1000 });
  t.equal(stats.flows_evicted_idle, 1);
  t.equal(stats.flows_created, 4);
  t.same(
    records.map((r) => [r.stream, r.src_port, r.ja4t ?? null, r.ja4ts ?? null]),
    [
      [0, 40001, JA4T, null],
      // finish() reports the rest most recently seen first
      [3, 40001, null, JA4TS],
      [2, 40003, JA4T, null],
      [1, 40002, JA4T, null],
    ],
  );
});

t.test('out-of-order buffer cap: a gap that never fills counts tcp_buffer_overflow, other flows unaffected', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'overflow.pcap');
  const w = new PcapWriter(file);
  const stuck = new TcpConversation(w, CLIENT, SERVER, T0);
  stuck.handshake();
  const base = stuck.nextSeq(true);
  // Segment 1 (bytes 0..59) is lost; 2 is buffered (60 bytes, charged
  // 60 + 64 for holding it), 3 would take the charge to 248 > 200.
  for (let off = 60; off < CH_RECORD.length; off += 60) {
    stuck.raw(true, base + off, CH_RECORD.subarray(off, off + 60));
  }
  stuck.send(false, SH_RECORD);
  const fine = new TcpConversation(w, { ip: CLIENT.ip, port: CLIENT.port + 1 }, SERVER, stuck.tsUs + 100);
  fine.handshake();
  fine.send(true, CH_RECORD, 60);
  fine.send(false, SH_RECORD);
  w.close();
  const { records, stats } = await readWithStats(file, { maxBufferedPerDirection: 200 });
  const a = anomalies(stats, { tcp_out_of_order: 1, tcp_buffer_overflow: 1 });
  t.same(a.actual, a.expected, 'one segment buffered, one overflow, nothing else');
  const byPort = new Map(records.map((r) => [r.src_port, r]));
  t.same(
    [byPort.get(CLIENT.port)?.ja4, byPort.get(CLIENT.port)?.ja4s, byPort.get(CLIENT.port)?.ja4t],
    [undefined, JA4S.ja4s, JA4T],
    'the stuck flow is still reported, without JA4',
  );
  t.equal(byPort.get(CLIENT.port + 1)?.ja4, JA4.ja4, 'the other flow is fingerprinted');
  t.equal(records.length, 2);
});

t.test('a data segment with PSH but no ACK flag is still reassembled', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'psh-only.pcap', (c) => {
    c.handshake();
    c.packet(true, TCP_PSH, CH_RECORD);
    c.send(false, SH_RECORD);
  });
  const { records } = await readWithStats(file);
  t.equal(records[0]?.ja4, JA4.ja4);
});

t.test('early emission: a TLS flow is reported after its hellos, so a later FIN leaves closed false', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'early.pcap', (c) => {
    c.handshake();
    c.send(true, CH_RECORD);
    c.send(false, SH_RECORD);
    c.send(true, Buffer.from([23, 3, 3, 0, 4, 1, 2, 3, 4])); // application data
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.same(
    records.map((r) => [r.packets, r.closed, r.ja4, r.ja4s, r.first_ts_us, r.last_ts_us]),
    // handshake (3) + ClientHello + ServerHello: the record is cut at packet 5
    [[5, false, JA4.ja4, JA4S.ja4s, T0 + 100, T0 + 500]],
  );
  t.equal(stats.flows_closed, 1, 'the FIN exchange after the record still counts as a close');
  t.equal(stats.packets, 9);
});

t.test('a flow without a TLS hello closes on FIN both ways and is reported closed', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'closed.pcap', (c) => {
    c.handshake();
    c.send(true, Buffer.from('not a protocol we know'));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.same(
    records.map((r) => [r.packets, r.closed, r.ja4t, r.ja4ts, r.ja4 ?? null]),
    [[6, true, JA4T, JA4TS, null]],
  );
  t.equal(stats.flows_closed, 1);
});

t.test('sequence numbers wrapping past 2^32 inside the ClientHello and ServerHello', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'wrap.pcap');
  const w = new PcapWriter(file);
  const c = new TcpConversation(w, CLIENT, SERVER, T0, [0xffffff80, 0xfffffff0]);
  c.handshake();
  c.send(true, CH_RECORD, 100);
  c.send(false, SH_RECORD, 40);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.same(records.map((r) => [r.ja4, r.ja4s]), [[JA4.ja4, JA4S.ja4s]]);
  const a = anomalies(stats);
  t.same(a.actual, a.expected);
});

t.test('a ClientHello sent one byte per segment', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'one-byte.pcap', (c) => {
    c.handshake();
    c.send(true, CH_RECORD, 1);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.same(records.map((r) => [r.ja4, r.ja4s, r.packets]), [[JA4.ja4, JA4S.ja4s, 3 + CH_RECORD.length + 1]]);
  t.equal(stats.tls_client_hellos, 1);
});

t.test('port reuse after RST: the next SYN starts a new stream', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'rst-reuse.pcap');
  const w = new PcapWriter(file);
  const first = new TcpConversation(w, CLIENT, SERVER, T0, [1000, 5000]);
  first.handshake();
  first.packet(true, 0x04 | TCP_ACK); // RST
  const second = new TcpConversation(w, CLIENT, SERVER, first.tsUs + 100, [424242, 535353]);
  second.handshake();
  second.send(true, CH_RECORD);
  second.send(false, SH_RECORD);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.same(
    records.map((r) => [r.stream, r.closed, r.packets, r.ja4 ?? null]),
    [
      [0, true, 4, null],
      [1, false, 5, JA4.ja4],
    ],
  );
  t.equal(stats.flows_closed, 1);
});

t.test('TCP Fast Open: a ClientHello carried in the SYN is fingerprinted', async (t) => {
  // The SYN consumes sequence number ISN; its data starts at ISN + 1.
  const dir = scratchDir(t);
  const file = capture(dir, 'tfo.pcap', (c) => {
    c.packet(true, TCP_SYN, CH_RECORD, { options: WINDOWS_SYN_OPTIONS, window: 64240 });
    c.packet(false, TCP_SYN | TCP_ACK, undefined, { options: LINUX_SYN_OPTIONS, window: 65160 });
    c.packet(true, TCP_ACK);
    c.send(false, SH_RECORD);
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records[0]?.ja4, JA4.ja4, 'JA4 of the SYN-borne ClientHello');
  t.equal(stats.tcp_overlaps, 0, 'the SYN data is not an overlap');
  t.equal(records[0]?.ja4t, JA4T, 'JA4T from the SYN');
  t.equal(records[0]?.ja4s, JA4S.ja4s);
});

t.test('a repeated SYN with a new ISN: the ISN the SYN-ACK acknowledges is the one used', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'new-isn.pcap');
  const w = new PcapWriter(file);
  // First attempt: SYN with ISN 1000, unanswered.
  new TcpConversation(w, CLIENT, SERVER, T0, [1000, 5000]).packet(true, TCP_SYN, undefined, { options: WINDOWS_SYN_OPTIONS, window: 64240 });
  // Second attempt from the same port with ISN 99999: answered.
  const c = new TcpConversation(w, CLIENT, SERVER, T0 + 1_000_000, [99999, 5000]);
  c.handshake();
  c.send(true, CH_RECORD);
  c.send(false, SH_RECORD);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1, 'one stream');
  t.equal(records[0]?.ja4, JA4.ja4, 'JA4');
  t.equal(stats.tcp_out_of_order, 0, 'nothing out of order');
});
