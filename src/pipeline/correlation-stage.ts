// The middle of `ja4 run`: received buffers in, rows out. Inputs push
// buffers (HTTP lines, TLS event lines) from their callbacks; one loop on
// the main thread takes what is queued (up to STEP_MAX_BYTES), hands it to
// the correlator workers (transferred, not copied), gives the encoded rows
// to the batcher, and goes on correlating the next buffers while one
// flush is being acknowledged. Memory is bounded: past maxBacklogBytes of
// queued input, new input is dropped and counted (the receivers' kernel
// buffers and the capture ring absorb bursts before that).
import { CorrelatorPool, type CorrelatorPoolOptions } from '../correlator/correlator-pool.js';
import type { BatchStats } from '../correlator/batch-correlator.js';
import { Batcher, DEFAULT_BATCHER_OPTIONS, type BatcherOptions, type TableNames } from './batcher.js';
import { DurableWriter, type DurableWriterOptions, type WriterStats } from './durable-writer.js';
import type { Sink } from './sinks.js';
import type { Spool, SpoolStats } from './spool.js';
import type { Stage } from './stage.js';
import { createLogger, type Logger } from '../config/logger.js';
import { logThrottle } from './log-throttle.js';
import { STEP_MAX_BYTES, takeStepInput } from './step-input.js';

export interface CorrelationStageOptions {
  sink: Sink;
  spool?: Spool;
  tables: TableNames;
  correlator?: CorrelatorPoolOptions;
  batcher?: Partial<BatcherOptions>;
  writer?: Partial<DurableWriterOptions>;
  /** queued input bytes before new input is dropped */
  maxBacklogBytes?: number;
  /** how often the windows are checked when no input comes, ms */
  tickMs?: number;
  /** steps start at most this often, ms (default 10): input that comes sooner waits for the next (see run()) */
  minStepMs?: number;
  /** input one step takes at most, bytes (default STEP_MAX_BYTES); what is left starts the next step at once */
  maxStepBytes?: number;
  /** stop(): how long the last batches may take to be acknowledged and written (default 10 s with a spool, 60 s without) */
  stopWaitMs?: number;
  /** the service's logger (default: JSON lines on stderr) */
  log?: Logger;
}

export interface IngestCounters {
  http_batches: number;
  http_bytes: number;
  tls_batches: number;
  tls_bytes: number;
  backlog_dropped_bytes: number;
  /** correlation steps run (each hands the workers what was queued, up to maxStepBytes) */
  steps: number;
  /** correlation steps that failed (a worker threw or died) and the input bytes they dropped */
  failed_steps: number;
  failed_bytes: number;
  /** time spent waiting for the correlator workers, ms */
  correlate_ms: number;
  rows_out: number;
}

export interface CorrelationStats {
  ingest: IngestCounters;
  correlator: BatchStats;
  writer: WriterStats;
  spool: SpoolStats | undefined;
  backlog_bytes: number;
}

/**
 * A batch is what the spool keeps or drops whole: one larger than the spool
 * (`--spool-max-mb` below the batch size) would leave the spool holding just
 * the newest batch, over its limit, and an outage would lose all the others.
 * Batches stay within a quarter of the spool, so it always holds several.
 */
export function batchLimits(batcher: Partial<BatcherOptions> | undefined, spool: Pick<Spool, 'maxBytes'> | undefined): Partial<BatcherOptions> | undefined {
  if (!spool) return batcher;
  const maxBytes = Math.max(1, Math.min(batcher?.maxBytes ?? DEFAULT_BATCHER_OPTIONS.maxBytes, Math.floor(spool.maxBytes / 4)));
  return { ...batcher, maxBytes };
}

/** Whether `p` settles (either way) within `ms`; the timer is cleared when it does. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Flushes the correlation loop may leave unacknowledged before it waits:
 * past the writer's in-flight limit (4), so that a slow database sends
 * batches to the spool rather than holding the loop.
 */
const MAX_UNACKED_FLUSHES = 6;

/** How long /healthz says unhealthy after input was lost. */
const LOSS_WINDOW_MS = 60_000;

export class CorrelationStage implements Stage {
  readonly name = 'correlator';
  private readonly pool: CorrelatorPool;
  private readonly writer: DurableWriter;
  private readonly batcher: Batcher;
  private http: Buffer[] = [];
  private tls: Buffer[] = [];
  private backlog = 0;
  private readonly maxBacklog: number;
  private readonly tickMs: number;
  private readonly minStepMs: number;
  /** a step starts now rather than wait out minStepMs once this much input is queued */
  private readonly stepBytes: number;
  private readonly maxStepBytes: number;
  /** ends the loop's current pause (stop always; input when waitingForInput) */
  private wake: (() => void) | undefined;
  private waitingForInput = false;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly backlogLog = logThrottle();
  private readonly log: Logger;
  readonly counters: IngestCounters = { http_batches: 0, http_bytes: 0, tls_batches: 0, tls_bytes: 0, backlog_dropped_bytes: 0, steps: 0, failed_steps: 0, failed_bytes: 0, correlate_ms: 0, rows_out: 0 };

  constructor(private readonly options: CorrelationStageOptions) {
    this.log = options.log ?? createLogger({ service: 'ja4-run' });
    // rows in the sink's format (Native blocks for the database, JSON lines for files), unless told otherwise
    this.pool = new CorrelatorPool({ format: options.sink.format, ...options.correlator });
    this.writer = new DurableWriter(options.sink, options.spool, { log: this.log.child({ component: 'writer' }), ...options.writer });
    this.batcher = new Batcher(this.writer, options.tables, batchLimits(options.batcher, options.spool));
    this.maxBacklog = options.maxBacklogBytes ?? 256 << 20;
    this.tickMs = options.tickMs ?? 250;
    this.minStepMs = options.minStepMs ?? 10;
    // well under the backlog bound: waiting to gather input must never be what drops it
    this.stepBytes = Math.min(4 << 20, Math.floor(this.maxBacklog / 4));
    this.maxStepBytes = options.maxStepBytes ?? STEP_MAX_BYTES;
  }

  /** mod_reqin_log lines (a receiver's batch). The buffer is handed over: the caller must not reuse it. */
  pushHttp(buf: Buffer): void {
    this.push(buf, this.http, 'http');
  }

  /** TLS event lines (capture, network.socket, simulator). The buffer is handed over. */
  pushTls(buf: Buffer): void {
    this.push(buf, this.tls, 'tls');
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  /** Correlates what is queued, writes waiting requests (tls_not_seen), flushes and drains the writer. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const waitMs = this.options.stopWaitMs ?? (this.options.spool ? 10_000 : 60_000);
    // the loop may wait on a flush the spool or the sink never acknowledges
    // (a disk that refuses, a sink that fails): bounded too, or SIGTERM
    // would never finish and the unit be killed without a word
    if (!(await settlesWithin(this.loop ?? Promise.resolve(), waitMs))) {
      const w = this.writer.stats();
      this.log.error('stopping: a batch was not acknowledged in time (the spool or the sink refuses writes); it and the input queued behind it are lost', {
        unacknowledged_rows: w.unacknowledged_rows, backlog_bytes: this.backlog, last_spool_error: w.last_spool_error, last_error: w.last_error,
      });
      await this.writer.close(); // the held append gives up: the loop ends
      await this.loop?.catch(() => undefined);
      await this.pool.close();
      return;
    }
    const last = await this.pool.flush();
    this.counters.rows_out += last.ingestRows;
    // the last rows submitted; bounded: a spool whose disk refuses (or a
    // file sink that fails) would hold the acknowledgement forever
    const submitted = (async () => {
      await this.batcher.add(last);
      await this.batcher.close();
    })();
    if (!(await settlesWithin(submitted, waitMs))) {
      const w = this.writer.stats();
      this.log.error('stopping: batches were not acknowledged in time (the spool or the sink refuses writes); they are lost', {
        unacknowledged_rows: w.unacknowledged_rows, last_spool_error: w.last_spool_error, last_error: w.last_error,
      });
    } else {
      const drained = await this.writer.drain(waitMs);
      if (!drained && this.options.spool) this.log.warn('the database did not take everything in time; batches stay in the spool for the next start', { spool_segments: this.options.spool.depth.segments, spool_dir: this.options.spool.dir });
    }
    await this.writer.close();
    await submitted.catch(() => undefined);
    await this.pool.close();
  }

  /** Everything pushed so far is correlated and acknowledged (tests, benchmarks). */
  async settle(): Promise<void> {
    while (this.backlog > 0 || this.busy) await new Promise((r) => setTimeout(r, 5));
    await this.batcher.flush();
    await this.writer.drain();
  }

  /** Input queued for the next step (cheap: for a sender that paces itself, as the benchmark's does). */
  get backlogBytes(): number {
    return this.backlog;
  }

  detailedStats(): CorrelationStats {
    return {
      ingest: { ...this.counters },
      correlator: this.pool.stats(),
      writer: this.writer.stats(),
      spool: this.options.spool?.stats(),
      backlog_bytes: this.backlog,
    };
  }

  stats(): Record<string, number> {
    const s = this.detailedStats();
    const flat: Record<string, number> = { ...s.ingest, backlog_bytes: s.backlog_bytes };
    for (const [k, v] of Object.entries(s.correlator.correlator)) flat[k] = v;
    for (const [k, v] of Object.entries(s.correlator.drops.http)) flat[`http_dropped_${k}`] = v;
    for (const [k, v] of Object.entries(s.correlator.drops.tls)) flat[`tls_dropped_${k}`] = v;
    flat.http_slow_lines = s.correlator.slowLines.http;
    flat.tls_slow_lines = s.correlator.slowLines.tls;
    for (const [k, v] of Object.entries(s.writer)) if (typeof v === 'number') flat[`writer_${k}`] = v;
    flat.writer_spooling = s.writer.mode === 'spooling' ? 1 : 0;
    if (s.spool) for (const [k, v] of Object.entries(s.spool)) flat[`spool_${k}`] = v;
    return flat;
  }

  private busy = false;
  /** when input was last lost (dropped behind a full backlog, or a failed step); 0: never */
  private lastLossAt = 0;

  /**
   * Why the stage is not healthy: input lost in the last LOSS_WINDOW_MS
   * (every insert may succeed while the backlog behind a slow database
   * drops input; /healthz must not say ok then). Undefined when healthy.
   */
  lossUnhealthy(now = Date.now()): string | undefined {
    if (this.lastLossAt === 0 || now - this.lastLossAt > LOSS_WINDOW_MS) return undefined;
    const c = this.counters;
    return `input lost in the last ${LOSS_WINDOW_MS / 1000} s (backlog_dropped_bytes ${c.backlog_dropped_bytes}, failed_steps ${c.failed_steps})`;
  }

  private push(buf: Buffer, queue: Buffer[], kind: 'http' | 'tls'): void {
    if (buf.length === 0) return;
    if (this.backlog + buf.length > this.maxBacklog) {
      this.counters.backlog_dropped_bytes += buf.length;
      this.lastLossAt = Date.now();
      if (this.backlogLog()) {
        this.log.warn('correlation is behind: dropping input', { reason: 'backlog', kind, backlog_bytes: this.backlog, backlog_dropped_bytes: this.counters.backlog_dropped_bytes });
      }
      return;
    }
    queue.push(buf);
    this.backlog += buf.length;
    if (kind === 'http') {
      this.counters.http_batches++;
      this.counters.http_bytes += buf.length;
    } else {
      this.counters.tls_batches++;
      this.counters.tls_bytes += buf.length;
    }
    if (this.waitingForInput || this.backlog >= this.stepBytes) this.wake?.();
  }

  /** Waits `ms`, or less: until stop(), and until input comes when `untilInput`. */
  private pause(ms: number, untilInput: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = undefined;
        self.waitingForInput = false;
        resolve();
      }
      this.wake = done;
      this.waitingForInput = untilInput;
    });
  }

  private async run(): Promise<void> {
    // Flushes not acknowledged yet. The loop goes on while there are few:
    // waiting for each one in turn held it for a whole slow insert, input
    // piled up behind it and was dropped past the backlog bound, while the
    // writer never saw enough batches in flight to spool (its lag path).
    // Now batches keep coming to the writer, which spools past its
    // in-flight limit and acknowledges them once durable; only when that
    // stalls too (a spool that refuses, a sink without one) does the loop
    // wait: the back-pressure that bounds memory.
    const unacked = new Set<Promise<void>>();
    let failure: unknown;
    let lastStep = -Infinity;
    // the last step left input queued (maxStepBytes): the next starts at once
    let leftBehind = false;
    for (;;) {
      if (this.http.length === 0 && this.tls.length === 0) {
        if (this.stopping) break;
        await this.pause(this.tickMs, true);
      }
      // Steps start at most every minStepMs. Each costs both threads a fixed
      // part whatever its size (the round trip to the worker, a Native block
      // per table and its header, the batcher's merge of it): taken as soon
      // as a receiver batch came, steps were ~70 requests each under load
      // (2,700 per 200k requests in bench:correlator); 10 ms apart, ~290,
      // and the worker, the main thread and the collector took ~2.5 us less
      // CPU per request (docs/correlator.md). 10 ms is nothing beside the
      // batcher's second; a large backlog or stop() starts the step at once.
      const early = this.minStepMs - (performance.now() - lastStep);
      if (early > 0 && !this.stopping && !leftBehind && this.backlog < this.stepBytes) await this.pause(early, false);
      lastStep = performance.now();
      this.counters.steps++;
      this.busy = true;
      const { tls, http } = takeStepInput(this.tls, this.http, this.maxStepBytes);
      leftBehind = this.http.length > 0 || this.tls.length > 0;
      // sized now: a buffer moved to the worker reads empty afterwards
      const httpBytes = http?.length ?? 0;
      const tlsBytes = tls?.length ?? 0;
      this.backlog -= httpBytes + tlsBytes;
      const t0 = performance.now();
      // an empty call still moves the windows (tls_not_seen after the wait, expiry)
      let rows: Awaited<ReturnType<CorrelatorPool['process']>>;
      try {
        rows = await this.pool.process(http, tls, Date.now() * 1000);
      } catch (err) {
        // a worker that threw (it starts over) or died (piscina starts
        // another): this step's input is lost, counted and logged; the
        // process and the next steps go on
        this.counters.failed_steps++;
        this.lastLossAt = Date.now();
        this.counters.failed_bytes += httpBytes + tlsBytes;
        this.log.error('a correlation step failed: its input is dropped', {
          error: err instanceof Error ? err.message : String(err), http_bytes: httpBytes, tls_bytes: tlsBytes, failed_steps: this.counters.failed_steps,
        });
        this.busy = false;
        continue;
      }
      this.counters.correlate_ms += performance.now() - t0;
      this.counters.rows_out += rows.ingestRows;
      const ack = this.batcher.add(rows);
      const tracked: Promise<void> = ack.then(
        () => void unacked.delete(tracked),
        (err: unknown) => {
          unacked.delete(tracked);
          failure ??= err;
        },
      );
      unacked.add(tracked);
      while (unacked.size > MAX_UNACKED_FLUSHES && failure === undefined) await Promise.race(unacked);
      if (failure !== undefined) throw failure;
      this.busy = false;
    }
    await Promise.all(unacked);
    if (failure !== undefined) throw failure;
  }
}
