// Packet decoding: the same TLS connection under every supported link type
// and encapsulation gives the same fingerprints and the inner addresses;
// malformed frames are counted, each under its own counter, and do not
// disturb the flows around them.
import t from 'tap';
import { join } from 'node:path';
import { PcapWriter, TCP_ACK, TCP_PSH, TCP_SYN, TcpConversation, tcpFrame, udpFrame, type Endpoint } from '../src/capture/pcap-writer.js';
import { clientHello, serverHello, tlsRecords } from './helpers/tls-messages.js';
import { expectedJa4, expectedJa4s } from './helpers/expected-fingerprints.js';
import { CHROME_HELLO, CLIENT, CLIENT6, SERVER, SERVER6, T0, TLS13_SERVER_HELLO, anomalies, readWithStats, scratchDir } from './helpers/captures.js';
import {
  EncapsulatingWriter,
  bsdNull,
  ethernet,
  gre,
  ipInIp,
  ipOf,
  ipv4,
  linuxSll,
  linuxSll2,
  vxlan,
  withIpv6Extensions,
  type TunnelEnds,
} from './helpers/link-layers.js';

const CH_RECORD = tlsRecords(clientHello(CHROME_HELLO));
const SH_RECORD = tlsRecords(serverHello(TLS13_SERVER_HELLO));
const JA4 = expectedJa4(CHROME_HELLO).ja4;
const JA4S = expectedJa4s(TLS13_SERVER_HELLO).ja4s;

const ENDS: TunnelEnds = { clientSide: '10.0.0.1', serverSide: '10.0.0.2', ttl: 33 };
const CLIENT_V4 = Buffer.from(CLIENT.ip.split('.').map(Number));
const CLIENT_V6 = ipOf(tcpFrame({ src: CLIENT6, dst: SERVER6, seq: 0, ack: 0, flags: 0 })).subarray(8, 24);

/** The standard connection: handshake, ClientHello, ServerHello, close (8 packets). */
function tlsConversation(w: PcapWriter, client: Endpoint, server: Endpoint): void {
  const c = new TcpConversation(w, client, server, T0);
  c.handshake();
  c.send(true, CH_RECORD);
  c.send(false, SH_RECORD);
  c.close();
}

interface Variant {
  name: string;
  linktype: number;
  v6?: boolean;
  encapsulate: (eth: Buffer) => Buffer;
  /** TTL the engine should report (the outermost IP header's) */
  ttl: number;
  tunneled?: boolean;
  todo?: string;
}

const variants: Variant[] = [
  { name: 'Ethernet', linktype: 1, encapsulate: (f) => f, ttl: 64 },
  { name: 'Ethernet, IPv6', linktype: 1, v6: true, encapsulate: (f) => f, ttl: 64 },
  { name: 'Linux SLL (113)', linktype: 113, encapsulate: (f) => linuxSll(ipOf(f)), ttl: 64 },
  { name: 'Linux SLL, IPv6', linktype: 113, v6: true, encapsulate: (f) => linuxSll(ipOf(f)), ttl: 64 },
  { name: 'Linux SLL2 (276)', linktype: 276, encapsulate: (f) => linuxSll2(ipOf(f)), ttl: 64 },
  { name: 'Linux SLL2, IPv6', linktype: 276, v6: true, encapsulate: (f) => linuxSll2(ipOf(f)), ttl: 64 },
  { name: 'raw IP (101)', linktype: 101, encapsulate: ipOf, ttl: 64 },
  { name: 'raw IP (101), IPv6', linktype: 101, v6: true, encapsulate: ipOf, ttl: 64 },
  { name: 'LINKTYPE_IPV4 (228)', linktype: 228, encapsulate: ipOf, ttl: 64 },
  { name: 'LINKTYPE_IPV6 (229)', linktype: 229, v6: true, encapsulate: ipOf, ttl: 64 },
  { name: 'BSD null, little-endian family', linktype: 0, encapsulate: (f) => bsdNull(ipOf(f), 'le'), ttl: 64 },
  { name: 'BSD null, big-endian family', linktype: 0, encapsulate: (f) => bsdNull(ipOf(f), 'be'), ttl: 64 },
  { name: 'BSD null, IPv6 family 30 (macOS) little-endian', linktype: 0, v6: true, encapsulate: (f) => bsdNull(ipOf(f), 'le', 30), ttl: 64 },
  { name: 'BSD null, IPv6 family 24 (NetBSD) big-endian', linktype: 0, v6: true, encapsulate: (f) => bsdNull(ipOf(f), 'be', 24), ttl: 64 },
  { name: 'BSD null, IPv6 family 28 (FreeBSD) little-endian', linktype: 0, v6: true, encapsulate: (f) => bsdNull(ipOf(f), 'le', 28), ttl: 64 },
  { name: 'OpenBSD loop (108), network order', linktype: 108, encapsulate: (f) => bsdNull(ipOf(f), 'be'), ttl: 64 },
  {
    // Short frames are padded to 60 bytes on the wire: the IP length, not
    // the frame length, says where the TCP payload ends.
    name: 'Ethernet padded to 60 bytes',
    linktype: 1,
    encapsulate: (f) => (f.length < 60 ? Buffer.concat([f, Buffer.alloc(60 - f.length, 0xaa)]) : f),
    ttl: 64,
  },
  {
    name: 'Ethernet padded to 60 bytes, IPv6',
    linktype: 1,
    v6: true,
    encapsulate: (f) => (f.length < 80 ? Buffer.concat([f, Buffer.alloc(80 - f.length, 0xaa)]) : f),
    ttl: 64,
  },
  { name: 'Ethernet + 802.1Q', linktype: 1, encapsulate: (f) => ethernet(ipOf(f), [[0x8100, 100]]), ttl: 64 },
  { name: 'Ethernet + QinQ (0x88a8 then 0x8100)', linktype: 1, encapsulate: (f) => ethernet(ipOf(f), [[0x88a8, 10], [0x8100, 20]]), ttl: 64 },
  { name: 'Ethernet + old QinQ (0x9100 then 0x8100), IPv6', linktype: 1, v6: true, encapsulate: (f) => ethernet(ipOf(f), [[0x9100, 10], [0x8100, 20]]), ttl: 64 },
  {
    name: 'IPv6 with hop-by-hop + destination-options headers',
    linktype: 1,
    v6: true,
    encapsulate: (f) => ethernet(withIpv6Extensions(ipOf(f), [0, 60])),
    ttl: 64,
  },
  { name: 'GRE (IPv4 in GRE in IPv4)', linktype: 1, encapsulate: (f) => ethernet(gre(ipOf(f), CLIENT_V4, ENDS)), ttl: 33, tunneled: true },
  { name: 'GRE with key', linktype: 1, encapsulate: (f) => ethernet(gre(ipOf(f), CLIENT_V4, ENDS, 0xdeadbeef)), ttl: 33, tunneled: true },
  { name: 'GRE carrying IPv6', linktype: 1, v6: true, encapsulate: (f) => ethernet(gre(ipOf(f), CLIENT_V6, ENDS)), ttl: 33, tunneled: true },
  { name: 'VXLAN', linktype: 1, encapsulate: (f) => ethernet(vxlan(f, CLIENT_V4, ENDS)), ttl: 33, tunneled: true },
  { name: 'VXLAN over raw IP', linktype: 101, encapsulate: (f) => vxlan(f, CLIENT_V4, ENDS), ttl: 33, tunneled: true },
  {
    name: 'IP-in-IP (protocol 4)',
    linktype: 1,
    encapsulate: (f) => ethernet(ipInIp(ipOf(f), CLIENT_V4, ENDS)),
    ttl: 33,
    tunneled: true,
  },
  {
    name: 'IPv6-in-IPv4 (protocol 41)',
    linktype: 1,
    v6: true,
    encapsulate: (f) => ethernet(ipInIp(ipOf(f), CLIENT_V6, ENDS)),
    ttl: 33,
    tunneled: true,
  },
];

for (const v of variants) {
  t.test(`${v.name}: same JA4/JA4S, inner addresses, outer TTL`, async (t) => {
    const dir = scratchDir(t);
    const file = join(dir, 'flow.pcap');
    const w = new EncapsulatingWriter(file, v.linktype, v.encapsulate);
    const [client, server] = v.v6 ? [CLIENT6, SERVER6] : [CLIENT, SERVER];
    tlsConversation(w, client, server);
    w.close();
    const { records, stats } = await readWithStats(file);
    t.same(
      records.map((r) => ({
        transport: r.transport,
        src: r.src,
        src_port: r.src_port,
        dst: r.dst,
        dst_port: r.dst_port,
        ja4: r.ja4,
        ja4s: r.ja4s,
        client_ttl: r.client_ttl,
        ja4l_c: r.ja4l_c,
        ja4l_s: r.ja4l_s,
      })),
      [
        {
          transport: 'tcp',
          src: client.ip,
          src_port: client.port,
          dst: server.ip,
          dst_port: server.port,
          ja4: JA4,
          ja4s: JA4S,
          client_ttl: v.ttl,
          // 100 us between handshake packets: half of it, then the TTL
          ja4l_c: `50_${v.ttl}`,
          ja4l_s: `50_${v.ttl}`,
        },
      ],
    );
    t.equal(stats.linktype, v.linktype === 101 ? 12 : v.linktype, 'linktype as libpcap reports it (DLT)');
    t.equal(stats.packets, 8);
    t.equal(stats.tcp_packets, 8);
    const a = anomalies(stats);
    t.same(a.actual, a.expected, 'no anomaly counted');
    t.equal(stats.tunneled_packets, v.tunneled ? 8 : 0, 'tunneled_packets', v.todo ? { todo: v.todo } : {});
  });
}

t.test('malformed frames each bump their own counter and leave the flow intact', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'malformed.pcap');
  const w = new PcapWriter(file);
  const c = new TcpConversation(w, CLIENT, SERVER, T0);
  const seg = (flags = TCP_ACK | TCP_PSH, payload?: Buffer) =>
    tcpFrame({ src: CLIENT, dst: SERVER, seq: 1, ack: 1, flags, payload });
  const bad: [string, Buffer][] = [];
  const dataSeg = seg(TCP_ACK | TCP_PSH, Buffer.from('0123456789abcdef'));
  // truncated_ip: an IPv4 ethertype followed by 10 bytes
  bad.push(['IPv4 header cut at 10 bytes', dataSeg.subarray(0, 14 + 10)]);
  // bad_ip_header: IHL 4 (16 bytes)
  const ihl4 = Buffer.from(dataSeg);
  ihl4[14] = 0x44;
  bad.push(['IHL 4', ihl4]);
  // bad_ip_header: version 6 nibble under the IPv4 ethertype
  const v6nibble = Buffer.from(dataSeg);
  v6nibble[14] = 0x65;
  bad.push(['version 6 in an IPv4 frame', v6nibble]);
  // truncated_ip: IHL 15 (60 bytes) but only 20 + 16 + 20 captured... cut to 40
  const ihl15 = Buffer.from(dataSeg.subarray(0, 14 + 40));
  ihl15[14] = 0x4f;
  bad.push(['IHL 15 in a 40-byte packet', ihl15]);
  // bad_tcp_header: data offset 4 (16 bytes)
  const doff4 = Buffer.from(dataSeg);
  doff4[14 + 20 + 12] = 0x40;
  bad.push(['TCP data offset 4', doff4]);
  // truncated_tcp: 12 bytes of TCP header
  bad.push(['TCP header cut at 12 bytes', dataSeg.subarray(0, 14 + 20 + 12)]);
  // truncated_tcp: data offset 15 (60 bytes) with 20 + 16 bytes present
  const doff15 = Buffer.from(dataSeg);
  doff15[14 + 20 + 12] = 0xf0;
  bad.push(['TCP data offset 15 past the end', doff15]);
  // ip_fragments: a non-first IPv4 fragment (offset 1480 bytes)
  bad.push(['non-first IPv4 fragment', ethernet(ipv4(CLIENT.ip, SERVER.ip, 6, Buffer.alloc(40, 0xab), 64, 1480 / 8))]);
  // ip_fragments: a non-first IPv6 fragment (fragment header, offset 1448 bytes)
  const v6frag = Buffer.from(ipOf(tcpFrame({ src: CLIENT6, dst: SERVER6, seq: 1, ack: 1, flags: TCP_ACK, payload: Buffer.alloc(24) })));
  const fragHdr = Buffer.from([6, 0, (1448 >> 8) & 0xff, 1448 & 0xf8, 0, 0, 0, 1]);
  v6frag[6] = 44;
  bad.push([
    'non-first IPv6 fragment',
    ethernet(Buffer.concat([v6frag.subarray(0, 4), Buffer.from([0, 8 + v6frag.length - 40]), v6frag.subarray(6, 40), fragHdr, v6frag.subarray(40)])),
  ]);
  // truncated_ip: IPv6 ethertype, 30 bytes
  bad.push(['IPv6 header cut at 30 bytes', ethernet(Buffer.alloc(30, 0x60))]);
  // truncated_ipv6_ext: hop-by-hop announced, 4 bytes follow
  const hbh = Buffer.from(ipOf(tcpFrame({ src: CLIENT6, dst: SERVER6, seq: 1, ack: 1, flags: TCP_ACK })).subarray(0, 44));
  hbh[6] = 0;
  hbh.writeUInt16BE(4, 4);
  bad.push(['IPv6 hop-by-hop header cut short', ethernet(hbh)]);
  // truncated_link: 10 bytes of Ethernet
  bad.push(['10-byte Ethernet frame', dataSeg.subarray(0, 10)]);
  // non_ip: ARP
  bad.push(['ARP', Buffer.concat([dataSeg.subarray(0, 12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)])]);
  // truncated_udp: 6 bytes of UDP header
  bad.push(['UDP header cut at 6 bytes', udpFrame(CLIENT, SERVER, Buffer.alloc(0)).subarray(0, 14 + 20 + 6)]);

  c.handshake();
  // The bad frames go between the handshake and the ClientHello.
  for (const [, frame] of bad) w.write(frame, (c.tsUs += 10));
  c.send(true, CH_RECORD.subarray(0, 150));
  c.send(true, CH_RECORD.subarray(150));
  c.send(false, SH_RECORD);
  w.close();

  const { records, stats } = await readWithStats(file);
  t.same(
    records.map((r) => [r.src, r.dst, r.ja4, r.ja4s]),
    [[CLIENT.ip, SERVER.ip, JA4, JA4S]],
    'the connection around the bad frames is fingerprinted',
  );
  const a = anomalies(stats, {
    truncated_ip: 3,
    bad_ip_header: 2,
    bad_tcp_header: 1,
    truncated_tcp: 2,
    ip_fragments: 2,
    truncated_ipv6_ext: 1,
    truncated_link: 1,
    non_ip: 1,
    truncated_udp: 1,
  });
  t.same(a.actual, a.expected, 'each malformed frame counted once, under its own name');
  t.equal(stats.packets, 6 + bad.length);
  t.equal(stats.tcp_packets, 6, 'only the good segments reach TCP');
  t.equal(stats.udp_packets, 0);
  // IP headers reached: 6 good + doff4 + TCP cut + doff15 + 2 fragments + hop-by-hop + UDP cut
  t.equal(stats.ip_packets, 6 + 7);
  t.equal(stats.flows_created, 1);
});

t.test('raw IP link: an empty frame is truncated_ip, version nibble 5 is bad_ip_header', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'raw-bad.pcap');
  const w = new PcapWriter(file, 101);
  w.write(Buffer.alloc(0), T0);
  w.write(Buffer.concat([Buffer.from([0x55]), Buffer.alloc(39)]), T0 + 1);
  w.write(ipOf(tcpFrame({ src: CLIENT, dst: SERVER, seq: 7, ack: 0, flags: TCP_SYN })), T0 + 2);
  w.close();
  const { records, stats } = await readWithStats(file);
  const a = anomalies(stats, { truncated_ip: 1, bad_ip_header: 1 });
  t.same(a.actual, a.expected);
  t.same(records.map((r) => [r.src, r.ja4t]), [[CLIENT.ip, '64240_00_00_00']]);
});

t.test('BSD null link with an unknown address family counts non_ip', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'null-bad.pcap');
  const w = new PcapWriter(file, 0);
  const ip = ipOf(tcpFrame({ src: CLIENT, dst: SERVER, seq: 7, ack: 0, flags: TCP_SYN }));
  const fam = Buffer.alloc(4);
  fam.writeUInt32LE(7); // AF_? 7: not IP
  w.write(Buffer.concat([fam, ip]), T0);
  w.write(Buffer.from([2, 0]), T0 + 1); // shorter than the family field
  w.close();
  const { records, stats } = await readWithStats(file);
  const a = anomalies(stats, { non_ip: 1, truncated_link: 1 });
  t.same(a.actual, a.expected);
  t.same(records, []);
});

t.test('tunnel depth: four nested IP-in-IP headers decode, a fifth counts tunnel_too_deep', async (t) => {
  const dir = scratchDir(t);
  const hop = Buffer.from(ENDS.clientSide.split('.').map(Number));
  const nest = (levels: number) => (f: Buffer) => {
    let ip = ipOf(f);
    for (let i = 0; i < levels; i++) ip = ipInIp(ip, i === 0 ? CLIENT_V4 : hop, ENDS);
    return ethernet(ip);
  };
  for (const [levels, want] of [
    [4, [[CLIENT.ip, SERVER.ip, JA4, 33]]],
    [5, []],
  ] as const) {
    const file = join(dir, `nest-${levels}.pcap`);
    const w = new EncapsulatingWriter(file, 1, nest(levels));
    tlsConversation(w, CLIENT, SERVER);
    w.close();
    const { records, stats } = await readWithStats(file);
    t.same(records.map((r) => [r.src, r.dst, r.ja4, r.client_ttl]), want, `${levels} levels: records`);
    t.equal(stats.tunnel_too_deep, levels === 5 ? 8 : 0, `${levels} levels: tunnel_too_deep`);
    // Every IP header reached is counted; past the limit the innermost is not reached.
    t.equal(stats.ip_packets, 8 * Math.min(levels + 1, 5), `${levels} levels: IP headers reached`);
  }
});

t.test('GRE inside GRE: inner addresses, outermost TTL, both tunnel layers counted', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'gre-gre.pcap');
  const hop = Buffer.from(ENDS.clientSide.split('.').map(Number));
  const w = new EncapsulatingWriter(file, 1, (f) =>
    ethernet(gre(gre(ipOf(f), CLIENT_V4, ENDS), hop, { clientSide: '172.16.0.1', serverSide: '172.16.0.2', ttl: 20 })),
  );
  tlsConversation(w, CLIENT, SERVER);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.same(records.map((r) => [r.src, r.dst, r.ja4, r.client_ttl]), [[CLIENT.ip, SERVER.ip, JA4, 20]]);
  t.equal(stats.tunneled_packets, 16);
});

t.test('VXLAN past the tunnel depth limit is counted as too deep, not decoded as a UDP flow', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'vxlan-deep.pcap');
  const hop = Buffer.from(ENDS.clientSide.split('.').map(Number));
  // VXLAN inside four IP-in-IP layers: the VXLAN would be the fifth tunnel.
  const w = new EncapsulatingWriter(file, 1, (f) => {
    let ip = vxlan(f, CLIENT_V4, ENDS);
    for (let i = 0; i < 4; i++) ip = ipInIp(ip, hop, ENDS);
    return ethernet(ip);
  });
  tlsConversation(w, CLIENT, SERVER);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.equal(stats.tunnel_too_deep, 8, 'tunnel_too_deep');
  t.equal(stats.udp_packets, 0, 'no outer UDP flow');
  t.same(records, [], 'nothing reported');
});

t.test('a ClientHello segment split into IPv4 fragments is reassembled, in any order', async (t) => {
  const dir = scratchDir(t);
  for (const order of [[0, 1, 2], [2, 0, 1]]) {
    const file = join(dir, `fragments-${order.join('')}.pcap`);
    const w = new PcapWriter(file);
    const c = new TcpConversation(w, CLIENT, SERVER, T0);
    c.handshake();
    // The whole TCP segment (header + ClientHello record), cut at 8-byte
    // multiples into three fragments (the first two with MF set).
    const l4 = ipOf(tcpFrame({ src: CLIENT, dst: SERVER, seq: c.nextSeq(true), ack: c.nextSeq(false), flags: TCP_ACK | TCP_PSH, payload: CH_RECORD })).subarray(20);
    const third = Math.floor(l4.length / 24) * 8;
    const cuts = [0, third, 2 * third, l4.length];
    const frames = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const more = i + 2 < cuts.length ? 0x2000 : 0;
      frames.push(ethernet(ipv4(CLIENT.ip, SERVER.ip, 6, l4.subarray(cuts[i], cuts[i + 1]), 64, more | (cuts[i]! / 8))));
    }
    for (const i of order) w.write(frames[i]!, (c.tsUs += 100));
    c.advance(true, CH_RECORD.length);
    c.send(false, SH_RECORD);
    w.close();
    const { records, stats } = await readWithStats(file);
    const label = `order ${order.join(',')}`;
    t.equal(stats.ip_fragments, 3, `${label}: three fragments`);
    t.equal(stats.ip_reassembled, 1, `${label}: one datagram rebuilt`);
    t.equal(stats.tcp_packets, 3 + 1 + 1, `${label}: handshake, the reassembled segment, the ServerHello`);
    t.equal(records.length, 1);
    t.equal(records[0]!.ja4s, JA4S);
    t.equal(records[0]!.ja4, JA4, `${label}: JA4 from the reassembled datagram`);
  }
});

t.test('an IPv6 ClientHello segment split with Fragment headers is reassembled', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'fragments6.pcap');
  const w = new PcapWriter(file);
  const c = new TcpConversation(w, CLIENT6, SERVER6, T0);
  c.handshake();
  const ip6 = ipOf(tcpFrame({ src: CLIENT6, dst: SERVER6, seq: c.nextSeq(true), ack: c.nextSeq(false), flags: TCP_ACK | TCP_PSH, payload: CH_RECORD }));
  const fixed = ip6.subarray(0, 40);
  const l4 = ip6.subarray(40);
  const half = Math.floor(l4.length / 16) * 8;
  // RFC 8200 4.5: Next Header, reserved, offset (13 bits) | M, identification.
  const fragment = (off: number, more: boolean, data: Buffer) => {
    const h = Buffer.from(fixed);
    h[6] = 44;
    h.writeUInt16BE(8 + data.length, 4);
    const fh = Buffer.alloc(8);
    fh[0] = 6;
    fh.writeUInt16BE(((off / 8) << 3) | (more ? 1 : 0), 2);
    fh.writeUInt32BE(0xabcdef01, 4);
    return ethernet(Buffer.concat([h, fh, data]));
  };
  w.write(fragment(half, false, l4.subarray(half)), (c.tsUs += 100));
  w.write(fragment(0, true, l4.subarray(0, half)), (c.tsUs += 100));
  c.advance(true, CH_RECORD.length);
  c.send(false, SH_RECORD);
  w.close();
  const { records, stats } = await readWithStats(file);
  t.equal(stats.ip_fragments, 2);
  t.equal(stats.ip_reassembled, 1);
  t.equal(records[0]!.src, CLIENT6.ip);
  t.equal(records[0]!.ja4, JA4, 'JA4 from the reassembled IPv6 datagram');
});

t.test('fragments of a datagram that never completes are dropped and counted', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'fragments-lost.pcap');
  const w = new PcapWriter(file);
  const payload = Buffer.alloc(400, 7);
  // Only the first of two fragments, then traffic 31 s later expires it.
  w.write(ethernet(ipv4(CLIENT.ip, SERVER.ip, 17, payload, 64, 0x2000)), T0);
  w.write(ethernet(ipv4(CLIENT.ip, SERVER.ip, 17, Buffer.concat([Buffer.from([0, 53, 0, 53, 0, 9, 0, 0]), Buffer.from('x')]), 64, 0)), T0 + 31_000_000);
  w.close();
  const { stats } = await readWithStats(file);
  t.equal(stats.ip_fragments, 1);
  t.equal(stats.ip_reassembled, 0);
  t.equal(stats.ip_fragments_dropped, 1, 'expired after 30 s of capture time');
});
