// Registers a metric of the catalogue (names.ts) by its name: type, labels
// and help come from there, so a service cannot export a name the Grafana
// dashboard does not know, nor the same name with other labels.
import { METRIC_NAMES, type MetricName } from './names.js';
import type { Collected, Counter, Gauge, Histogram, MetricsRegistry } from './registry.js';

const BY_NAME: ReadonlyMap<string, MetricName> = new Map(METRIC_NAMES.map((m) => [m.name, m]));

function entry(name: string, type: MetricName['type']): MetricName {
  const m = BY_NAME.get(name);
  if (!m) throw new TypeError(`metric ${name} is not in src/metrics/names.ts`);
  if (m.type !== type) throw new TypeError(`metric ${name} is a ${m.type} in src/metrics/names.ts, not a ${type}`);
  return m;
}

/** A counter or gauge whose values are read at scrape time. */
export function collected(registry: MetricsRegistry, name: string, collect: () => Collected): Counter | Gauge {
  const m = BY_NAME.get(name);
  if (!m || m.type === 'histogram') throw new TypeError(`metric ${name} is not a counter or gauge of src/metrics/names.ts`);
  const opts = { name, help: m.help, labelNames: m.labels, collect };
  return m.type === 'counter' ? registry.counter(opts) : registry.gauge(opts);
}

export function cataloguedCounter(registry: MetricsRegistry, name: string): Counter {
  const m = entry(name, 'counter');
  return registry.counter({ name, help: m.help, labelNames: m.labels });
}

export function cataloguedHistogram(registry: MetricsRegistry, name: string, buckets?: readonly number[]): Histogram {
  const m = entry(name, 'histogram');
  return registry.histogram({ name, help: m.help, labelNames: m.labels, buckets });
}
