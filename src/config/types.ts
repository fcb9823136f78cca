// The typed configuration loadConfig() returns: the sections of
// /etc/ja4/config.yaml with every key filled in (defaults in schema.ts).
// test/config-load.test.ts pins the defaults, so this type and the schema
// cannot drift apart silently.

import type { RetentionDays } from '../storage/options.js';

export interface CaptureConfig {
  iface: string;
  bpf: string;
  snaplen: number;
  buffer_mb: number;
  promisc: boolean;
  sensor: string;
  stats_interval_s: number;
  max_flows: number;
  idle_timeout_ms: number;
}

export interface SocketsConfig {
  http_path: string;
  http_type: 'seqpacket' | 'dgram';
  network_path: string;
  network_type: 'dgram' | 'seqpacket';
  /** numeric file mode (parsed from the octal text) */
  mode: number;
  group: string;
  receive_buffer_bytes: number;
  max_datagram_bytes: number;
}

export interface CorrelatorConfig {
  tls_wait_ms: number;
  close_grace_ms: number;
  idle_timeout_ms: number;
  window_ms: number;
  max_connections: number;
  /** "auto" or a number of threads as text ("0": the main thread) */
  threads: string;
  raw_tables: boolean;
  plain_http_wait: boolean;
  batch_rows: number;
  batch_ms: number;
  spool_dir: string;
  spool_max_mb: number;
  spool_always: boolean;
}

// The same families openStorage renders into the TTL clauses: one type, so a
// family added there is a compile error here until the schema gains it.
export type RetentionConfig = RetentionDays;

export interface StorageConfig {
  db_dir: string;
  clickhouse_url: string;
  clickhouse_user: string;
  clickhouse_password: string;
  clickhouse_ca: string;
  clickhouse_cert: string;
  clickhouse_key: string;
  cluster: string;
  request_timeout_ms: number;
  retention: RetentionConfig;
}

export interface DetectorConfig {
  enabled: boolean;
  interval_s: number;
  models_dir: string;
  threshold: number;
  workers: number;
}

export interface DashboardConfig {
  enabled: boolean;
  listen: string;
  secure_cookies: 'auto' | 'always' | 'never';
  trust_proxy: boolean;
  session_ttl_s: number;
  poll_ms: number;
  max_query_memory_mb: number;
}

export interface LoggingConfig {
  level: 'debug' | 'info' | 'warn' | 'error';
  format: 'json' | 'text';
}

export interface MetricsConfig {
  enabled: boolean;
  host: string;
  port: { all: number; capture: number; correlator: number; detector: number; dashboard: number };
}

export interface Config {
  capture: CaptureConfig;
  sockets: SocketsConfig;
  correlator: CorrelatorConfig;
  storage: StorageConfig;
  detector: DetectorConfig;
  dashboard: DashboardConfig;
  logging: LoggingConfig;
  metrics: MetricsConfig;
}

/** Where a value came from: the file (with its line), the environment, a flag, or the default. */
export type ValueSource =
  | { kind: 'file'; file: string; line: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }
  | { kind: 'default' };
