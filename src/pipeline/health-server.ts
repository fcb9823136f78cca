// GET /healthz (200 "ok" while the pipeline runs and the writer is not
// stuck; 503 with the reason otherwise) and GET /metrics (Prometheus text
// format 0.0.4) for the pipeline, with the metric names of
// src/metrics/names.ts: `ja4 run` serves them on metrics.port.all (or
// --metrics-listen), startPipeline({ metricsListen }) for other callers.
// Rendering reads counters only: a scrape never waits on the pipeline's work.
import { registerDetectorMetrics, type DetectorCounters } from '../metrics/detector-metrics.js';
import { startMetricsServer } from '../metrics/exporter.js';
import { registerPipelineMetrics } from '../metrics/pipeline-metrics.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { serviceRegistry } from '../metrics/serve.js';
import type { CorrelationStage } from './correlation-stage.js';
import type { Stage } from './stage.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthSource {
  stages(): readonly Stage[];
  /** undefined when healthy, else why not */
  unhealthy(): string | undefined;
}

/**
 * Why the pipeline is not healthy: the database refuses the writer's inserts
 * (the latest attempt failed; one success clears it, so a `--spool-always`
 * writer, always "spooling", is healthy again once an insert goes through),
 * or input was lost in the last minute (correlation behind: the backlog
 * full, a slow database holding the loop; a failed correlation step).
 */
export function writerUnhealthy(correlation: CorrelationStage): string | undefined {
  const s = correlation.detailedStats();
  if (s.writer.failing) return `writing to the database fails (${s.writer.last_error})${s.writer.mode === 'spooling' ? '; spooling' : ''}`;
  return correlation.lossUnhealthy();
}

/** The writer first, then any input that cannot do its work any more (a live capture whose interface went). */
export function pipelineUnhealthy(correlation: CorrelationStage, inputs: readonly Stage[]): string | undefined {
  return writerUnhealthy(correlation) ?? inputs.map((s) => s.unhealthy?.()).find((why) => why !== undefined);
}

/**
 * The pipeline's metrics on a registry: receivers, correlator, writer,
 * spool, the capture (with iface), and the detector stage's when it runs.
 */
export function registerRunMetrics(registry: MetricsRegistry, stages: () => readonly Stage[], opts: { iface?: string } = {}): void {
  registerPipelineMetrics(registry, stages, opts);
  registerDetectorMetrics(registry, () => {
    const stage = stages().find((s) => s.name === 'detector') as (Stage & { service?: () => { stats(): DetectorCounters } | undefined }) | undefined;
    return stage?.service?.()?.stats();
  });
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`--metrics-listen must be HOST:PORT (e.g. 127.0.0.1:9470), got "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startHealthServer(listen: { host: string; port: number }, source: HealthSource): Promise<HealthServer> {
  const registry = serviceRegistry('ja4-run');
  registerRunMetrics(registry, () => source.stages());
  const server = await startMetricsServer({ registry, host: listen.host, port: listen.port, health: () => source.unhealthy() });
  return { port: server.port, close: () => server.close() };
}
