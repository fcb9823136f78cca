// The messages between the main thread and a correlator worker. A result is
// one ArrayBuffer (so it can be transferred whole): a 4-byte header length,
// the header (JSON: stats and the byte length of each table's rows), then the
// JSONEachRow bytes of http_logs_ingest, http_requests and tls_events.
import type { BatchStats, EncodedRows } from './batch-correlator.js';

export type WorkerTask =
  | { op: 'process'; http?: ArrayBuffer; tls?: ArrayBuffer; nowUs: number }
  | { op: 'flush' };

export interface WorkerResult {
  ingest: Buffer;
  requests: Buffer;
  tlsEvents: Buffer;
  ingestRows: number;
  stats: BatchStats;
}

export function packResult(rows: EncodedRows, stats: BatchStats): ArrayBuffer {
  const lens = [Buffer.byteLength(rows.ingest), Buffer.byteLength(rows.requests), Buffer.byteLength(rows.tlsEvents)];
  const header = Buffer.from(JSON.stringify({ lens, ingestRows: rows.ingestRows, stats }));
  const total = 4 + header.length + lens[0]! + lens[1]! + lens[2]!;
  const out = Buffer.from(new ArrayBuffer(total));
  out.writeUInt32LE(header.length, 0);
  let at = 4 + header.copy(out, 4);
  at += out.write(rows.ingest, at);
  at += out.write(rows.requests, at);
  out.write(rows.tlsEvents, at);
  return out.buffer as ArrayBuffer;
}

export function unpackResult(buf: ArrayBuffer): WorkerResult {
  const b = Buffer.from(buf);
  const hlen = b.readUInt32LE(0);
  const header = JSON.parse(b.toString('utf8', 4, 4 + hlen)) as { lens: [number, number, number]; ingestRows: number; stats: BatchStats };
  let at = 4 + hlen;
  const take = (n: number): Buffer => {
    const s = b.subarray(at, at + n);
    at += n;
    return s;
  };
  return { ingest: take(header.lens[0]), requests: take(header.lens[1]), tlsEvents: take(header.lens[2]), ingestRows: header.ingestRows, stats: header.stats };
}

/**
 * An ArrayBuffer holding exactly `buf`'s bytes, transferable: the buffer's
 * own when it spans it whole (the receiver's batches do), else a copy
 * (Node's small-Buffer pool must not be transferred).
 */
export function transferable(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) return buf.buffer;
  const ab = new ArrayBuffer(buf.length);
  buf.copy(Buffer.from(ab));
  return ab;
}
