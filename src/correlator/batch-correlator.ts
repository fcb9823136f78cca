// One correlation step over received batches: split the lines, validate
// them (drops counted per reason and per input), feed the correlator, and
// hand back the rows encoded for the three tables (JSONEachRow text, or
// Native or RowBinary bytes for the database). With Native rows, the
// mod_reqin_log records go through the native request path
// (native-requests.ts) and the TLS events through the native TLS path
// (native-tls-events.ts); otherwise through JSON.parse, toHttpRecord and
// toTlsInput.
// Runs in a worker thread (src/correlator/worker.ts) or inline; it never
// touches the database.
import { addCorrelatorStats, Correlator, emptyCorrelatorStats, type CorrelatorOptions, type CorrelatorStats } from './correlator.js';
import { toHttpRecord, type JoinRecord } from './http-record.js';
import { DEFAULT_MAX_LINE_BYTES, DROP_REASONS, emptyDropCounters, forEachJsonLine, type DropCounters } from './input-lines.js';
import { NativeRequests, type NativeHttpRecord } from './native-requests.js';
import { NativeTlsEvents } from './native-tls-events.js';
import { ROW_FORMATS, type EncodedRows, type RowBody, type RowEncoder, type RowFormat } from './row-encoder.js';
import { JsonRowEncoder } from './rows.js';
import { BinaryRowEncoder } from './rows-binary.js';
import { NativeRowEncoder } from './rows-native.js';
import { toTlsInput, type JoinClose, type JoinFlow } from './tls-event-input.js';

export type { EncodedRows, RowFormat } from './row-encoder.js';

/**
 * Which clock decides the windows: 'wall' (live: the time records arrive)
 * or 'event' (replays and the simulator without pacing: the newest
 * timestamp seen in the data, so an hour of traffic loaded in seconds
 * still sees its connections close and its requests wait the right time).
 */
export type CorrelatorClock = 'wall' | 'event';

/** Live: how far ahead of now a request may start (clocks a little off). */
const MAX_AHEAD_US = 86_400_000_000;
/** Live: how far back (a request as long as a week, a receiver that was stopped). */
const MAX_BEHIND_US = 7 * 86_400_000_000;

export interface BatchCorrelatorOptions<F extends RowFormat = RowFormat> extends Partial<CorrelatorOptions> {
  clock?: CorrelatorClock;
  maxLineBytes?: number;
  /** how rows are encoded: JSONEachRow (default; text), Native (bytes: what the database loads fastest) or RowBinary */
  format?: F;
  /**
   * Binary bodies returned as views of the encoder's buffers, valid until
   * the next process()/flush() (the worker copies them into its result at
   * once); default: copies.
   */
  reuseBuffers?: boolean;
}

/** The body type of a format: JSON text or bytes. */
export type BodyOf<F extends RowFormat> = F extends 'JSONEachRow' ? string : Buffer;

export function validateRowFormat(value: unknown): RowFormat {
  if (value === undefined) return 'JSONEachRow';
  if (!ROW_FORMATS.includes(value as RowFormat)) throw new RangeError(`format must be one of ${ROW_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as RowFormat;
}

// Each encoder takes the records and flows its input path makes:
// HttpRecords and FlowEvents from the JavaScript reader, NativeHttpRecords
// and NativeFlows from the native one (Native).
type AnyEncoder = RowEncoder<unknown, RowBody, JoinRecord, JoinFlow>;

function encoderFor(format: RowFormat, reuseBuffers: boolean, native: NativeRequests | undefined): AnyEncoder {
  if (format === 'Native') return new NativeRowEncoder(native!, reuseBuffers) as unknown as AnyEncoder;
  if (format === 'RowBinary') return new BinaryRowEncoder(reuseBuffers) as unknown as AnyEncoder;
  return new JsonRowEncoder() as unknown as AnyEncoder;
}

export interface BatchStats {
  correlator: CorrelatorStats;
  drops: { http: DropCounters; tls: DropCounters };
  /**
   * Lines the native parsers left to the JavaScript reader (Native format;
   * accepted or dropped there): records the fast path does not take cost
   * it several times the CPU (docs/correlator.md).
   */
  slowLines: { http: number; tls: number };
}

export function emptyBatchStats(): BatchStats {
  return { correlator: emptyCorrelatorStats(), drops: { http: emptyDropCounters(), tls: emptyDropCounters() }, slowLines: { http: 0, tls: 0 } };
}

/** Adds b's counters into a (gauges too: the sum over shards). */
export function addBatchStats(a: BatchStats, b: BatchStats): void {
  addCorrelatorStats(a.correlator, b.correlator);
  a.slowLines.http += b.slowLines.http;
  a.slowLines.tls += b.slowLines.tls;
  for (const r of DROP_REASONS) {
    a.drops.http[r] += b.drops.http[r];
    a.drops.tls[r] += b.drops.tls[r];
  }
}

/**
 * A replaced correlator's counters, to add to its successor's: its gauges
 * zeroed, its state is gone; the requests it held waiting are counted lost.
 */
export function retired(s: BatchStats): BatchStats {
  const c = s.correlator;
  return { ...s, correlator: { ...c, connections: 0, pending: 0, pending_lost: c.pending_lost + c.pending } };
}

export class BatchCorrelator<F extends RowFormat = 'JSONEachRow'> {
  private readonly correlator: Correlator<unknown, JoinRecord, JoinFlow>;
  private readonly encoder: AnyEncoder;
  /** the native request path (Native format): records parsed in C++ */
  private readonly native: NativeRequests | undefined;
  private readonly nativeTls: NativeTlsEvents | undefined;
  private readonly clock: CorrelatorClock;
  private readonly maxLineBytes: number;
  private readonly drops = { http: emptyDropCounters(), tls: emptyDropCounters() };
  private watermarkUs = 0;

  constructor(options: BatchCorrelatorOptions<F> = {}) {
    const { clock, maxLineBytes, format, reuseBuffers, ...rest } = options;
    this.clock = clock ?? 'wall';
    this.maxLineBytes = maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const rowFormat = validateRowFormat(format);
    this.native = rowFormat === 'Native' ? new NativeRequests() : undefined;
    this.nativeTls = this.native ? new NativeTlsEvents(this.native.store) : undefined;
    this.encoder = encoderFor(rowFormat, reuseBuffers === true, this.native);
    this.correlator = new Correlator(this.encoder, rest);
  }

  get format(): RowFormat {
    return this.encoder.format;
  }

  /**
   * TLS events first (they usually describe connections the requests of the
   * same batch ran on), then HTTP records, then the windows. `nowUs` is the
   * wall clock in 'wall' mode and ignored in 'event' mode.
   */
  process(http: Buffer | undefined, tls: Buffer | undefined, nowUs: number): EncodedRows<BodyOf<F>> {
    const c = this.correlator;
    const event = this.clock === 'event';
    const now = (): number => (event ? this.watermarkUs : nowUs);
    if (tls && tls.length > 0) {
      const onFlow = (e: JoinFlow): void => {
        if (event && e.last_ts_us > this.watermarkUs) this.watermarkUs = e.last_ts_us;
        c.flow(e, now());
      };
      const onClose = (e: JoinClose): void => {
        if (event && e.last_ts_us > this.watermarkUs) this.watermarkUs = e.last_ts_us;
        c.close(e, now());
      };
      if (this.nativeTls) {
        this.nativeTls.forEach(tls, this.maxLineBytes, this.drops.tls, onFlow, onClose);
      } else {
        forEachJsonLine(tls, this.maxLineBytes, this.drops.tls, (o) => {
          const e = toTlsInput(o);
          if (!e) this.drops.tls.schema_invalid++;
          else if (e.kind === 'flow') onFlow(e.event);
          else onClose(e.event);
        });
      }
    }
    if (http && http.length > 0) {
      const native = this.native;
      const onRecord = (r: JoinRecord): void => {
        // live (wall clock): a request time far from now is no request of
        // this Apache (its records are written as requests end). Such times
        // from anything that can write to the socket spread one batch over
        // many days' partitions, and the engine refuses a whole insert past
        // 100 of them (the batch, the good rows with it, then held in the spool)
        if (!event && (r.ts_us > nowUs + MAX_AHEAD_US || r.ts_us < nowUs - MAX_BEHIND_US)) {
          this.drops.http.schema_invalid++;
          if (native) native.release(r as NativeHttpRecord);
          return;
        }
        if (event && r.ts_us > this.watermarkUs) this.watermarkUs = r.ts_us;
        c.http(r, now());
      };
      if (native) {
        native.forEach(http, this.maxLineBytes, this.drops.http, onRecord);
      } else {
        forEachJsonLine(http, this.maxLineBytes, this.drops.http, (o) => {
          const r = toHttpRecord(o);
          if (r) onRecord(r);
          else this.drops.http.schema_invalid++;
        });
      }
    }
    c.sweep(now());
    return this.encoder.take() as EncodedRows<BodyOf<F>>;
  }

  /** Shutdown: waiting requests are written (tls_not_seen). */
  flush(): EncodedRows<BodyOf<F>> {
    this.correlator.flushPending();
    return this.encoder.take() as EncodedRows<BodyOf<F>>;
  }

  stats(): BatchStats {
    return {
      correlator: this.correlator.stats(),
      drops: { http: { ...this.drops.http }, tls: { ...this.drops.tls } },
      slowLines: { http: this.native?.slowLines ?? 0, tls: this.nativeTls?.slowLines ?? 0 },
    };
  }
}

/**
 * One shard's correlator, made again when a step throws: that is a bug, not
 * bad input (bad lines are counted and skipped one by one), and the encoder
 * may hold half a row, which would corrupt every later block. The
 * connections it knew are forgotten (their later requests become
 * tls_not_seen), the requests it held waiting are lost (`pending_lost`:
 * writing them would take the broken encoder) and the caller counts the
 * failed step. Its counters live on
 * in `stats()`: they feed Prometheus counters, which must never go down
 * (a drop reads as a process restart and hides what was counted). The
 * workers' (worker.ts) and the pool's inline one.
 */
export class RestartingCorrelator<F extends RowFormat = RowFormat> {
  private current: BatchCorrelator<F>;
  /** counters of the correlators replaced so far */
  private readonly retired = emptyBatchStats();

  constructor(private readonly make: () => BatchCorrelator<F>) {
    this.current = make();
  }

  /** `step` on the correlator; after it threw, the next step has a fresh one. */
  run<R>(step: (c: BatchCorrelator<F>) => R): R {
    try {
      return step(this.current);
    } catch (err) {
      // the replacement first: if making it throws, the old one stays and is not counted twice
      const next = this.make();
      addBatchStats(this.retired, retired(this.current.stats()));
      this.current = next;
      throw err;
    }
  }

  /** The counters since this shard started, across replacements; the gauges of the current correlator. */
  stats(): BatchStats {
    const out = emptyBatchStats();
    addBatchStats(out, this.retired);
    addBatchStats(out, this.current.stats());
    return out;
  }
}
