// Which option of config.yaml each existing command-line flag sets, for the
// commands to pass to configOptionsFromArgs() when they adopt loadConfig():
//   const config = loadConfig(configOptionsFromArgs(values, RUN_FLAG_OPTIONS));
// A flag keeps its meaning; it now overrides the file and JA4_* variables.
// test/config-load.test.ts checks every flag is in its command's --help and
// every path is an option.
import type { FlagTarget } from './args.js';

/** The storage flags every database command shares (STORAGE_ARG_SPEC). */
export const STORAGE_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  'db-dir': 'storage.db_dir',
  'clickhouse-url': 'storage.clickhouse_url',
  'clickhouse-user': 'storage.clickhouse_user',
  'clickhouse-ca': 'storage.clickhouse_ca',
  'clickhouse-cert': 'storage.clickhouse_cert',
  'clickhouse-key': 'storage.clickhouse_key',
  cluster: 'storage.cluster',
};

/** The service commands' log flags (ja4 run, capture, dashboard, detector run). */
export const LOG_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  'log-level': 'logging.level',
  'log-format': 'logging.format',
};

/** ja4 run */
export const RUN_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  ...LOG_FLAG_OPTIONS,
  ...STORAGE_FLAG_OPTIONS,
  iface: 'capture.iface',
  bpf: 'capture.bpf',
  'http-socket': 'sockets.http_path',
  'http-socket-type': 'sockets.http_type',
  'network-socket': 'sockets.network_path',
  'socket-mode': 'sockets.mode',
  'socket-group': 'sockets.group',
  'tls-wait-ms': 'correlator.tls_wait_ms',
  'close-grace-ms': 'correlator.close_grace_ms',
  'idle-timeout-ms': 'correlator.idle_timeout_ms',
  'window-ms': 'correlator.window_ms',
  'max-connections': 'correlator.max_connections',
  'correlator-threads': 'correlator.threads',
  'raw-tables': 'correlator.raw_tables',
  'no-raw-tables': { path: 'correlator.raw_tables', negate: true },
  'no-plain-http-wait': { path: 'correlator.plain_http_wait', negate: true },
  'batch-rows': 'correlator.batch_rows',
  'batch-ms': 'correlator.batch_ms',
  'spool-dir': 'correlator.spool_dir',
  'spool-max-mb': 'correlator.spool_max_mb',
  'spool-always': 'correlator.spool_always',
  'no-detector': { path: 'detector.enabled', negate: true },
  models: 'detector.models_dir',
  'detector-interval': 'detector.interval_s',
  'no-dashboard': { path: 'dashboard.enabled', negate: true },
  listen: 'dashboard.listen',
};

/** ja4 capture */
export const CAPTURE_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  ...LOG_FLAG_OPTIONS,
  iface: 'capture.iface',
  bpf: 'capture.bpf',
  snaplen: 'capture.snaplen',
  'buffer-mb': 'capture.buffer_mb',
  promisc: 'capture.promisc',
  sensor: 'capture.sensor',
  'stats-interval': 'capture.stats_interval_s',
  'max-flows': 'capture.max_flows',
  'idle-timeout-ms': 'capture.idle_timeout_ms',
};

/** ja4 dashboard */
export const DASHBOARD_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  ...LOG_FLAG_OPTIONS,
  ...STORAGE_FLAG_OPTIONS,
  listen: 'dashboard.listen',
  'trust-proxy': 'dashboard.trust_proxy',
  'secure-cookies': 'dashboard.secure_cookies',
  'poll-ms': 'dashboard.poll_ms',
  'max-query-memory-mb': 'dashboard.max_query_memory_mb',
  'model-dir': 'detector.models_dir',
};

/** ja4 detector run */
export const DETECTOR_RUN_FLAG_OPTIONS: Readonly<Record<string, FlagTarget>> = {
  ...LOG_FLAG_OPTIONS,
  ...STORAGE_FLAG_OPTIONS,
  interval: 'detector.interval_s',
  workers: 'detector.workers',
  models: 'detector.models_dir',
};
