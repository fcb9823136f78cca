// At-least-once delivery of batches to a sink, with the spool as the
// fallback (issue 6, "Writing"):
//
// * direct mode: batches go straight to the sink, a few in flight at most;
//   a batch is acknowledged when the sink took it.
// * the sink fails, or is too slow (maxInFlight batches already waiting):
//   the batch, and every later one, goes to the spool instead, acknowledged
//   once fsync'd. A replay loop then retries the oldest segment (backoff up
//   to retryMaxMs), deletes it when the sink took it, and returns to direct
//   mode when the spool is empty and no append is still being written.
//   Order is kept: the replay starts only when the direct batches before it
//   are done, and direct mode only when every spooled batch was replayed.
// * a segment whose data the database refuses (a parse error, not an
//   outage) is moved aside (spool/rejected/) and counted instead of blocking
//   the queue forever.
// * mode 'always': every batch goes through the spool (a write-ahead log),
//   for a stronger guarantee at the cost of an fsync per batch.
// * the spool's disk refuses a write (full, read-only, the directory gone):
//   the batch stays in memory, unacknowledged, and the append is retried
//   with backoff (counted, logged at most every 10 s). The batcher waits for
//   the acknowledgement, and behind it the correlator and the receivers: the
//   sockets fill and the senders count their drops, memory stays bounded,
//   and nothing acknowledged is lost. Once the spool is empty (replayed to a
//   database that came back) the waiting batch may go to the sink instead.
import { randomBytes } from 'node:crypto';
import type { Sink } from './sinks.js';
import type { Batch, BatchPart, Spool } from './spool.js';
import { createLogger, type Logger } from '../config/logger.js';
import { logThrottle } from './log-throttle.js';

export interface DurableWriterOptions {
  /** batches queued to the sink in direct mode before the spool takes over */
  maxInFlight: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** 'fallback': the spool only when the sink fails or lags; 'always': every batch through it */
  spoolMode: 'fallback' | 'always';
  /** the service's logger (default: JSON lines on stderr) */
  log: Logger;
}

export interface WriterStats {
  mode: 'direct' | 'spooling';
  batches: number;
  rows: number;
  written_batches: number;
  written_rows: number;
  sink_errors: number;
  last_error: string;
  /** the latest write to the sink failed (cleared by the next success) */
  failing: boolean;
  /** rows submitted and neither written nor durable in the spool yet */
  unacknowledged_rows: number;
  /** spool appends the disk refused (each retried) */
  spool_write_errors: number;
  last_spool_error: string;
  /** insert latency of the last batch, ms */
  last_write_ms: number;
  write_ms_total: number;
}

/**
 * Errors that are the data's fault: retrying will not help, the batch is set
 * aside. Narrow on purpose: an outage or a local fault taken for bad data
 * loses the batch from the queue for good, the other mistake only retries.
 * Not here: "Cannot read from file" (code 74, an I/O error on the insert's
 * temporary file), JavaScript's "Cannot read properties", STD_EXCEPTION
 * (1001, any C++ exception, filesystem ones included), TOO_MANY_ROWS (158,
 * a limit). "Too many partitions for single INSERT block" (rows over more
 * than 100 days of a day-partitioned table) is the data's; "Too many parts"
 * (merges behind inserts), with the same code 252, is not.
 */
const DATA_ERROR = /Cannot parse|CANNOT_PARSE|INCORRECT_DATA|TYPE_MISMATCH|CANNOT_READ_ALL_DATA|Cannot read all data|Code: (?:6|26|27|33|53|69|70|72|117|131)\b|Unknown field|while reading the value of key|\(at row \d+\)|Too many partitions for single INSERT block/i;

export function isDataError(err: unknown): boolean {
  return DATA_ERROR.test(err instanceof Error ? err.message : String(err));
}

const rowsOf = (parts: BatchPart[]): number => parts.reduce((n, p) => n + p.rows, 0);

interface QueuedBatch {
  batch: Batch;
  ack: () => void;
  fail: (err: unknown) => void;
}

export class DurableWriter {
  private readonly options: DurableWriterOptions;
  private readonly queue: QueuedBatch[] = [];
  private inFlight = 0;
  private spooling: boolean;
  private replaying: Promise<void> | undefined;
  private directIdle: Promise<void> = Promise.resolve();
  private releaseIdle: (() => void) | undefined;
  private closed = false;
  private wakeReplay: (() => void) | undefined;
  private readonly writerId = randomBytes(6).toString('hex');
  private seq = 0;
  /** spool appends, one after the other: a retried append keeps its place */
  private appendChain: Promise<void> = Promise.resolve();
  /** spool appends not finished: the replay loop must not call the spool drained under them */
  private appending = 0;
  private readonly spoolErrorLog = logThrottle();
  private readonly sinkErrorLog = logThrottle();
  private readonly counters: WriterStats = {
    mode: 'direct', batches: 0, rows: 0, written_batches: 0, written_rows: 0, sink_errors: 0, last_error: '', failing: false, unacknowledged_rows: 0, spool_write_errors: 0, last_spool_error: '', last_write_ms: 0, write_ms_total: 0,
  };

  constructor(
    private readonly sink: Sink,
    private readonly spool: Spool | undefined,
    options: Partial<DurableWriterOptions> = {},
  ) {
    this.options = { maxInFlight: 4, retryMinMs: 200, retryMaxMs: 5000, spoolMode: 'fallback', ...options, log: options.log ?? createLogger({ service: 'ja4-writer' }) };
    if (!Number.isInteger(this.options.maxInFlight) || this.options.maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${this.options.maxInFlight}`);
    if (this.options.spoolMode === 'always' && !spool) throw new RangeError('spoolMode "always" needs a spool directory (--spool-dir)');
    // segments left by an earlier run are replayed first
    this.spooling = spool !== undefined && (spool.depth.segments > 0 || this.options.spoolMode === 'always');
    if (this.spooling) this.startReplay();
  }

  /** A fresh deduplication token: unique per batch across restarts. */
  nextToken(): string {
    return `${this.writerId}-${++this.seq}`;
  }

  /** Resolves when the batch is acknowledged: written to the sink, or durable in the spool. */
  async submit(parts: BatchPart[], token = this.nextToken()): Promise<void> {
    if (this.closed) throw new Error('DurableWriter: submit() after close()');
    const batch: Batch = { token, parts: parts.filter((p) => p.body.length > 0) };
    if (batch.parts.length === 0) return;
    const rows = rowsOf(batch.parts);
    this.counters.batches++;
    this.counters.rows += rows;
    this.counters.unacknowledged_rows += rows;
    try {
      await this.deliver(batch);
    } finally {
      this.counters.unacknowledged_rows -= rows;
    }
  }

  private async deliver(batch: Batch): Promise<void> {
    // straight to the sink below the in-flight limit; with no spool (file or
    // stdout sink) always: waiting for the sink is then the back-pressure
    if (!this.spool || (!this.spooling && this.inFlight < this.options.maxInFlight)) {
      return new Promise<void>((ack, fail) => {
        this.queue.push({ batch, ack, fail });
        this.inFlight++;
        this.holdIdle();
        if (this.inFlight === 1) void this.pumpDirect();
      });
    }
    if (!this.spooling) {
      this.spooling = true;
      this.options.log.warn('the writer is behind: spooling', { sink: this.sink.name, in_flight: this.inFlight, spool_dir: this.spool.dir });
    }
    await this.toSpool(batch);
    this.startReplay();
    this.wakeReplay?.();
  }

  /** Batches handed to the sink and not yet acknowledged (direct mode). */
  get inFlightBatches(): number {
    return this.inFlight;
  }

  stats(): WriterStats {
    return { ...this.counters, mode: this.spooling ? 'spooling' : 'direct' };
  }

  /** Waits until every acknowledged batch reached the sink (or, when it stays down, until timeoutMs). */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.directIdle;
      const spoolEmpty = !this.spool || this.spool.depth.segments === 0;
      // in fallback mode, done once the replay loop saw the spool empty and went back to direct
      if (this.inFlight === 0 && spoolEmpty && (!this.spooling || this.options.spoolMode === 'always')) return true;
      this.wakeReplay?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** Stops the replay loop; what is still in the spool stays there for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeReplay?.();
    await this.directIdle;
    await this.replaying;
  }

  private holdIdle(): void {
    if (this.releaseIdle) return;
    this.directIdle = new Promise<void>((r) => (this.releaseIdle = r));
  }

  private async pumpDirect(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue[0]!;
      try {
        await this.writeToSink(item.batch);
        item.ack();
      } catch (err) {
        if (!this.spool) {
          // nowhere to keep it: retry in place (file/stdout sinks fail only on
          // local problems: a full disk, a closed pipe), logged at most every 10 s
          if (this.sinkErrorLog()) {
            this.options.log.error('writing failed and there is no spool: retrying, input waits meanwhile', { sink: this.sink.name, error: errText(err), sink_errors: this.counters.sink_errors });
          }
          if (this.closed) {
            this.failQueue(err);
            break;
          }
          await new Promise((r) => setTimeout(r, this.options.retryMinMs));
          continue;
        }
        try {
          if (isDataError(err)) {
            // the same rows will fail again: through the spool, whose replay sets
            // them aside (spool/rejected/) instead of blocking what follows
            this.options.log.error("the database refused a batch's data: set aside through the spool", { sink: this.sink.name, error: errText(err), rows: rowsOf(item.batch.parts) });
            this.spooling = true;
            await this.toSpool(item.batch, false);
          } else {
            if (!this.spooling) this.options.log.warn('writing failed: spooling until the database is back', { sink: this.sink.name, error: errText(err), spool_dir: this.spool.dir });
            this.spooling = true;
            // this batch and everything queued behind it go to the spool, in
            // order (toSpool chains the appends in call order)
            await Promise.all(this.queue.map((q) => this.toSpool(q.batch)));
            this.settleQueue((q) => q.ack());
            break;
          }
        } catch (closing) {
          // closed while the spool refused them: never acknowledged
          this.failQueue(closing);
          break;
        }
        item.ack();
      }
      this.queue.shift();
      this.inFlight--;
    }
    this.releaseIdle?.();
    this.releaseIdle = undefined;
    if (this.spooling) this.startReplay();
  }

  /** Rejects every queued batch (the writer closed before they could be acknowledged). */
  private failQueue(err: unknown): void {
    this.settleQueue((q) => q.fail(err));
  }

  /** Settles every queued batch at once (all spooled, or all failed) and empties the queue. */
  private settleQueue(settle: (q: QueuedBatch) => void): void {
    for (const q of this.queue) settle(q);
    this.inFlight -= this.queue.length;
    this.queue.length = 0;
  }

  /**
   * Appends the batch to the spool once the appends before it are done,
   * retrying while the disk refuses (see the top of the file). `sinkFallback`:
   * with the spool empty the sink may take the batch instead (order holds:
   * nothing older waits); not for data the database refused. Rejects only
   * when the writer is closed meanwhile: the batch was never acknowledged.
   */
  private toSpool(batch: Batch, sinkFallback = true): Promise<void> {
    this.appending++;
    const p = this.appendChain.then(() => this.appendRetrying(batch, sinkFallback)).finally(() => this.appending--);
    this.appendChain = p.catch(() => undefined);
    return p;
  }

  private async appendRetrying(batch: Batch, sinkFallback: boolean): Promise<void> {
    const spool = this.spool!;
    let delay = this.options.retryMinMs;
    for (;;) {
      try {
        await spool.append(batch);
        return;
      } catch (err) {
        this.counters.spool_write_errors++;
        this.counters.last_spool_error = errText(err);
        if (this.spoolErrorLog()) {
          this.options.log.error('the spool cannot write: holding the batch in memory and retrying; input waits meanwhile', {
            spool_dir: spool.dir, error: errText(err), rows: rowsOf(batch.parts), spool_write_errors: this.counters.spool_write_errors,
          });
        }
      }
      if (sinkFallback && spool.depth.segments === 0 && !this.closed) {
        try {
          await this.writeToSink(batch);
          return;
        } catch {
          // still down: back to the spool
        }
      }
      if (this.closed) throw new Error(`the writer closed while the spool refused a batch of ${rowsOf(batch.parts)} rows (${this.counters.last_spool_error}): not acknowledged`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(this.options.retryMaxMs, delay * 2);
    }
  }

  private async writeToSink(batch: Batch): Promise<void> {
    const t0 = performance.now();
    try {
      await this.sink.write(batch);
    } catch (err) {
      this.counters.sink_errors++;
      this.counters.last_error = errText(err);
      this.counters.failing = true;
      throw err;
    }
    this.counters.failing = false;
    const ms = performance.now() - t0;
    this.counters.last_write_ms = ms;
    this.counters.write_ms_total += ms;
    this.counters.written_batches++;
    this.counters.written_rows += rowsOf(batch.parts);
    if (this.options.log.isEnabled('debug')) this.options.log.debug('batch written', { sink: this.sink.name, rows: rowsOf(batch.parts), parts: batch.parts.length, ms: Math.round(ms) });
  }

  private startReplay(): void {
    if (this.replaying || !this.spool) return;
    this.replaying = this.replayLoop().finally(() => {
      this.replaying = undefined;
      // a batch spooled while the loop was finishing
      if (this.spooling && !this.closed && this.spool!.depth.segments > 0) this.startReplay();
    });
  }

  private async replayLoop(): Promise<void> {
    const spool = this.spool!;
    let delay = this.options.retryMinMs;
    // batches sent directly before the spool took over go first
    await this.directIdle;
    while (!this.closed) {
      let seg: Awaited<ReturnType<Spool['oldest']>>;
      try {
        seg = await spool.oldest();
      } catch (err) {
        // a segment the disk cannot read now (EIO, permissions): retried, never a crash
        this.counters.spool_write_errors++;
        this.counters.last_spool_error = errText(err);
        this.options.log.error('the spool cannot read its oldest segment: retrying', { spool_dir: spool.dir, error: errText(err) });
        await this.sleep(delay);
        delay = Math.min(this.options.retryMaxMs, delay * 2);
        continue;
      }
      if (!seg) {
        // an append still being written is older than whatever comes next:
        // going direct now would let the next batch overtake it
        if (this.options.spoolMode === 'always' || this.appending > 0) {
          await this.sleep(this.appending > 0 ? 20 : 50);
          continue;
        }
        this.spooling = false;
        this.options.log.info('spool drained: writing directly again', { sink: this.sink.name });
        return;
      }
      try {
        await this.writeToSink(seg.batch);
      } catch (err) {
        if (isDataError(err)) {
          await spool.reject(seg.seq, errText(err));
          continue;
        }
        await this.sleep(delay);
        delay = Math.min(this.options.retryMaxMs, delay * 2);
        continue;
      }
      await spool.remove(seg.seq);
      delay = this.options.retryMinMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeReplay = done;
    });
  }
}

function errText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}
