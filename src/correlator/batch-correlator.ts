// One correlation step over received batches: split the lines, validate
// them (drops counted per reason and per input), feed the correlator, and
// hand back the rows encoded for the three tables. Runs in a worker thread
// (src/correlator/worker.ts) or inline; it never touches the database.
import { Correlator, type CorrelatorOptions, type CorrelatorStats } from './correlator.js';
import { toHttpRecord } from './http-record.js';
import { DEFAULT_MAX_LINE_BYTES, emptyDropCounters, forEachJsonLine, type DropCounters } from './input-lines.js';
import { toTlsInput } from './tls-event-input.js';

/**
 * Which clock decides the windows: 'wall' (live: the time records arrive)
 * or 'event' (replays and the simulator without pacing: the newest
 * timestamp seen in the data, so an hour of traffic loaded in seconds
 * still sees its connections close and its requests wait the right time).
 */
export type CorrelatorClock = 'wall' | 'event';

export interface BatchCorrelatorOptions extends Partial<CorrelatorOptions> {
  clock?: CorrelatorClock;
  maxLineBytes?: number;
}

export interface EncodedRows {
  /** ja4_logs.http_logs_ingest JSONEachRow */
  ingest: string;
  /** ja4_logs.http_requests */
  requests: string;
  /** ja4_logs.tls_events */
  tlsEvents: string;
  /** rows in `ingest` */
  ingestRows: number;
}

export interface BatchStats {
  correlator: CorrelatorStats;
  drops: { http: DropCounters; tls: DropCounters };
}

export class BatchCorrelator {
  private readonly correlator: Correlator;
  private readonly clock: CorrelatorClock;
  private readonly maxLineBytes: number;
  private readonly drops = { http: emptyDropCounters(), tls: emptyDropCounters() };
  private watermarkUs = 0;
  private ingest: string[] = [];
  private requests: string[] = [];
  private tlsEvents: string[] = [];

  constructor(options: BatchCorrelatorOptions = {}) {
    const { clock, maxLineBytes, ...rest } = options;
    this.clock = clock ?? 'wall';
    this.maxLineBytes = maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.correlator = new Correlator(
      {
        ingest: (l) => this.ingest.push(l),
        request: (l) => this.requests.push(l),
        tlsEvent: (l) => this.tlsEvents.push(l),
      },
      rest,
    );
  }

  /**
   * TLS events first (they usually describe connections the requests of the
   * same batch ran on), then HTTP records, then the windows. `nowUs` is the
   * wall clock in 'wall' mode and ignored in 'event' mode.
   */
  process(http: Buffer | undefined, tls: Buffer | undefined, nowUs: number): EncodedRows {
    const c = this.correlator;
    const event = this.clock === 'event';
    const now = (): number => (event ? this.watermarkUs : nowUs);
    if (tls && tls.length > 0) {
      forEachJsonLine(tls, this.maxLineBytes, this.drops.tls, (o) => {
        const e = toTlsInput(o);
        if (!e) {
          this.drops.tls.schema_invalid++;
          return;
        }
        if (event && e.event.last_ts_us > this.watermarkUs) this.watermarkUs = e.event.last_ts_us;
        if (e.kind === 'flow') c.flow(e.event, now());
        else c.close(e.event, now());
      });
    }
    if (http && http.length > 0) {
      forEachJsonLine(http, this.maxLineBytes, this.drops.http, (o) => {
        const r = toHttpRecord(o);
        if (!r) {
          this.drops.http.schema_invalid++;
          return;
        }
        if (event && r.ts_us > this.watermarkUs) this.watermarkUs = r.ts_us;
        c.http(r, now());
      });
    }
    c.sweep(now());
    return this.take();
  }

  /** Shutdown: waiting requests are written (tls_not_seen). */
  flush(): EncodedRows {
    this.correlator.flushPending();
    return this.take();
  }

  stats(): BatchStats {
    return { correlator: this.correlator.stats(), drops: { http: { ...this.drops.http }, tls: { ...this.drops.tls } } };
  }

  private take(): EncodedRows {
    const out: EncodedRows = {
      ingest: this.ingest.join(''),
      requests: this.requests.join(''),
      tlsEvents: this.tlsEvents.join(''),
      ingestRows: this.ingest.length,
    };
    this.ingest = [];
    this.requests = [];
    this.tlsEvents = [];
    return out;
  }
}
