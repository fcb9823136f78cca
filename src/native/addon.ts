// Loads the Node-API addon built by cmake-js (build/Release/ja4.node) and
// describes its surface. Everything native goes through this module.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeCounters {
  [name: string]: number;
}

export interface NativeReadResult {
  records: Buffer;
  done: boolean;
  error?: { code: string; message: string };
}

export interface NativePcapReader {
  read(): Promise<NativeReadResult>;
  stats(): NativeCounters;
  close(): void;
}

export interface NativeEngineOptions {
  batchRecords?: number;
  maxFlows?: number;
  maxBufferedPerDirection?: number;
  maxHandshakeBytes?: number;
  idleTimeoutMs?: number;
  maxHttpPerFlow?: number;
}

/** A batch from a native thread: `count` datagrams or events, newline-separated in `data`. */
export interface NativeBatch {
  data: Buffer;
  count: number;
}

export interface NativeDatagramReceiverOptions {
  path: string;
  seqpacket: boolean;
  mode?: number;
  group?: string;
  maxDatagramBytes?: number;
  batchSize?: number;
  receiveBufferBytes?: number;
}

export interface NativeDatagramReceiver {
  stats(): NativeCounters;
  close(): Promise<void>;
}

export interface NativeDatagramSender {
  send(buf: Buffer, offset?: number, length?: number): boolean;
  stats(): NativeCounters;
  close(): void;
}

/** A batch of event lines from the capture thread; `end` on the last one. */
export interface NativeCaptureBatch extends NativeBatch {
  end: boolean;
}

export interface NativeCaptureOptions extends NativeEngineOptions {
  iface?: string;
  bpf?: string;
  snaplen?: number;
  bufferMb?: number;
  promisc?: boolean;
  files?: string[];
  speed?: number;
  pps?: number;
  max?: boolean;
  loops?: number;
  closeEvents?: boolean;
  eventTag?: boolean;
  sensor?: string;
  flushMs?: number;
}

export interface NativeCaptureStats {
  engine: NativeCounters;
  pcap: { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  replayPackets: number;
  replayBytes: number;
  loop: number;
  fileIndex: number;
  /** bytes of the current file read (replay progress) */
  fileOffset: number;
  elapsedUs: number;
  events: number;
  batches: number;
  finished: boolean;
  error?: { code: string; message: string };
}

export interface NativeCapture {
  stats(): NativeCaptureStats;
  close(): Promise<void>;
}

/** The shape of the records a PcapReader writes (native/core/record_json.h). */
export interface NativeRecordShape {
  /** `ja4 pcap --jsonl`'s shape instead of the full record */
  reference?: boolean;
  raw?: boolean;
  original?: boolean;
}

/**
 * The correlator's native request path (native/core/request_blocks.h;
 * src/correlator/native-requests.ts is its only user and checks its
 * arguments).
 */
export interface NativeRequestStore {
  /** [lines (7 numbers per non-blank line), join strings, their ends]: see native-requests.ts */
  parse(batch: Uint8Array, maxLineBytes: number): [Float64Array, string, Uint32Array];
  parseCanonical(line: Uint8Array, ja4h: string): number;
  /** [lines (9 numbers per non-blank line), join strings, their ends, the flows' TLS columns]: see native-tls-events.ts */
  parseTls(batch: Uint8Array, maxLineBytes: number): [Float64Array, string, Uint32Array, Buffer];
  release(id: number): void;
  addTls(blob: Uint8Array): number;
  releaseTls(id: number): void;
  ingestBlock(records: Int32Array, tls: Int32Array, status: Uint8Array, rows: number): Buffer;
  requestsBlock(records: Int32Array, rows: number): Buffer;
  stats(): { records: number; tls: number };
}

export interface NativeAddon {
  PcapReader: new (path: string, options: NativeEngineOptions, shape?: NativeRecordShape) => NativePcapReader;
  scanPcap(path: string): Promise<{ packets: number; bytes: number }>;
  DatagramReceiver: new (
    options: NativeDatagramReceiverOptions,
    onBatch: (batch: NativeBatch) => void,
  ) => NativeDatagramReceiver;
  DatagramSender: new (path: string, seqpacket: boolean) => NativeDatagramSender;
  Capture: new (options: NativeCaptureOptions, onBatch: (batch: NativeCaptureBatch) => void) => NativeCapture;
  RequestStore: (new () => NativeRequestStore) & { columns(): { ingest: string[]; requests: string[] } };
  /** the blocks of the bodies as one Native block; null when they are better sent as they are (native/core/native_block_merge.h) */
  mergeNativeBlocks(bodies: readonly Uint8Array[]): Buffer | null;
}

const here = dirname(fileURLToPath(import.meta.url));
// src/native or dist/native -> repository (or package) root
const root = join(here, '..', '..');

function locate(): string {
  const candidates = [
    process.env.JA4_ADDON_PATH,
    join(root, 'build', 'Release', 'ja4.node'),
    join(root, 'build', 'Debug', 'ja4.node'),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  for (const p of candidates) if (existsSync(p)) return p;
  throw Object.assign(
    new Error(`native addon not found (looked in ${candidates.join(', ')}); run "npm run build:native"`),
    { code: 'EADDON' },
  );
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(locate()) as NativeAddon;
  }
  return cached;
}
