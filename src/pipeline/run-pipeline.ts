// `ja4 run` assembled: storage (migrated), the writer (sink + spool), the
// correlation stage, the inputs, a progress line, /healthz and /metrics.
// Stages start in order and stop in reverse: inputs stop first (the
// capture flushes its open connections), then the correlator writes what
// it holds and the writer drains, then the database closes.
import type { LiveCaptureOptions } from '../capture/live-capture.js';
import type { SimulatorOptions } from '../simulator/index.js';
import { TABLES, type Storage } from '../storage/index.js';
import type { CorrelatorPoolOptions } from '../correlator/correlator-pool.js';
import type { BatcherOptions } from './batcher.js';
import { CorrelationStage } from './correlation-stage.js';
import { pipelineUnhealthy, startHealthServer, type HealthServer } from './health-server.js';
import { liveCaptureStage, receiverStage, simulatorStage } from './input-stages.js';
import { clickhouseSink, jsonlFileSink, stdoutSink, type OutputSpec, type Sink } from './sinks.js';
import { Spool } from './spool.js';
import type { Stage } from './stage.js';
import type { Logger } from '../config/logger.js';

export interface SocketSpec {
  path: string;
  type: 'dgram' | 'seqpacket';
  mode?: number;
  group?: string;
}

export interface PipelineOptions {
  /** needed for --output clickhouse */
  storage?: Storage;
  output: OutputSpec;
  /** undefined: no spool (file and stdout outputs) */
  spool?: { dir: string; maxBytes: number; mode: 'fallback' | 'always' };
  correlator?: CorrelatorPoolOptions;
  batcher?: Partial<BatcherOptions>;
  /** mod_reqin_log's socket; undefined = none */
  httpSocket?: SocketSpec;
  /** external sensors' socket; undefined = none */
  networkSocket?: SocketSpec;
  /** live capture, or the simulator, or neither */
  capture?: { kind: 'live'; options: LiveCaptureOptions } | { kind: 'simulator'; options: SimulatorOptions };
  progressIntervalMs?: number;
  metricsListen?: { host: string; port: number };
  /** the service's logger: progress at info, drops and spooling at warn, failures at error */
  log: Logger;
}

export interface Pipeline {
  readonly correlation: CorrelationStage;
  readonly stages: readonly Stage[];
  readonly metricsPort: number | undefined;
  /**
   * Adds a stage (detector, dashboard, ...) after the built-in ones; started
   * at once if the pipeline runs, stopped before the inputs.
   */
  addStage(stage: Stage): Promise<void>;
  /** Stops everything in reverse order; resolves when the data is written (or spooled). */
  stop(): Promise<void>;
  /** why /healthz should answer 503 (the writer failing, an input gone); undefined: healthy */
  unhealthy(): string | undefined;
}

function tableNames(storage: Storage | undefined) {
  const w = storage?.tables.write ?? ((k: keyof typeof TABLES) => TABLES[k]);
  return { ingest: w('httpLogsIngest'), requests: w('httpRequests'), tlsEvents: w('tlsEvents') };
}

async function openSink(opts: PipelineOptions): Promise<Sink> {
  const tables = tableNames(opts.storage);
  switch (opts.output.kind) {
    case 'clickhouse':
      if (!opts.storage) throw new Error('--output clickhouse needs a database');
      return clickhouseSink(opts.storage);
    case 'jsonl':
      return jsonlFileSink(opts.output.path, tables.ingest);
    case 'stdout':
      return stdoutSink(tables.ingest);
  }
}

const DROP_REASONS = ['oversized', 'not_json', 'schema_invalid'] as const;

/**
 * The progress record (fields of one info line) from two snapshots of the
 * correlation stage's counters: rates over the interval, state now, drop
 * totals since the start.
 */
export function progressFields(prev: Record<string, number>, cur: Record<string, number>, seconds: number, extra: Record<string, Record<string, number>>): Record<string, number | string> {
  const d = (k: string): number => (cur[k] ?? 0) - (prev[k] ?? 0);
  const rate = (k: string): number => Math.round(d(k) / seconds);
  const total = d('matched') + d('no_tls') + d('tls_not_seen');
  // share of the interval's rows; null-free for log shippers: 0 when no rows
  const pct = (k: string): number => (total === 0 ? 0 : Math.round((1000 * d(k)) / total) / 10);
  const fields: Record<string, number | string> = {
    http_per_s: rate('http_records'),
    tls_per_s: rate('flow_events'),
    rows_per_s: rate('rows_out'),
    matched_pct: pct('matched'),
    no_tls_pct: pct('no_tls'),
    tls_not_seen_pct: pct('tls_not_seen'),
    connections: cur.connections ?? 0,
    waiting: cur.pending ?? 0,
    writer: cur.writer_spooling ? 'spooling' : 'direct',
    insert_ms: Math.round(cur.writer_last_write_ms ?? 0),
    spool_segments: cur.spool_segments ?? 0,
    spool_bytes: cur.spool_bytes ?? 0,
    spool_dropped_segments: cur.spool_dropped_segments ?? 0,
    backlog_dropped_bytes: cur.backlog_dropped_bytes ?? 0,
  };
  for (const r of DROP_REASONS) fields[`dropped_${r}`] = (cur[`http_dropped_${r}`] ?? 0) + (cur[`tls_dropped_${r}`] ?? 0);
  const capture = extra.capture;
  if (capture) fields.capture_drops = (capture.ps_drop ?? 0) + (capture.ps_ifdrop ?? 0);
  return fields;
}

/**
 * What was dropped during the interval, per input and reason (only the
 * non-zero ones), or undefined when nothing was: the warn line's fields.
 */
export function dropFields(prev: Record<string, number>, cur: Record<string, number>): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const input of ['http', 'tls'] as const) {
    for (const r of DROP_REASONS) {
      const k = `${input}_dropped_${r}`;
      const n = (cur[k] ?? 0) - (prev[k] ?? 0);
      if (n > 0) out[k] = n;
    }
  }
  const backlog = (cur.backlog_dropped_bytes ?? 0) - (prev.backlog_dropped_bytes ?? 0);
  if (backlog > 0) out.backlog_dropped_bytes = backlog;
  return Object.keys(out).length > 0 ? out : undefined;
}

export async function startPipeline(opts: PipelineOptions): Promise<Pipeline> {
  const log = opts.log;
  const sink = await openSink(opts);
  const spool = opts.spool && opts.output.kind === 'clickhouse' ? new Spool(opts.spool.dir, opts.spool.maxBytes, log.child({ component: 'spool' })) : undefined;
  if (spool && spool.depth.segments > 0) log.warn('batches left in the spool by an earlier run: replaying them first', { spool_segments: spool.depth.segments, spool_dir: spool.dir });
  const correlation = new CorrelationStage({
    sink,
    spool,
    tables: tableNames(opts.storage),
    correlator: opts.correlator,
    batcher: opts.batcher,
    writer: { spoolMode: opts.spool?.mode ?? 'fallback' },
    log,
  });

  const inputs: Stage[] = [];
  if (opts.httpSocket) inputs.push(receiverStage('http_socket', opts.httpSocket, (b) => correlation.pushHttp(b)));
  if (opts.networkSocket) inputs.push(receiverStage('network_socket', opts.networkSocket, (b) => correlation.pushTls(b)));
  if (opts.capture?.kind === 'live') inputs.push(liveCaptureStage(opts.capture.options, (b) => correlation.pushTls(b), log));
  if (opts.capture?.kind === 'simulator') {
    inputs.push(simulatorStage(opts.capture.options, (b) => correlation.pushHttp(b), (b) => correlation.pushTls(b), log));
  }

  // ---- other services (detector, dashboard) are added here by the caller via addStage() ----
  const extra: Stage[] = [];
  const started: Stage[] = [];
  const startStage = async (s: Stage): Promise<void> => {
    await s.start();
    started.push(s);
  };

  try {
    await startStage(correlation);
    for (const s of inputs) await startStage(s);
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    throw err;
  }

  let health: HealthServer | undefined;
  const all = (): Stage[] => [correlation, ...inputs, ...extra];
  if (opts.metricsListen) {
    health = await startHealthServer(opts.metricsListen, {
      stages: all,
      unhealthy: () => pipelineUnhealthy(correlation, inputs),
    });
  }

  let prev = correlation.stats();
  let prevAt = Date.now();
  const progress = setInterval(() => {
    const cur = correlation.stats();
    const now = Date.now();
    const extraStats: Record<string, Record<string, number>> = {};
    for (const s of inputs) extraStats[s.name] = s.stats();
    log.info('progress', progressFields(prev, cur, Math.max(0.001, (now - prevAt) / 1000), extraStats));
    const dropped = dropFields(prev, cur);
    if (dropped) log.warn('input dropped', dropped);
    prev = cur;
    prevAt = now;
  }, opts.progressIntervalMs ?? 5000);
  progress.unref();

  let stopping: Promise<void> | undefined;
  return {
    correlation,
    get stages() {
      return all();
    },
    metricsPort: health?.port,
    unhealthy: () => pipelineUnhealthy(correlation, inputs),
    async addStage(stage) {
      await stage.start();
      extra.push(stage);
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(progress);
        for (const s of [...extra].reverse()) await s.stop().catch((err: unknown) => log.error('stopping a stage failed', { stage: s.name, error: (err as Error).message }));
        for (const s of [...inputs].reverse()) await s.stop().catch((err: unknown) => log.error('stopping a stage failed', { stage: s.name, error: (err as Error).message }));
        await correlation.stop();
        await sink.close();
        await health?.close();
      })();
      return stopping;
    },
  };
}
