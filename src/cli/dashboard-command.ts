// `ja4 dashboard`: the SOC dashboard server on its own (ja4 run starts the
// same server next to the pipeline).
import { parseArgs } from 'node:util';
import { STORAGE_ARG_HELP, STORAGE_ARG_SPEC, migrationStatus } from '../storage/index.js';
import { DEFAULT_LISTEN, DEFAULT_WEB_DIR, parseListen, startDashboard } from '../dashboard/server.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC, DASHBOARD_FLAG_OPTIONS } from '../config/index.js';
import { loadCommandConfig } from '../config/command-config.js';
import { registerDashboardMetrics } from '../metrics/dashboard-metrics.js';
import { parseMetricsListen, serveMetrics, serviceRegistry } from '../metrics/serve.js';
import { CliError } from './cli-error.js';
import { withStorage } from './db-command.js';
import type { CliIO } from './output.js';
import { LOG_ARG_HELP, LOG_ARG_SPEC, serviceLogger } from './service-logger.js';

export const DASHBOARD_HELP = `Usage: ja4 dashboard [options]

Serves the dashboard: the JSON API under /api/, the live feed at /ws and the
web pages (web/dist). Create a user first: ja4 user add NAME --role admin.

  --listen HOST:PORT     where to listen (default ${DEFAULT_LISTEN})
  --web-dir DIR          the built web bundle (default ${DEFAULT_WEB_DIR})
  --trust-proxy          behind a reverse proxy: client address from X-Forwarded-For,
                         TLS from X-Forwarded-Proto (then cookies get Secure)
  --secure-cookies MODE  auto (default), always or never
  --model-dir DIR        detector models, for the model page (models/current/manifest.json)
  --poll-ms N            how often new detections are looked for (default 1000; 0: never)
  --max-query-memory-mb N
                         memory cap of one dashboard query, MiB (default 2048; 16 to 1048576);
                         a query past it gets 503 query_too_large
  --metrics-listen H:P   serve /metrics there (default: metrics.host and metrics.port.dashboard
                         of the configuration, 127.0.0.1:9474)

These options are also read from /etc/ja4/config.yaml (dashboard.*) and JA4_*
variables; a flag given here wins.

${LOG_ARG_HELP}
${CONFIG_ARG_HELP}
${STORAGE_ARG_HELP}
Stops on SIGINT/SIGTERM. Exit status: 0 stopped, 1 the server or database failed, 2 bad usage.
`;

const FLAGS = {
  listen: { type: 'string' },
  'web-dir': { type: 'string' },
  'trust-proxy': { type: 'boolean' },
  'secure-cookies': { type: 'string' },
  'model-dir': { type: 'string' },
  'poll-ms': { type: 'string' },
  'max-query-memory-mb': { type: 'string' },
  'metrics-listen': { type: 'string' },
} as const;

export async function runDashboardCommand(argv: string[], io: CliIO, stopSignal?: Promise<void>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: false, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, ...LOG_ARG_SPEC, ...FLAGS, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 dashboard --help" for usage.`);
  }
  if (parsed.values.help) {
    io.out(DASHBOARD_HELP);
    return 0;
  }
  const cfg = loadCommandConfig(parsed.values, DASHBOARD_FLAG_OPTIONS);
  const values = cfg.values as typeof parsed.values;
  const log = serviceLogger('ja4-dashboard', values, io);
  const listen = values.listen ?? DEFAULT_LISTEN;
  try {
    parseListen(listen);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const mode = values['secure-cookies'] ?? 'auto';
  if (!['auto', 'always', 'never'].includes(mode)) throw new CliError(`--secure-cookies must be auto, always or never, got "${mode}"`);
  const pollText = values['poll-ms'] ?? '1000';
  if (!/^\d+$/.test(pollText) || Number(pollText) > 3_600_000) throw new CliError(`--poll-ms must be an integer from 0 to 3600000, got "${pollText}"`);
  const memoryText = values['max-query-memory-mb'] ?? '2048';
  if (!/^\d{1,7}$/.test(memoryText) || Number(memoryText) < 16 || Number(memoryText) > 1_048_576) throw new CliError(`--max-query-memory-mb must be an integer from 16 to 1048576, got "${memoryText}"`);

  if (values['metrics-listen'] !== undefined) {
    try {
      parseMetricsListen(values['metrics-listen']);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const registry = serviceRegistry('ja4-dashboard');
  const dashboardMetrics = registerDashboardMetrics(registry);
  return withStorage('ja4 dashboard', values, async (storage) => {
    const pending = (await migrationStatus(storage)).filter((s) => s.state === 'pending');
    if (pending.length > 0) throw new CliError(`ja4 dashboard: ${pending.length} migration(s) pending (${pending[0]!.name}...): run "ja4 db migrate" first`, 1);
    let dashboard;
    try {
      dashboard = await startDashboard(storage, {
        listen,
        webDir: values['web-dir'],
        trustProxy: values['trust-proxy'] ?? false,
        secureCookies: mode === 'auto' ? 'auto' : mode === 'always',
        modelDir: values['model-dir'],
        publisher: { detectionsMs: Number(pollText) },
        maxQueryMemoryBytes: Number(memoryText) * 1024 * 1024,
        sessions: cfg.isSet('dashboard.session_ttl_s') ? { absoluteMs: cfg.config.dashboard.session_ttl_s * 1000 } : undefined,
        log,
        observe: dashboardMetrics.observe,
      });
    } catch (err) {
      throw new CliError(`ja4 dashboard: ${(err as Error).message}`, 1);
    }
    const hub = dashboard.hub;
    dashboardMetrics.attachHub(() => hub.stats());
    let metrics;
    try {
      metrics = await serveMetrics({ service: 'dashboard', registry, metrics: cfg.config.metrics, isSet: cfg.isSet, listen: values['metrics-listen'], log });
    } catch (err) {
      await dashboard.stop();
      throw new CliError(`ja4 dashboard: ${(err as Error).message}`, 1);
    }
    log.info('listening', { listen, port: dashboard.port, server: dashboard.kind === 'uws' ? 'uWebSockets.js' : 'ws fallback', database: storage.mode, ...(metrics ? { metrics_port: metrics.port } : {}) });
    await (stopSignal ??
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }));
    await dashboard.stop();
    await metrics?.close();
    log.info('stopped');
    return 0;
  });
}
