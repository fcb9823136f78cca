// `ja4 run`: the whole pipeline in one process (issue 6, "The main job").
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import {
  DEFAULT_REFERENCE_DIR,
  STORAGE_ARG_HELP,
  STORAGE_ARG_SPEC,
  loadReferenceData,
  migrate,
  openStorage,
  storageInputFromArgs,
  validateStorageOptions,
  type Storage,
} from '../storage/index.js';
import { DEFAULT_CORRELATOR_OPTIONS } from '../correlator/correlator.js';
import { CorrelatorPool, validateShards } from '../correlator/correlator-pool.js';
import { registerRunMetrics } from '../pipeline/health-server.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC, DEFAULT_BPF, RUN_FLAG_OPTIONS } from '../config/index.js';
import { loadCommandConfig, type CommandConfig } from '../config/command-config.js';
import { registerDashboardMetrics } from '../metrics/dashboard-metrics.js';
import { parseMetricsListen, serveMetrics, serviceRegistry } from '../metrics/serve.js';
import { parseOutputSpec } from '../pipeline/sinks.js';
import { DEFAULT_BATCHER_OPTIONS } from '../pipeline/batcher.js';
import { startPipeline, type PipelineOptions, type SocketSpec } from '../pipeline/run-pipeline.js';
import { configuredThreshold, startDetectorService } from '../detector/service.js';
import { DEFAULT_MODELS_DIR, STATE_MODELS_DIR, defaultModelsDir } from '../detector/training/manifest.js';
import { startDashboard, type DashboardOptions } from '../dashboard/server.js';
import { serviceStage } from '../pipeline/stage.js';
import { ensureFirstAdmin } from '../pipeline/first-admin.js';
import { CliError } from './cli-error.js';
import { storageCliError } from './db-command.js';
import { LOG_ARG_HELP, LOG_ARG_SPEC, serviceLogger } from './service-logger.js';
import type { CliIO } from './output.js';

export const DEFAULT_HTTP_SOCKET = '/run/ja4/http.socket';
export const DEFAULT_NETWORK_SOCKET = '/run/ja4/network.socket';
export const DEFAULT_SPOOL_DIR = '/var/lib/ja4/spool';

export const RUN_HELP = `Usage: ja4 run [options]

Runs the pipeline in one process: database migrations, the receivers of
mod_reqin_log (http socket) and of external sensors (network socket), the
capture (live on --iface, else the traffic simulator in real time), the
correlator and the writer. Prints a progress line every few seconds;
SIGINT/SIGTERM flush and exit.

Inputs:
  --iface IF               capture live on this interface (needs CAP_NET_RAW); default:
                           no capture, the simulator feeds the pipeline instead
  --bpf EXPR               capture filter (default: tcp or udp port 443)
  --no-simulate            no simulator (with no --iface and no capture.iface: sockets only)
  --no-capture             no live capture, even with capture.iface in the configuration
  --simulate-rate N        simulated requests/s (default 200)
  --simulate-seed N        simulator seed (default 1)
  --http-socket PATH       mod_reqin_log's socket (default ${DEFAULT_HTTP_SOCKET}; "none": off)
  --http-socket-type T     seqpacket (default, as mod_reqin_log sends) or dgram
  --network-socket PATH    TLS events from sensors, one JSON object per datagram
                           (default ${DEFAULT_NETWORK_SOCKET}; "none": off)
  --socket-mode MODE       permission bits of both socket files, octal (default 0660:
                           the owner and the group only)
  --socket-group GROUP     group of both socket files (default: this process's group);
                           Apache's (www-data on Debian, apache on EL), or a group
                           Apache's user is in (the packages add apache to ja4)

Correlation:
  --tls-wait-ms N          how long an HTTPS request waits for its TLS event (default ${DEFAULT_CORRELATOR_OPTIONS.tlsWaitMs})
  --close-grace-ms N       records still joining a closed connection (default ${DEFAULT_CORRELATOR_OPTIONS.closeGraceMs})
  --idle-timeout-ms N      connection forgotten after this long unused (default ${DEFAULT_CORRELATOR_OPTIONS.idleTimeoutMs})
  --window-ms N            connection forgotten this long after its TLS event (default ${DEFAULT_CORRELATOR_OPTIONS.windowMs})
  --max-connections N      connections kept (default ${DEFAULT_CORRELATOR_OPTIONS.maxConnections})
  --correlator-threads N   worker threads (state shards); 0 = main thread (default ${CorrelatorPool.defaultShards()} here)
  --raw-tables             also write the received halves to ja4_logs.http_requests and
                           ja4_logs.tls_events (debugging copies; off by default: they
                           cost about 40% more insert CPU); --no-raw-tables: off
  --no-plain-http-wait     write plain-HTTP requests at once, instead of letting them wait
                           up to --tls-wait-ms for their connection's TCP fingerprints
                           (JA4T, JA4TS, JA4L) from the capture

Output:
  --output OUT             clickhouse (default), jsonl:FILE or stdout (correlated requests)
  --batch-rows N           most rows per insert (default ${DEFAULT_BATCHER_OPTIONS.maxRows})
  --batch-ms N             longest a row waits for its insert (default ${DEFAULT_BATCHER_OPTIONS.maxDelayMs})
  --spool-dir DIR          batches the database cannot take wait here (default ${DEFAULT_SPOOL_DIR},
                           or <db-dir>/../spool with --db-dir)
  --spool-max-mb N         spool bound; past it the oldest batches are dropped, loudly (default 1024)
  --spool-always           every batch through the spool first (write-ahead; an fsync per batch)

Detector and dashboard (on the database output only):
  --no-detector            do not score (default: the detector scores every --detector-interval)
  --models DIR             model sets (default ${STATE_MODELS_DIR} once a model was trained
                           there, else ${DEFAULT_MODELS_DIR}: the shipped default model)
  --detector-interval S    seconds between scoring passes (default 60)
  --no-dashboard           do not serve the dashboard
  --listen HOST:PORT       the dashboard's address (default 0.0.0.0:8000; port 0: any free port)
                           With no dashboard user yet, an "admin" account is created and its
                           password kept (mode 0600) in <db-dir>/../initial-admin-password.

Run:
  --duration S             stop after S seconds (default: until SIGINT/SIGTERM)
  --progress-interval S    seconds between progress lines (default 5)
  --metrics-listen H:P     serve /healthz and /metrics (Prometheus) there (default:
                           metrics.host and metrics.port.all of the configuration, 127.0.0.1:9470)
  --metrics-service S      all (default) or correlator: which metrics.port.* applies
                           (the split deployment's ja4-correlator unit says correlator)
  --no-reference-load      do not load data/reference/ into empty reference tables

Every option above with a configuration key (docs/configuration.md) is also
read from /etc/ja4/config.yaml and JA4_* variables; a flag given here wins.

${LOG_ARG_HELP}
${CONFIG_ARG_HELP}
${STORAGE_ARG_HELP}`;

const RUN_FLAGS = {
  iface: { type: 'string' },
  bpf: { type: 'string' },
  'no-simulate': { type: 'boolean' },
  'no-capture': { type: 'boolean' },
  'simulate-rate': { type: 'string' },
  'simulate-seed': { type: 'string' },
  'http-socket': { type: 'string' },
  'http-socket-type': { type: 'string' },
  'network-socket': { type: 'string' },
  'socket-mode': { type: 'string' },
  'socket-group': { type: 'string' },
  'tls-wait-ms': { type: 'string' },
  'close-grace-ms': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'window-ms': { type: 'string' },
  'max-connections': { type: 'string' },
  'correlator-threads': { type: 'string' },
  'raw-tables': { type: 'boolean' },
  'no-raw-tables': { type: 'boolean' },
  'no-plain-http-wait': { type: 'boolean' },
  output: { type: 'string' },
  'batch-rows': { type: 'string' },
  'batch-ms': { type: 'string' },
  'spool-dir': { type: 'string' },
  'spool-max-mb': { type: 'string' },
  'spool-always': { type: 'boolean' },
  duration: { type: 'string' },
  'progress-interval': { type: 'string' },
  'metrics-listen': { type: 'string' },
  'metrics-service': { type: 'string' },
  'no-reference-load': { type: 'boolean' },
  'no-detector': { type: 'boolean' },
  models: { type: 'string' },
  'detector-interval': { type: 'string' },
  'no-dashboard': { type: 'boolean' },
  listen: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The largest delay Node's timers take, in seconds: past 2^31-1 ms a timer
 * fires after 1 ms (a 25-day --duration stopped at once).
 */
const MAX_TIMER_S = Math.floor(0x7fffffff / 1000);

/** A positive integer option, or its default; the message names the option. */
export function intOption(values: Record<string, unknown>, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new CliError(`--${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got "${String(raw)}"`);
  }
  return n;
}

function socketSpec(values: Record<string, unknown>, flag: string, fallback: string, type: 'dgram' | 'seqpacket', mode: number, group: string | undefined): SocketSpec | undefined {
  const path = (values[flag] as string | undefined) ?? fallback;
  if (path === 'none') return undefined;
  if (!path.startsWith('/')) throw new CliError(`--${flag} must be an absolute path or "none", got "${path}"`);
  // sockaddr_un.sun_path: 108 bytes with the terminating NUL
  if (Buffer.byteLength(path) > 107) throw new CliError(`--${flag} must be at most 107 bytes (a UNIX socket address), got ${Buffer.byteLength(path)}: "${path}"`);
  return { path, type, mode, group };
}

/** Options of `ja4 run` from argv (validated), without opening anything. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: false, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, ...LOG_ARG_SPEC, ...RUN_FLAGS } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 run --help" for usage.`);
  }
  // --help needs no configuration (a broken file must not hide the usage)
  const cfg: CommandConfig | undefined = parsed.values.help ? undefined : loadCommandConfig(parsed.values, RUN_FLAG_OPTIONS, env);
  const v = cfg?.values ?? (parsed.values as Record<string, unknown>);
  let output;
  try {
    output = parseOutputSpec(v.output as string | undefined);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const httpType = (v['http-socket-type'] as string | undefined) ?? 'seqpacket';
  if (httpType !== 'seqpacket' && httpType !== 'dgram') throw new CliError(`--http-socket-type must be seqpacket or dgram, got "${httpType}"`);
  const modeText = (v['socket-mode'] as string | undefined) ?? '0660';
  if (!/^0?[0-7]{3,4}$/.test(modeText)) throw new CliError(`--socket-mode must be octal permission bits such as 0660, got "${modeText}"`);
  const mode = parseInt(modeText, 8);
  const group = v['socket-group'] as string | undefined;
  let shards: number;
  try {
    // "auto" is correlator.threads' default in the file: by CPU cores
    const threads = v['correlator-threads'];
    shards = validateShards(threads === undefined || threads === 'auto' ? CorrelatorPool.defaultShards() : intOption(v, 'correlator-threads', 1, 0, 64));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  // on the command line both would be a contradiction; a flag given there
  // wins over the file's correlator.raw_tables (which sets one of them in v)
  const cli = parsed.values as Record<string, unknown>;
  if (cli['raw-tables'] === true && cli['no-raw-tables'] === true) throw new CliError('--raw-tables and --no-raw-tables contradict each other');
  const rawTables = cli['raw-tables'] === true || (cli['no-raw-tables'] !== true && v['raw-tables'] === true && v['no-raw-tables'] !== true);
  // --no-capture: no live capture even where capture.iface is set (the
  // split deployment's correlator shares ja4.env and config.yaml with
  // ja4-capture, whose interface it must leave alone: it has no CAP_NET_RAW)
  if (cli['no-capture'] === true && cli.iface !== undefined) throw new CliError('--iface and --no-capture contradict each other');
  const iface = cli['no-capture'] === true ? undefined : (v.iface as string | undefined);
  const storageInput = { ...storageInputFromArgs(v, cfg?.env ?? env), ...cfg?.storageExtra };
  const spoolDir = (v['spool-dir'] as string | undefined) ?? (storageInput.dataDir && !storageInput.url ? join(storageInput.dataDir, '..', 'spool') : DEFAULT_SPOOL_DIR);
  if (v['metrics-listen'] !== undefined) {
    try {
      parseMetricsListen(v['metrics-listen'] as string);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  // which metrics.port.* applies: ja4-all's, or the split correlator's (its
  // unit runs ja4 run too); a unit naming an address instead would hide
  // metrics.enabled, metrics.host and the port of the configuration
  const metricsService = (v['metrics-service'] as string | undefined) ?? 'all';
  if (metricsService !== 'all' && metricsService !== 'correlator') throw new CliError(`--metrics-service must be all or correlator, got "${metricsService}"`);
  // receive buffer and datagram bound: configuration only (no flags); the
  // buffer always (its documented default is not the kernel's)
  const receive = cfg
    ? { receiveBufferBytes: cfg.config.sockets.receive_buffer_bytes, ...(cfg.isSet('sockets.max_datagram_bytes') ? { maxDatagramBytes: cfg.config.sockets.max_datagram_bytes } : {}) }
    : {};
  const withReceive = (spec: SocketSpec | undefined): SocketSpec | undefined => (spec ? Object.assign(spec, receive) : undefined);
  // options without a flag of their own, taken from the configuration when set there
  const configured = <T>(path: string, value: (c: NonNullable<typeof cfg>['config']) => T): T | undefined => (cfg?.isSet(path) ? value(cfg.config) : undefined);
  const captureExtra = Object.fromEntries(
    Object.entries({
      snaplen: configured('capture.snaplen', (c) => c.capture.snaplen),
      bufferMb: configured('capture.buffer_mb', (c) => c.capture.buffer_mb),
      promisc: configured('capture.promisc', (c) => c.capture.promisc),
      sensor: configured('capture.sensor', (c) => c.capture.sensor || undefined),
      maxFlows: configured('capture.max_flows', (c) => c.capture.max_flows),
      idleTimeoutMs: configured('capture.idle_timeout_ms', (c) => c.capture.idle_timeout_ms),
    }).filter(([, x]) => x !== undefined),
  );
  const secure = configured('dashboard.secure_cookies', (c) => c.dashboard.secure_cookies);
  const dashboardExtra = Object.fromEntries(
    Object.entries({
      trustProxy: configured('dashboard.trust_proxy', (c) => c.dashboard.trust_proxy),
      secureCookies: secure === undefined ? undefined : secure === 'auto' ? ('auto' as const) : secure === 'always',
      publisher: configured('dashboard.poll_ms', (c) => ({ detectionsMs: c.dashboard.poll_ms })),
      sessions: configured('dashboard.session_ttl_s', (c) => ({ absoluteMs: c.dashboard.session_ttl_s * 1000 })),
      maxQueryMemoryBytes: configured('dashboard.max_query_memory_mb', (c) => c.dashboard.max_query_memory_mb * 1024 * 1024),
    }).filter(([, x]) => x !== undefined),
  ) as Pick<DashboardOptions, 'trustProxy' | 'secureCookies' | 'publisher' | 'sessions' | 'maxQueryMemoryBytes'>;
  const detectorWorkers = configured('detector.workers', (c) => (c.detector.workers === 0 ? undefined : c.detector.workers));
  const detectorThreshold = configured('detector.threshold', (c) => configuredThreshold(c.detector.threshold));
  return {
    /** the configuration (undefined with --help) and --metrics-listen, for /metrics */
    config: cfg,
    /** --log-level/--log-format, or logging.* of the configuration (validated by serviceLogger) */
    logFlags: { 'log-level': v['log-level'], 'log-format': v['log-format'] } as Record<string, unknown>,
    metricsListen: v['metrics-listen'] as string | undefined,
    metricsService: metricsService as 'all' | 'correlator',
    help: v.help === true,
    storageInput,
    output,
    durationS: v.duration === undefined ? undefined : intOption(v, 'duration', 0, 1, MAX_TIMER_S),
    referenceLoad: v['no-reference-load'] !== true,
    detector: v['no-detector'] === true ? undefined : { modelsDir: (v.models as string | undefined) ?? defaultModelsDir(), intervalS: intOption(v, 'detector-interval', 60, 1, MAX_TIMER_S), ...(detectorWorkers ? { workers: detectorWorkers } : {}), ...(detectorThreshold ? { threshold: detectorThreshold } : {}) },
    dashboard: v['no-dashboard'] === true ? undefined : { listen: v.listen as string | undefined, ...dashboardExtra },
    /** where the first admin's password is kept (next to the database) */
    adminPasswordFile: join(storageInput.dataDir && !storageInput.url ? join(storageInput.dataDir, '..') : '/var/lib/ja4', 'initial-admin-password'),
    pipeline: {
      output,
      spool: { dir: spoolDir, maxBytes: intOption(v, 'spool-max-mb', 1024) * 1024 * 1024, mode: v['spool-always'] === true ? 'always' : 'fallback' },
      correlator: {
        shards,
        tlsWaitMs: intOption(v, 'tls-wait-ms', DEFAULT_CORRELATOR_OPTIONS.tlsWaitMs, 0),
        closeGraceMs: intOption(v, 'close-grace-ms', DEFAULT_CORRELATOR_OPTIONS.closeGraceMs, 0),
        idleTimeoutMs: intOption(v, 'idle-timeout-ms', DEFAULT_CORRELATOR_OPTIONS.idleTimeoutMs),
        windowMs: intOption(v, 'window-ms', DEFAULT_CORRELATOR_OPTIONS.windowMs),
        maxConnections: intOption(v, 'max-connections', DEFAULT_CORRELATOR_OPTIONS.maxConnections),
        rawTables,
        plainHttpWait: v['no-plain-http-wait'] !== true,
        clock: 'wall',
      },
      batcher: { maxRows: intOption(v, 'batch-rows', DEFAULT_BATCHER_OPTIONS.maxRows), maxDelayMs: intOption(v, 'batch-ms', DEFAULT_BATCHER_OPTIONS.maxDelayMs, 1, MAX_TIMER_S * 1000) },
      httpSocket: withReceive(socketSpec(v, 'http-socket', DEFAULT_HTTP_SOCKET, httpType, mode, group)),
      networkSocket: withReceive(socketSpec(v, 'network-socket', DEFAULT_NETWORK_SOCKET, cfg?.config.sockets.network_type ?? 'dgram', mode, group)),
      capture:
        iface !== undefined
          ? { kind: 'live', options: { iface, bpf: (v.bpf as string | undefined) ?? DEFAULT_BPF, ...captureExtra } }
          : v['no-simulate'] === true
            ? undefined
            : { kind: 'simulator', options: { rate: intOption(v, 'simulate-rate', 200), seed: intOption(v, 'simulate-seed', 1, 0) } },
      progressIntervalMs: intOption(v, 'progress-interval', 5, 1, MAX_TIMER_S) * 1000,
    } satisfies Omit<PipelineOptions, 'log' | 'storage'>,
  };
}

export async function runRunCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    io.out(RUN_HELP);
    return 0;
  }
  const log = serviceLogger('ja4-run', args.logFlags, io);
  let storage: Storage | undefined;
  if (args.output.kind === 'clickhouse') {
    try {
      storage = await openStorage(validateStorageOptions(args.storageInput));
      const result = await migrate(storage);
      if (result.applied.length > 0) log.info('applied the migrations', { migrations: result.applied.length });
      if (args.referenceLoad) {
        const [ref] = await storage.query<{ n: number }>('SELECT count() AS n FROM ja4_processing.ref_ja4plus_mapping');
        if (ref!.n === 0) {
          await loadReferenceData(storage, DEFAULT_REFERENCE_DIR);
          log.info('loaded the reference data', { dir: DEFAULT_REFERENCE_DIR });
        }
      }
    } catch (err) {
      await storage?.close().catch(() => undefined);
      storageCliError('ja4 run', err);
    }
  }

  let pipeline;
  try {
    pipeline = await startPipeline({ ...args.pipeline, storage, log });
  } catch (err) {
    await storage?.close().catch(() => undefined);
    const e = err as { code?: string; message?: string };
    throw new CliError(`ja4 run: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}`, 1);
  }
  // From here on a stop request is remembered: a SIGTERM while the detector
  // or the dashboard start still flushes what the pipeline holds (Node's
  // default action would end the process with the rows of its correlator).
  let requestStop!: (why: string) => void;
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  const onInt = (): void => requestStop('SIGINT');
  const onTerm = (): void => requestStop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const releaseSignals = (): void => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  const p = args.pipeline;
  // /metrics and /healthz: the pipeline's stages, the detector's and the dashboard's (added below)
  const registry = serviceRegistry('ja4-run');
  const started = pipeline;
  registerRunMetrics(registry, () => started.stages, { iface: p.capture?.kind === 'live' ? p.capture.options.iface : undefined });
  const dashboardMetrics = registerDashboardMetrics(registry);
  let metrics;
  try {
    const cfg = args.config!;
    metrics = await serveMetrics({ service: args.metricsService, registry, metrics: cfg.config.metrics, isSet: cfg.isSet, listen: args.metricsListen, health: () => started.unhealthy(), log });
  } catch (err) {
    releaseSignals();
    await pipeline.stop().catch(() => undefined);
    await storage?.close().catch(() => undefined);
    throw new CliError(`ja4 run: ${(err as Error).message}`, 1);
  }
  const inputs = [p.httpSocket && `http ${p.httpSocket.path} (${p.httpSocket.type})`, p.networkSocket && `network ${p.networkSocket.path}`, p.capture?.kind === 'live' ? `capture ${p.capture.options.iface}` : p.capture ? `simulator ${p.capture.options.rate} req/s` : undefined].filter(Boolean);
  const output = args.output.kind === 'clickhouse' ? (storage!.mode === 'embedded' ? `embedded ${storage!.options.dataDir}` : storage!.options.url) : args.output.kind === 'jsonl' ? args.output.path : 'stdout';
  log.info('up', { inputs, output, ...(metrics ? { metrics_port: metrics.port } : {}) });

  // The detector and the dashboard read what the writer stores: database output only.
  if (storage) {
    const db = storage;
    try {
      if (args.detector) {
        const opts = { ...args.detector, log: log.child({ component: 'detector' }) };
        await pipeline.addStage(serviceStage('detector', () => startDetectorService(db, opts)));
        log.info('detector scoring', { interval_s: args.detector.intervalS, models_dir: args.detector.modelsDir });
      }
      if (args.dashboard) {
        const opts = { ...args.dashboard, log: log.child({ component: 'dashboard' }), observe: dashboardMetrics.observe };
        const stage = serviceStage('dashboard', () => startDashboard(db, opts));
        await pipeline.addStage(stage);
        const hub = stage.service()!.hub;
        dashboardMetrics.attachHub(() => hub.stats());
        const admin = await ensureFirstAdmin(db, args.adminPasswordFile, log);
        const url = stage.service()!.url;
        log.info('dashboard up', { url });
        // The log says where the one-time password is (the 0600 file), never
        // the password: journals and log shippers keep what they are given.
        // See docs/operations.md, "Logs".
        if (admin) log.info(`created the dashboard user "${admin.name}"; its password is in ${admin.file} (mode 0600; change it with "ja4 user passwd ${admin.name}")`, { user: admin.name, password_file: admin.file });
      }
    } catch (err) {
      releaseSignals();
      await pipeline.stop().catch(() => undefined);
      await metrics?.close();
      await storage.close().catch(() => undefined);
      const e = err as { code?: string; message?: string };
      throw new CliError(`ja4 run: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}`, 1);
    }
  }

  const durationS = args.durationS;
  const timer = durationS !== undefined ? setTimeout(() => requestStop(`${durationS} s elapsed`), durationS * 1000) : undefined;
  const why = await stopRequested;
  clearTimeout(timer);
  releaseSignals();
  log.info('stopping: flushing', { why });
  await pipeline.stop();
  await metrics?.close();
  const s = pipeline.correlation.detailedStats();
  const c = s.correlator.correlator;
  log.info('stopped', {
    http_records: c.http_records,
    tls_events: c.flow_events,
    matched: c.matched,
    no_tls: c.no_tls,
    tls_not_seen: c.tls_not_seen,
    written_rows: s.writer.written_rows,
    written_batches: s.writer.written_batches,
    spool_segments: s.spool?.segments ?? 0,
  });
  await storage?.close();
  return 0;
}
