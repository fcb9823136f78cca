// Temp-dir captures for the engine tests: a scratch folder per test, the
// standard endpoints and hellos, and a reader that returns the records
// together with the engine counters.
import { PcapReader } from '../../src/capture/pcap-reader.js';
import type { EngineOptions } from '../../src/capture/engine-options.js';
import type { FlowRecord } from '../../src/capture/flow-record.js';
import type { NativeCounters } from '../../src/native/addon.js';
import { EXT_EC_POINT_FORMATS, EXT_KEY_SHARE, EXT_SUPPORTED_GROUPS, type ClientHelloSpec, type ServerHelloSpec } from './tls-messages.js';

export { scratchDir } from './scratch-dir.js';

export const CLIENT = { ip: '192.0.2.10', port: 50123 };
export const SERVER = { ip: '198.51.100.20', port: 443 };
export const CLIENT6 = { ip: '2001:db8::10', port: 50123 };
export const SERVER6 = { ip: '2001:db8:1::20', port: 443 };

/** Capture time of the first packet of most tests: 2024-01-01T00:00:00Z. */
export const T0 = 1_704_067_200_000_000;

/** A Chrome-like TLS 1.3 ClientHello with GREASE, SNI, ALPN h2, sigalgs and supported_versions. */
export const CHROME_HELLO: ClientHelloSpec = {
  ciphers: [0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  sni: 'www.example.com',
  alpn: ['h2', 'http/1.1'],
  sigalgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
  supportedVersions: [0x3a3a, 0x0304, 0x0303],
  extensions: [
    { type: 0x1a1a, data: Buffer.alloc(0) },
    { type: 0x0000 },
    { type: 0x0017, data: Buffer.alloc(0) },
    { type: 0xff01, data: Buffer.from([0]) },
    { type: EXT_SUPPORTED_GROUPS, data: Buffer.from([0, 6, 0x0a, 0x0a, 0, 0x1d, 0, 0x17]) },
    { type: EXT_EC_POINT_FORMATS, data: Buffer.from([1, 0]) },
    { type: 0x0023, data: Buffer.alloc(0) },
    { type: 0x0010 },
    { type: 0x0005, data: Buffer.from([1, 0, 0, 0, 0]) },
    { type: 0x000d },
    { type: 0x0012, data: Buffer.alloc(0) },
    { type: EXT_KEY_SHARE, data: Buffer.concat([Buffer.from([0, 0x24, 0, 0x1d, 0, 0x20]), Buffer.alloc(32, 0x44)]) },
    { type: 0x002d, data: Buffer.from([1, 1]) },
    { type: 0x002b },
    { type: 0x4a4a, data: Buffer.from([0]) },
  ],
};

/** A TLS 1.3 ServerHello answering CHROME_HELLO. */
export const TLS13_SERVER_HELLO: ServerHelloSpec = {
  cipher: 0x1301,
  extensions: [
    { type: EXT_KEY_SHARE, data: Buffer.concat([Buffer.from([0, 0x1d, 0, 0x20]), Buffer.alloc(32, 0x55)]) },
    { type: 0x002b },
  ],
  supportedVersion: 0x0304,
};

/** A TLS 1.2 ServerHello with ALPN (the server side stays cleartext after it). */
export const TLS12_SERVER_HELLO: ServerHelloSpec = {
  cipher: 0xc02f,
  extensions: [{ type: 0xff01, data: Buffer.from([0]) }, { type: 0x0010 }, { type: 0x000b, data: Buffer.from([1, 0]) }],
  alpn: 'h2',
};

export interface ReadResult {
  records: FlowRecord[];
  stats: NativeCounters;
  /** active_flows of every batch's stats snapshot, in order */
  activeFlows: number[];
}

/** Reads a capture with PcapReader and returns records and final counters. */
export async function readWithStats(file: string, options: EngineOptions = {}): Promise<ReadResult> {
  const reader = new PcapReader(file, options);
  const records: FlowRecord[] = [];
  const activeFlows: number[] = [];
  try {
    for await (const batch of reader) {
      records.push(...batch);
      activeFlows.push(reader.stats().active_flows ?? -1);
    }
    return { records, stats: reader.stats(), activeFlows };
  } finally {
    reader.close();
  }
}

/** Counters that say something was wrong with the input. */
export const ANOMALY_COUNTERS = [
  'non_ip',
  'unsupported_linktype',
  'truncated_link',
  'truncated_ip',
  'bad_ip_header',
  'truncated_ipv6_ext',
  'ip_fragments',
  'truncated_tcp',
  'bad_tcp_header',
  'truncated_udp',
  'tunnel_too_deep',
  'bad_tunnel_header',
  'tcp_out_of_order',
  'tcp_retransmissions',
  'tcp_overlaps',
  'tcp_buffer_overflow',
  'handshake_overflow',
  'malformed_client_hello',
  'malformed_server_hello',
  'malformed_certificate',
  'malformed_tls_record',
  'malformed_quic',
  'malformed_http',
] as const;

/** The anomaly counters as an object, for one exact t.same() comparison. */
export function anomalies(stats: NativeCounters, overrides: Record<string, number> = {}): { actual: Record<string, number>; expected: Record<string, number> } {
  const actual: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const k of ANOMALY_COUNTERS) {
    actual[k] = stats[k] ?? -1;
    expected[k] = overrides[k] ?? 0;
  }
  return { actual, expected };
}
