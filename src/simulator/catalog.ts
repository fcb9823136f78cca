// The catalog of real TLS clients: ClientHellos captured from real software
// (data/simulator/client-hellos.json, extracted by extract-hellos.mjs from
// the loopback captures in data/simulator/captures/ and FoxIO's conformance
// captures), each with the server flight the simulated Apache answers.
//
// The fingerprints are never written by hand: at load time every hello (with
// and without SNI) and every operating system's SYN goes through the real
// engine once, over a pcap built by the same packet plan the simulator uses,
// and the engine's values become the templates of the TLS events.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../capture/pcap-writer.js';
import { readPcap } from '../capture/pcap-reader.js';
import type { FlowRecord } from '../capture/flow-record.js';
import { PcapConnectionWriter, tlsHandshake, type HandshakeTiming } from './packets.js';
import { TCP_PROFILES, type OsName } from './tcp-profiles.js';
import {
  CIPHER_NAMES,
  handshakeRecords,
  negotiate,
  parseClientHello,
  serverFlight,
  withServerName,
  type Negotiated,
  type ParsedClientHello,
} from './tls-bytes.js';

export const SIMULATOR_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'simulator');

export type StackName =
  | 'chrome'
  | 'chromium-headless'
  | 'firefox'
  | 'safari-legacy'
  | 'curl'
  | 'python-requests'
  | 'node-https'
  | 'node-fetch'
  | 'openssl'
  | 'go';

/** The engine's view of one hello, with or without SNI. */
export interface HelloVariant {
  /** `,"ja4":...` through `,"ja3s_r":...` in the engine's field order */
  fingerprintJson: string;
  ja4: string;
}

export interface TlsTemplate {
  stack: StackName;
  /** where the hello was captured: file and stream */
  source: string;
  hello: Buffer;
  parsed: ParsedClientHello;
  negotiated: Negotiated;
  flight: Buffer;
  flightReportOffset: number;
  withSni: HelloVariant;
  noSni: HelloVariant;
  /** `,"tls_certs":[...]` (TLS 1.2: the certificate is in the clear), else "" */
  certsJson: string;
  /** mod_ssl's SSL_PROTOCOL and SSL_CIPHER */
  protocol: 'TLSv1.3' | 'TLSv1.2';
  cipherName: string;
  /** the ClientHello record with server_name = host (built on first use) */
  helloRecords(host: string | null): Buffer;
}

export interface Catalog {
  stacks: ReadonlyMap<StackName, readonly TlsTemplate[]>;
  /** JA4T of each operating system's SYN */
  ja4t: ReadonlyMap<OsName, string>;
  /** JA4TS of the server's SYN-ACK */
  ja4ts: string;
}

interface HelloEntry {
  stack: StackName;
  source: string;
  stream: number;
  client_hello: string;
}

/** A fixed, mid-range timing for the catalog's own connections (no field read here depends on it). */
const CATALOG_TIMING: HandshakeTiming = { synAckDelay: 40, rtt: 20000, clientDelay: 50, serverDelay: 500 };
const CANONICAL_HOST = 'www.example.com';

function fingerprintJson(r: FlowRecord): string {
  let s = '';
  const put = (k: keyof FlowRecord) => {
    const v = r[k];
    if (v !== undefined) s += `,"${k}":${JSON.stringify(v)}`;
  };
  for (const k of ['ja4', 'ja4_r', 'ja4_o', 'ja4_ro', 'ja3', 'ja3_r', 'tls_version', 'alpn', 'ja4s', 'ja4s_r', 'ja3s', 'ja3s_r'] as const) put(k);
  return s;
}

let cached: Promise<Catalog> | undefined;

/** The catalog, computed once per process (a few milliseconds of engine time). */
export function loadCatalog(): Promise<Catalog> {
  cached ??= buildCatalog();
  return cached;
}

async function buildCatalog(): Promise<Catalog> {
  const file = JSON.parse(readFileSync(join(SIMULATOR_DATA_DIR, 'client-hellos.json'), 'utf8')) as { entries: HelloEntry[] };
  const certificate = readFileSync(join(SIMULATOR_DATA_DIR, 'server-cert.der'));
  const random = Buffer.alloc(32, 0x3c);
  const osNames = Object.keys(TCP_PROFILES) as OsName[];

  const dir = mkdtempSync(join(tmpdir(), 'ja4-sim-catalog-'));
  const pcap = join(dir, 'catalog.pcap');
  const w = new PcapWriter(pcap);
  let n = 0;
  // One connection per hello and variant, then one per operating system:
  // the engine numbers streams in this order.
  const connect = (hello: Buffer, flight: { bytes: Buffer; reportOffset: number }, os: OsName) => {
    const t0 = 1_700_000_000_000_000 + n * 1_000_000;
    const ends = {
      clientIp: `10.99.${n >> 8}.${n & 0xff}`,
      clientPort: 40000 + n,
      serverIp: '192.0.2.10',
      serverPort: 443,
      clientTtl: TCP_PROFILES[os].ttl,
      tcp: TCP_PROFILES[os],
    };
    const plan = tlsHandshake(t0, CATALOG_TIMING, ends.tcp, handshakeRecords(hello, 0x0301), flight.bytes, flight.reportOffset);
    const cw = new PcapConnectionWriter(w, ends, 1000 + n, 5000 + n);
    for (const p of plan.packets) cw.write(p);
    n++;
  };
  const prepared = file.entries.map((e) => {
    const hello = Buffer.from(e.client_hello, 'hex');
    const parsed = parseClientHello(hello);
    const negotiated = negotiate(parsed);
    const flight = serverFlight(parsed, negotiated, certificate, random);
    return { e, hello, parsed, negotiated, flight };
  });
  for (const p of prepared) {
    connect(withServerName(p.hello, CANONICAL_HOST), p.flight, 'linux');
    connect(withServerName(p.hello, null), p.flight, 'linux');
  }
  for (const os of osNames) connect(withServerName(prepared[0]!.hello, CANONICAL_HOST), prepared[0]!.flight, os);
  w.close();
  let records: FlowRecord[];
  try {
    records = await readPcap(pcap);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const byStream = new Map(records.map((r) => [r.stream, r]));
  const record = (stream: number): FlowRecord => {
    const r = byStream.get(stream);
    if (!r?.ja4 || !r.ja4s) throw new Error(`simulator catalog: the engine found no TLS handshake in connection ${stream}`);
    return r;
  };

  const stacks = new Map<StackName, TlsTemplate[]>();
  prepared.forEach((p, i) => {
    const withSni = record(2 * i);
    const noSni = record(2 * i + 1);
    const helloCache = new Map<string | null, Buffer>();
    const t: TlsTemplate = {
      stack: p.e.stack,
      source: `${p.e.source}#${p.e.stream}`,
      hello: p.hello,
      parsed: p.parsed,
      negotiated: p.negotiated,
      flight: p.flight.bytes,
      flightReportOffset: p.flight.reportOffset,
      withSni: { fingerprintJson: fingerprintJson(withSni), ja4: withSni.ja4! },
      noSni: { fingerprintJson: fingerprintJson(noSni), ja4: noSni.ja4! },
      certsJson: withSni.tls_certs ? `,"tls_certs":${JSON.stringify(withSni.tls_certs)}` : '',
      protocol: p.negotiated.tls13 ? 'TLSv1.3' : 'TLSv1.2',
      cipherName: CIPHER_NAMES[p.negotiated.cipher] ?? 'UNKNOWN',
      helloRecords(host) {
        let b = helloCache.get(host);
        if (!b) {
          b = handshakeRecords(withServerName(p.hello, host), 0x0301);
          helloCache.set(host, b);
        }
        return b;
      },
    };
    const list = stacks.get(t.stack) ?? [];
    list.push(t);
    stacks.set(t.stack, list);
  });
  const ja4t = new Map<OsName, string>();
  const base = 2 * prepared.length;
  osNames.forEach((os, i) => ja4t.set(os, record(base + i).ja4t ?? ''));
  const ja4ts = record(base).ja4ts ?? '';
  return { stacks, ja4t, ja4ts };
}
