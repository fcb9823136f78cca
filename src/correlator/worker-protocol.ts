// The messages between the main thread and a correlator worker. A result
// is a small object (stats, the format, the row counts) and the bodies of
// http_logs_ingest, http_requests and tls_events, each an ArrayBuffer moved
// to the main thread, not copied: the Native request blocks come from the
// native store in buffers of their own, which move as they are (packing
// them into one buffer copied ~1 KiB per request into fresh memory, page
// faults included). Bodies that are views of a larger buffer (an encoder's
// reused one) or text are copied once.
import type { BatchStats } from './batch-correlator.js';
import { EMPTY_BODY, type EncodedRows, type RowBody, type RowFormat } from './row-encoder.js';

export type WorkerTask =
  | { op: 'process'; http?: ArrayBuffer; tls?: ArrayBuffer; nowUs: number }
  | { op: 'flush' };

export interface WorkerResult extends EncodedRows<Buffer> {
  stats: BatchStats;
  /** the worker's threadId: a new one means piscina replaced a dead worker, whose counters start again */
  thread: number;
}

/** What a worker posts back: `bodies` are in `transfer`. */
export interface WorkerMessage {
  format: RowFormat;
  rows: [number, number, number];
  stats: BatchStats;
  thread: number;
  /** ingest, requests, tls_events; null for an empty body */
  bodies: [ArrayBuffer | null, ArrayBuffer | null, ArrayBuffer | null];
}

/** A body as an ArrayBuffer that may move: its own when it spans it, else a copy; null when empty. */
function movable(b: RowBody): ArrayBuffer | null {
  if (b.length === 0) return null;
  return transferable(typeof b === 'string' ? Buffer.from(b) : b);
}

export function packResult(rows: EncodedRows, stats: BatchStats, thread: number): { message: WorkerMessage; transfer: ArrayBuffer[] } {
  const bodies: WorkerMessage['bodies'] = [movable(rows.ingest), movable(rows.requests), movable(rows.tlsEvents)];
  return {
    message: { format: rows.format, rows: [rows.ingestRows, rows.requestRows, rows.tlsEventRows], stats, thread, bodies },
    transfer: bodies.filter((b): b is ArrayBuffer => b !== null),
  };
}

export function unpackResult(m: WorkerMessage): WorkerResult {
  const body = (b: ArrayBuffer | null): Buffer => (b === null ? EMPTY_BODY : Buffer.from(b));
  return {
    format: m.format,
    ingest: body(m.bodies[0]),
    requests: body(m.bodies[1]),
    tlsEvents: body(m.bodies[2]),
    ingestRows: m.rows[0],
    requestRows: m.rows[1],
    tlsEventRows: m.rows[2],
    stats: m.stats,
    thread: m.thread,
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
