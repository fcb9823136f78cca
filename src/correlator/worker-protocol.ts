// The messages between the main thread and a correlator worker. A result is
// one ArrayBuffer (so it can be transferred whole): a 4-byte header length,
// the header (JSON: stats, the format, the byte length and row count of
// each table's body), then the bodies of http_logs_ingest, http_requests
// and tls_events (JSONEachRow text, or Native or RowBinary bytes).
import type { BatchStats } from './batch-correlator.js';
import type { EncodedRows, RowBody, RowFormat } from './row-encoder.js';

export type WorkerTask =
  | { op: 'process'; http?: ArrayBuffer; tls?: ArrayBuffer; nowUs: number }
  | { op: 'flush' };

export interface WorkerResult extends EncodedRows<Buffer> {
  stats: BatchStats;
}

interface ResultHeader {
  format: RowFormat;
  lens: [number, number, number];
  rows: [number, number, number];
  stats: BatchStats;
}

const byteLength = (b: RowBody): number => (typeof b === 'string' ? Buffer.byteLength(b) : b.length);

export function packResult(rows: EncodedRows, stats: BatchStats): ArrayBuffer {
  const bodies = [rows.ingest, rows.requests, rows.tlsEvents];
  const lens = bodies.map(byteLength) as ResultHeader['lens'];
  const head: ResultHeader = { format: rows.format, lens, rows: [rows.ingestRows, rows.requestRows, rows.tlsEventRows], stats };
  const header = Buffer.from(JSON.stringify(head));
  // its own ArrayBuffer (transferable, not from the pool), not zero-filled: every byte is written below
  const out = Buffer.allocUnsafeSlow(4 + header.length + lens[0] + lens[1] + lens[2]);
  out.writeUInt32LE(header.length, 0);
  let at = 4 + header.copy(out, 4);
  for (const b of bodies) at += typeof b === 'string' ? out.write(b, at) : b.copy(out, at);
  return out.buffer as ArrayBuffer;
}

export function unpackResult(buf: ArrayBuffer): WorkerResult {
  const b = Buffer.from(buf);
  const hlen = b.readUInt32LE(0);
  const h = JSON.parse(b.toString('utf8', 4, 4 + hlen)) as ResultHeader;
  let at = 4 + hlen;
  const take = (n: number): Buffer => {
    const s = b.subarray(at, at + n);
    at += n;
    return s;
  };
  return {
    format: h.format,
    ingest: take(h.lens[0]),
    requests: take(h.lens[1]),
    tlsEvents: take(h.lens[2]),
    ingestRows: h.rows[0],
    requestRows: h.rows[1],
    tlsEventRows: h.rows[2],
    stats: h.stats,
  };
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
