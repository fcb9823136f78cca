// Prometheus metrics without a dependency: counters, gauges and histograms
// rendered in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
// Series are kept in insertion order, so the output is deterministic; each
// metric holds at most maxSeries label sets (bounded memory when a label
// value comes from traffic): further ones are not recorded and are counted
// in ja4_metrics_dropped_series_total.

export type Labels = Readonly<Record<string, string | number>>;

/** Values a collect callback reports at scrape time: one number (no labels) or per label set. */
export type Collected = number | ReadonlyArray<readonly [Labels, number]>;

export interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** called on every scrape, before rendering; its values replace the stored ones */
  collect?: () => Collected;
  /** label sets kept; default 1000 */
  maxSeries?: number;
}

export interface HistogramOptions extends Omit<MetricOptions, 'collect'> {
  /** upper bounds, increasing; +Inf is added. Default: DEFAULT_BUCKETS (seconds) */
  buckets?: readonly number[];
}

/** Prometheus client libraries' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// "Metric names may contain ASCII letters, digits, underscores, and colons.
// It must match the regex [a-zA-Z_:][a-zA-Z0-9_:]*." "Label names ... must
// match the regex [a-zA-Z_][a-zA-Z0-9_]*. Label names beginning with __ are
// reserved for internal use." (Prometheus data model)
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Kind = 'counter' | 'gauge' | 'histogram';

abstract class Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly maxSeries: number;
  /** key: label values joined by \u0000 */
  protected readonly series = new Map<string, { labels: string[] }>();
  abstract readonly kind: Kind;

  constructor(
    opts: MetricOptions,
    private readonly onDropped: () => void,
  ) {
    if (!METRIC_NAME.test(opts.name)) throw new TypeError(`metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, got "${opts.name}"`);
    if (typeof opts.help !== 'string' || opts.help === '') throw new TypeError(`metric ${opts.name}: help must be a non-empty string`);
    const labelNames = opts.labelNames ?? [];
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new TypeError(`metric ${opts.name}: label name must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __, got "${l}"`);
      if (l === 'le' || l === 'quantile') throw new TypeError(`metric ${opts.name}: label name "${l}" is reserved`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`metric ${opts.name}: label names repeat`);
    const maxSeries = opts.maxSeries ?? 1000;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) throw new TypeError(`metric ${opts.name}: maxSeries must be a positive integer, got ${maxSeries}`);
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = labelNames;
    this.maxSeries = maxSeries;
  }

  /** The series key for these labels, or undefined when the series cap is reached. */
  protected key(labels: Labels | undefined): string | undefined {
    const values = this.labelNames.map((n) => {
      const v = labels?.[n];
      if (v === undefined) throw new TypeError(`metric ${this.name}: label "${n}" is missing`);
      return String(v);
    });
    if (labels) for (const k of Object.keys(labels)) if (!this.labelNames.includes(k)) throw new TypeError(`metric ${this.name}: unknown label "${k}"`);
    const key = values.join('\u0000');
    if (!this.series.has(key)) {
      if (this.series.size >= this.maxSeries) {
        this.onDropped();
        return undefined;
      }
      this.series.set(key, { labels: values });
    }
    return key;
  }

  protected labelText(values: readonly string[], extra?: [string, string]): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return pairs.length ? `{${pairs.join(',')}}` : '';
  }

  header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`;
  }

  abstract render(): string;
}

class ValueMetric extends Metric {
  readonly kind: 'counter' | 'gauge';
  protected readonly values = new Map<string, number>();
  private readonly collectFn?: () => Collected;

  constructor(kind: 'counter' | 'gauge', opts: MetricOptions, onDropped: () => void) {
    super(opts, onDropped);
    this.kind = kind;
    this.collectFn = opts.collect;
  }

  protected add(labels: Labels | undefined, by: number): void {
    const key = this.key(labels);
    if (key !== undefined) this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  protected put(labels: Labels | undefined, v: number): void {
    const key = this.key(labels);
    if (key !== undefined) this.values.set(key, v);
  }

  /** Runs the collect callback (scrape time). */
  collect(): void {
    if (!this.collectFn) return;
    const c = this.collectFn();
    if (typeof c === 'number') this.put(undefined, c);
    else for (const [labels, v] of c) this.put(labels, v);
  }

  /** The current value of a series (0 when never set). */
  get(labels?: Labels): number {
    const key = this.labelNames.map((n) => String(labels?.[n])).join('\u0000');
    return this.values.get(key) ?? 0;
  }

  render(): string {
    let out = this.header();
    if (this.labelNames.length === 0 && this.series.size === 0) {
      out += `${this.name} 0\n`; // an unlabelled metric exists from its creation
      return out;
    }
    for (const [key, s] of this.series) out += `${this.name}${this.labelText(s.labels)} ${formatValue(this.values.get(key) ?? 0)}\n`;
    return out;
  }
}

export class Counter extends ValueMetric {
  constructor(opts: MetricOptions, onDropped: () => void) {
    super('counter', opts, onDropped);
  }
  /** inc(), inc(5), inc({ status: 'matched' }), inc({ status: 'matched' }, 5) */
  inc(labelsOrBy?: Labels | number, by = 1): void {
    const [labels, n] = typeof labelsOrBy === 'number' ? [undefined, labelsOrBy] : [labelsOrBy, by];
    // "A counter is a cumulative metric ... whose value can only increase"
    if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`counter ${this.name}: increment must be a finite number >= 0, got ${n}`);
    this.add(labels, n);
  }
}

export class Gauge extends ValueMetric {
  constructor(opts: MetricOptions, onDropped: () => void) {
    super('gauge', opts, onDropped);
  }
  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.put(undefined, labelsOrValue);
    else this.put(labelsOrValue, value ?? 0);
  }
  inc(labelsOrBy?: Labels | number, by = 1): void {
    if (typeof labelsOrBy === 'number') this.add(undefined, labelsOrBy);
    else this.add(labelsOrBy, by);
  }
  dec(labelsOrBy?: Labels | number, by = 1): void {
    if (typeof labelsOrBy === 'number') this.add(undefined, -labelsOrBy);
    else this.add(labelsOrBy, -by);
  }
}

export class Histogram extends Metric {
  readonly kind = 'histogram' as const;
  readonly buckets: readonly number[];
  /** per series: counts per bucket (not cumulative), then sum and count */
  private readonly data = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(opts: HistogramOptions, onDropped: () => void) {
    super(opts, onDropped);
    const buckets = [...(opts.buckets ?? DEFAULT_BUCKETS)];
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new TypeError(`histogram ${opts.name}: buckets must be finite and increasing, got [${buckets.join(', ')}]`);
    }
    this.buckets = buckets;
  }

  observe(labelsOrValue: Labels | number, value?: number): void {
    const [labels, v] = typeof labelsOrValue === 'number' ? [undefined, labelsOrValue] : [labelsOrValue, value ?? NaN];
    if (Number.isNaN(v)) throw new RangeError(`histogram ${this.name}: observed value must be a number, got ${v}`);
    const key = this.key(labels);
    if (key === undefined) return;
    let d = this.data.get(key);
    if (!d) this.data.set(key, (d = { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++; // "le": less than or equal
    d.counts[i]!++;
    d.sum += v;
    d.count++;
  }

  render(): string {
    let out = this.header();
    const empty = this.labelNames.length === 0 && this.series.size === 0 ? new Map([['', { labels: [] as string[] }]]) : this.series;
    for (const [key, s] of empty) {
      const d = this.data.get(key) ?? { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += d.counts[i]!;
        const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : '+Inf';
        out += `${this.name}_bucket${this.labelText(s.labels, ['le', le])} ${cumulative}\n`;
      }
      out += `${this.name}_sum${this.labelText(s.labels)} ${formatValue(d.sum)}\n`;
      out += `${this.name}_count${this.labelText(s.labels)} ${d.count}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private droppedSeries = 0;
  private collectErrors = 0;
  private readonly onDropped = () => void this.droppedSeries++;

  counter(opts: MetricOptions): Counter {
    return this.register(new Counter(opts, this.onDropped));
  }

  gauge(opts: MetricOptions): Gauge {
    return this.register(new Gauge(opts, this.onDropped));
  }

  histogram(opts: HistogramOptions): Histogram {
    return this.register(new Histogram(opts, this.onDropped));
  }

  /** The exposition text (format 0.0.4): collect callbacks run first. */
  render(): string {
    let out = '';
    for (const m of this.metrics.values()) {
      if (m instanceof ValueMetric) {
        try {
          m.collect();
        } catch {
          // A failing collector must not take the other metrics down; its
          // last values stay, and the failure is counted.
          this.collectErrors++;
        }
      }
      out += m.render();
    }
    out += '# HELP ja4_metrics_dropped_series_total Label sets not recorded because a metric reached its series limit.\n';
    out += '# TYPE ja4_metrics_dropped_series_total counter\n';
    out += `ja4_metrics_dropped_series_total ${this.droppedSeries}\n`;
    out += '# HELP ja4_metrics_collect_errors_total Collect callbacks that threw during a scrape.\n';
    out += '# TYPE ja4_metrics_collect_errors_total counter\n';
    out += `ja4_metrics_collect_errors_total ${this.collectErrors}\n`;
    return out;
  }

  private register<M extends Metric>(m: M): M {
    const suffixes = m.kind === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const existing of this.metrics.keys()) {
      for (const s of suffixes) if (existing === m.name + s) throw new TypeError(`metric ${m.name}${s} is already registered`);
    }
    if (this.metrics.has(m.name) || m.name.startsWith('ja4_metrics_')) throw new TypeError(`metric ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Go's float formatting as Prometheus prints it: integers plain, +Inf, -Inf, NaN. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
