// Prometheus metrics: the registry, the /metrics server, process metrics and
// the catalogue of names the services use (docs/operations.md, metrics).
export { CONTENT_TYPE, Counter, DEFAULT_BUCKETS, Gauge, Histogram, MetricsRegistry, type Collected, type HistogramOptions, type Labels, type MetricOptions } from './registry.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './exporter.js';
export { registerProcessMetrics, type ProcessMetricsOptions } from './process-metrics.js';
export { METRIC_NAMES, type MetricName } from './names.js';
