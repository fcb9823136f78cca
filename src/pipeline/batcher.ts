// Groups correlated batches into database-sized inserts: flushed when the
// rows or bytes reach their limit, or when the oldest row has waited
// maxDelayMs (ClickHouse prefers few large inserts; dashboards want fresh
// rows). Runs on the main thread; it only concatenates buffers.
import type { CorrelatedBatch } from '../correlator/correlator-pool.js';
import { isBinaryFormat, type RowFormat } from '../correlator/row-encoder.js';
import { mergeNativeBlocks } from '../correlator/native-merge.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from '../correlator/rows-binary.js';
import type { DurableWriter } from './durable-writer.js';
import type { BatchPart } from './spool.js';

export interface BatcherOptions {
  maxRows: number;
  maxBytes: number;
  maxDelayMs: number;
}

// maxBytes counts the three tables' bodies. Each insert runs the enrichment
// view and the aggregates once, ~150 ms of the embedded engine's CPU whatever
// its size (docs/correlator.md), so fewer, larger inserts are cheaper: at
// 100k requests/s, one insert a second is ~1.5 us per row. `ja4 run`'s
// defaults (correlator.batch_rows, batch_ms in src/config/schema.ts).
export const DEFAULT_BATCHER_OPTIONS: Readonly<BatcherOptions> = Object.freeze({ maxRows: 200_000, maxBytes: 128 << 20, maxDelayMs: 1000 });

export interface TableNames {
  ingest: string;
  requests: string;
  tlsEvents: string;
}

export class Batcher {
  private readonly options: BatcherOptions;
  private parts: { ingest: Buffer[]; requests: Buffer[]; tlsEvents: Buffer[] } = { ingest: [], requests: [], tlsEvents: [] };
  private rows = 0;
  private requestRows = 0;
  private tlsEventRows = 0;
  private format: RowFormat = 'JSONEachRow';
  private bytes = 0;
  private firstAt = 0;
  private readonly timer: NodeJS.Timeout;
  private pending = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly writer: DurableWriter,
    private readonly tables: TableNames,
    options: Partial<BatcherOptions> = {},
  ) {
    this.options = { ...DEFAULT_BATCHER_OPTIONS, ...options };
    for (const k of ['maxRows', 'maxBytes', 'maxDelayMs'] as const) {
      const v = this.options[k];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`batch ${k} must be a positive integer, got ${v}`);
    }
    // Time-based flushes wait for the previous insert to finish: while the
    // database works, rows keep accumulating, so inserts grow with its
    // latency (fewer, larger inserts: each one runs the enrichment view and
    // the aggregates once) instead of queueing many small ones. A batch
    // submitted and not acknowledged yet (`pending`: a spool append the disk
    // refuses, or a slow one) also holds the timer back: otherwise each tick
    // would submit another batch to wait in memory, unbounded.
    this.timer = setInterval(() => {
      if (this.bytes > 0 && Date.now() - this.firstAt >= this.options.maxDelayMs && this.writer.inFlightBatches === 0 && this.pending.size === 0) {
        this.flush().catch(() => undefined); // kept in this.failure
      }
    }, Math.max(10, Math.min(250, this.options.maxDelayMs / 4)));
    this.timer.unref();
  }

  /** Adds a correlated batch; resolves at once unless a flush is due, then when the flushed batch is acknowledged. */
  async add(b: CorrelatedBatch): Promise<void> {
    if (this.failure) throw this.failure;
    const size = b.ingest.length + b.requests.length + b.tlsEvents.length;
    if (size === 0) return;
    // one format per insert (the correlator's never changes; a flush keeps it so if it did)
    if (this.bytes > 0 && b.format !== this.format) await this.flush();
    if (this.bytes === 0) {
      this.firstAt = Date.now();
      this.format = b.format;
    }
    if (b.ingest.length) this.parts.ingest.push(b.ingest);
    if (b.requests.length) this.parts.requests.push(b.requests);
    if (b.tlsEvents.length) this.parts.tlsEvents.push(b.tlsEvents);
    this.rows += b.ingestRows;
    this.requestRows += b.requestRows;
    this.tlsEventRows += b.tlsEventRows;
    this.bytes += size;
    if (this.rows >= this.options.maxRows || this.bytes >= this.options.maxBytes) await this.flush();
  }

  /** Submits what is buffered; resolves once acknowledged (sink or spool). */
  async flush(): Promise<void> {
    if (this.rows === 0 && this.bytes === 0) return;
    const { ingest, requests, tlsEvents } = this.parts;
    const { rows, requestRows, tlsEventRows, format } = this;
    this.parts = { ingest: [], requests: [], tlsEvents: [] };
    this.rows = 0;
    this.requestRows = 0;
    this.tlsEventRows = 0;
    this.bytes = 0;
    // RowBinary rows concatenate as JSON lines do; Native blocks (one per
    // correlation step) are made one, the engine paying per block
    // (native-merge.ts). A binary insert names its columns (rows-binary.ts).
    const part = (table: string, bodies: Buffer[], n: number, columns: readonly string[]): BatchPart => {
      const body = format === 'Native' ? mergeNativeBlocks(bodies) : Buffer.concat(bodies);
      return isBinaryFormat(format) ? { table, body, rows: n, format, columns } : { table, body, rows: n };
    };
    const out: BatchPart[] = [];
    if (ingest.length) out.push(part(this.tables.ingest, ingest, rows, INGEST_COLUMNS));
    if (requests.length) out.push(part(this.tables.requests, requests, requestRows, REQUEST_COLUMNS));
    if (tlsEvents.length) out.push(part(this.tables.tlsEvents, tlsEvents, tlsEventRows, TLS_EVENT_COLUMNS));
    const p = this.writer.submit(out).catch((err: unknown) => {
      this.failure = err;
      throw err;
    });
    this.pending.add(p);
    try {
      await p;
    } finally {
      this.pending.delete(p);
    }
  }

  /** Buffered (not yet submitted) rows. */
  get buffered(): number {
    return this.rows;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await Promise.allSettled([...this.pending]);
  }
}
