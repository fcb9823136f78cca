// A service's /metrics endpoint from its configuration: the address is
// --metrics-listen HOST:PORT when given, else metrics.host and the service's
// metrics.port.<service> (config.yaml), unless metrics.enabled is false.
// A port that cannot be bound is an error when it was asked for (a flag, or
// set in the file or environment), and only a warning when it is the
// built-in default: a second service on a development machine, or two test
// runs, must not fail because 9470 is taken.
import { createRequire } from 'node:module';
import type { MetricsConfig } from '../config/types.js';
import type { Logger } from '../config/logger.js';
import { startMetricsServer, type MetricsServer } from './exporter.js';
import { registerProcessMetrics } from './process-metrics.js';
import { MetricsRegistry } from './registry.js';

export type ServiceKind = keyof MetricsConfig['port'];

/** the package's version, for ja4_build_info ("unknown" in a bundle without its package.json next to it) */
export const PACKAGE_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** A registry with the process metrics of this service (ja4_build_info{service="ja4-capture"}, process_*, nodejs_*). */
export function serviceRegistry(service: string): MetricsRegistry {
  const registry = new MetricsRegistry();
  registerProcessMetrics(registry, { service, version: PACKAGE_VERSION });
  return registry;
}

/** "HOST:PORT", ":PORT" (all addresses) or "[v6]:PORT". */
export function parseMetricsListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`--metrics-listen must be HOST:PORT (e.g. 127.0.0.1:9470), got "${value}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export interface ServeMetricsOptions {
  service: ServiceKind;
  registry: MetricsRegistry;
  metrics: MetricsConfig;
  /** the option was set in the file, the environment or by --set */
  isSet: (path: string) => boolean;
  /** --metrics-listen, when given */
  listen?: string;
  /** GET /healthz: undefined when healthy, else why not */
  health?: () => string | undefined;
  log: Logger;
}

/** The /metrics server, or undefined when metrics are off (or the default port is taken: a warning). */
export async function serveMetrics(opts: ServeMetricsOptions): Promise<MetricsServer | undefined> {
  let host: string;
  let port: number;
  let explicit: boolean;
  let what: string;
  if (opts.listen !== undefined) {
    ({ host, port } = parseMetricsListen(opts.listen));
    explicit = true;
    what = `--metrics-listen ${opts.listen}`;
  } else {
    if (!opts.metrics.enabled) return undefined;
    const key = `metrics.port.${opts.service}`;
    host = opts.metrics.host;
    port = opts.metrics.port[opts.service];
    explicit = opts.isSet(key) || opts.isSet('metrics.host') || opts.isSet('metrics.enabled');
    what = `${key} ${port}${host ? ` on ${host}` : ''}`;
  }
  try {
    return await startMetricsServer({ registry: opts.registry, host: host === '' ? '0.0.0.0' : host, port, health: opts.health });
  } catch (err) {
    const message = `/metrics cannot listen (${what}): ${(err as Error).message}`;
    if (explicit) throw new Error(message);
    opts.log.warn(`${message}; serving no metrics (set metrics.port.${opts.service} or metrics.enabled: false)`, { port });
    return undefined;
  }
}
