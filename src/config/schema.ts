// Every option of /etc/ja4/config.yaml: its path (section.key, or
// section.group.key), its kind, its default and its one-line meaning.
// The loader, the environment mapping (JA4_<SECTION>_<KEY>), the commented
// packaging/config/config.yaml and docs/configuration.md all follow this
// table; test/config-load.test.ts checks that they agree.

/** capture.bpf's default: what ja4 run and ja4 capture install without one. */
export const DEFAULT_BPF = 'tcp or udp port 443';

/** How a value is parsed and checked. Raw values are YAML scalars or, from
 * the environment and flags, strings. */
export type OptionKind =
  | { type: 'integer'; min: number; max: number }
  | { type: 'number'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'string'; pattern?: RegExp; patternHint?: string }
  | { type: 'enum'; values: readonly string[] }
  /** absolute path; '' allowed when optional (meaning "not set") */
  | { type: 'path'; optional?: boolean; maxBytes?: number }
  /** HOST:PORT, HOST may be empty (all addresses) or [v6] */
  | { type: 'listen' }
  /** http:// or https:// URL; '' = not set */
  | { type: 'url' }
  /** file mode written in octal, e.g. "0660" */
  | { type: 'mode' };

export interface OptionSpec {
  path: string;
  kind: OptionKind;
  default: string | number | boolean;
  doc: string;
  /** never printed by `ja4 config show` */
  secret?: boolean;
}

export const SECTIONS = ['capture', 'sockets', 'correlator', 'storage', 'detector', 'dashboard', 'logging', 'metrics'] as const;
export type SectionName = (typeof SECTIONS)[number];

const int = (min: number, max: number): OptionKind => ({ type: 'integer', min, max });
const MAX_INT = Number.MAX_SAFE_INTEGER;
// sun_path is 108 bytes with its NUL (unix(7)).
const SOCKET_PATH: OptionKind = { type: 'path', maxBytes: 107 };
// TTLs past DateTime's end (2106) wrap around and drop everything: see src/storage/options.ts.
const RETENTION_DAYS = int(1, 25000);

export const OPTIONS: readonly OptionSpec[] = [
  // --- capture: live capture (ja4 capture, ja4-capture.service, ja4 run --iface)
  { path: 'capture.iface', kind: { type: 'string', pattern: /^$|^[A-Za-z0-9_.:@-]{1,15}$/, patternHint: 'an interface name (at most 15 characters: letters, digits, _ . : @ -)' }, default: '', doc: 'network interface to capture on; empty: no live capture (events then come only from the sockets)' },
  { path: 'capture.bpf', kind: { type: 'string' }, default: DEFAULT_BPF, doc: 'libpcap filter (pcap-filter(7)); the TLS, QUIC and SSH handshakes must pass it' },
  { path: 'capture.snaplen', kind: int(64, 262144), default: 65535, doc: 'bytes kept of each packet' },
  { path: 'capture.buffer_mb', kind: int(1, 2047), default: 64, doc: 'kernel capture buffer in MiB (raise it when ps_drop grows)' },
  { path: 'capture.promisc', kind: { type: 'boolean' }, default: false, doc: 'put the interface in promiscuous mode (for a SPAN/mirror port)' },
  { path: 'capture.sensor', kind: { type: 'string', pattern: /^[A-Za-z0-9_.-]{0,64}$/, patternHint: 'at most 64 letters, digits, _ . -' }, default: '', doc: 'name of this sensor in the events (empty: none)' },
  { path: 'capture.stats_interval_s', kind: int(0, 86400), default: 10, doc: 'seconds between counter lines in the log (0: only at exit)' },
  { path: 'capture.max_flows', kind: int(1000, 100_000_000), default: 262_144, doc: 'flows tracked at once; past it the least recently seen is evicted (counted)' },
  { path: 'capture.idle_timeout_ms', kind: int(1000, 86_400_000), default: 120_000, doc: 'a flow without packets for this long is closed' },

  // --- sockets: where the events arrive
  { path: 'sockets.http_path', kind: SOCKET_PATH, default: '/run/ja4/http.socket', doc: 'mod_reqin_log records (ReqinLogSocket in Apache must name the same path)' },
  { path: 'sockets.http_type', kind: { type: 'enum', values: ['seqpacket', 'dgram'] }, default: 'seqpacket', doc: 'socket type of http_path (mod_reqin_log sends seqpacket by default)' },
  { path: 'sockets.network_path', kind: SOCKET_PATH, default: '/run/ja4/network.socket', doc: 'TLS/TCP events from ja4-capture and external sensors' },
  { path: 'sockets.network_type', kind: { type: 'enum', values: ['dgram', 'seqpacket'] }, default: 'dgram', doc: 'socket type of network_path' },
  { path: 'sockets.mode', kind: { type: 'mode' }, default: '0660', doc: 'file mode of the sockets (octal); 0660: their owner and group only, so Apache reaches http_path through the group' },
  { path: 'sockets.group', kind: { type: 'string', pattern: /^$|^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, patternHint: 'a group name, or empty' }, default: '', doc: "group of the sockets; empty: the service's own group (ja4 under systemd; the mod_reqin_log package adds apache to it). Apache's group gives them to Apache directly: www-data (Debian), apache (EL), once Apache may enter /run/ja4 (0750 ja4:ja4 under the packaged units: RuntimeDirectoryMode=0751 in a drop-in)" },
  { path: 'sockets.receive_buffer_bytes', kind: int(65536, 1 << 30), default: 4 << 20, doc: 'SO_RCVBUF of the receiving sockets (net.core.rmem_max caps it). Linux bounds a UNIX socket by other means: a datagram queue by count (net.unix.max_dgram_qlen), SOCK_SEQPACKET by each sender\'s SO_SNDBUF (ReqinLogSendBuffer); the receiver thread drains both in batches' },
  { path: 'sockets.max_datagram_bytes', kind: int(1024, 1 << 20), default: 65536, doc: 'longer datagrams are dropped and counted' },

  // --- correlator: joins requests with fingerprints (ja4 run's flags of the same names)
  { path: 'correlator.tls_wait_ms', kind: int(0, 600_000), default: 2000, doc: 'how long an HTTPS request waits for the TLS event of its connection before it is written without one' },
  { path: 'correlator.close_grace_ms', kind: int(0, 600_000), default: 5000, doc: 'requests still joining a connection after its close event' },
  { path: 'correlator.idle_timeout_ms', kind: int(1000, 86_400_000), default: 300_000, doc: 'a connection unused for this long is forgotten' },
  { path: 'correlator.window_ms', kind: int(1000, 7 * 86_400_000), default: 3_600_000, doc: 'a connection is forgotten this long after its TLS event (port reuse)' },
  { path: 'correlator.max_connections', kind: int(1000, 100_000_000), default: 500_000, doc: 'connections kept at once; past it the oldest is dropped (counted)' },
  { path: 'correlator.threads', kind: { type: 'string', pattern: /^(auto|[0-9]|[1-5][0-9]|6[0-4])$/, patternHint: '"auto" or a number of threads from 0 (main thread) to 64' }, default: 'auto', doc: 'correlator worker threads (state shards); auto: by CPU cores' },
  { path: 'correlator.raw_tables', kind: { type: 'boolean' }, default: false, doc: 'also write the received halves to ja4_logs.http_requests and ja4_logs.tls_events (debugging copies; about 40% more insert CPU)' },
  { path: 'correlator.plain_http_wait', kind: { type: 'boolean' }, default: true, doc: "plain-HTTP requests also wait up to tls_wait_ms for their connection's flow event from a capture (JA4T, JA4TS, JA4L); false: written at once, with them only when the event came first" },
  { path: 'correlator.batch_rows', kind: int(1, 1_000_000), default: 200_000, doc: 'most rows per database insert (each runs the enrichment view and the aggregates once)' },
  { path: 'correlator.batch_ms', kind: int(10, 600_000), default: 1000, doc: 'longest a row waits for its insert' },
  { path: 'correlator.spool_dir', kind: { type: 'path' }, default: '/var/lib/ja4/spool', doc: 'batches the database has not acknowledged yet (replayed after a restart or outage)' },
  { path: 'correlator.spool_max_mb', kind: int(1, 1 << 20), default: 1024, doc: 'spool size limit in MiB; past it the oldest batches are dropped and counted. Batches are cut to a quarter of it (it always holds several)' },
  { path: 'correlator.spool_always', kind: { type: 'boolean' }, default: false, doc: 'every batch through the spool first (write-ahead; an fsync per batch)' },

  // --- storage: ClickHouse, embedded or server
  { path: 'storage.db_dir', kind: { type: 'path' }, default: '/var/lib/ja4/db', doc: 'embedded chDB data directory (one process only: ja4-all); ignored with clickhouse_url' },
  { path: 'storage.clickhouse_url', kind: { type: 'url' }, default: '', doc: 'ClickHouse server, http(s)://host:port; empty: the embedded engine. Required by the split services' },
  { path: 'storage.clickhouse_user', kind: { type: 'string' }, default: '', doc: 'server user (empty: the server default)' },
  { path: 'storage.clickhouse_password', kind: { type: 'string' }, default: '', doc: 'server password; prefer JA4_STORAGE_CLICKHOUSE_PASSWORD in /etc/ja4/ja4.env', secret: true },
  { path: 'storage.clickhouse_ca', kind: { type: 'path', optional: true }, default: '', doc: 'PEM CA certificate for https' },
  { path: 'storage.clickhouse_cert', kind: { type: 'path', optional: true }, default: '', doc: 'PEM client certificate (mutual TLS)' },
  { path: 'storage.clickhouse_key', kind: { type: 'path', optional: true }, default: '', doc: 'its private key' },
  { path: 'storage.cluster', kind: { type: 'string', pattern: /^$|^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, patternHint: 'a ClickHouse cluster name ([A-Za-z_][A-Za-z0-9_-]*)' }, default: '', doc: 'cluster name: ON CLUSTER DDL, Replicated* and Distributed tables (needs clickhouse_url)' },
  { path: 'storage.request_timeout_ms', kind: int(1000, 3_600_000), default: 300_000, doc: 'server request timeout' },
  { path: 'storage.retention.raw', kind: RETENTION_DAYS, default: 7, doc: 'days of raw HTTP records and TLS events (ja4_logs)' },
  { path: 'storage.retention.http_logs', kind: RETENTION_DAYS, default: 30, doc: 'days of correlated requests (ja4_processing.http_logs)' },
  { path: 'storage.retention.aggregates', kind: RETENTION_DAYS, default: 180, doc: 'days of hourly aggregates' },
  { path: 'storage.retention.scores', kind: RETENTION_DAYS, default: 30, doc: 'days of detector scores' },
  { path: 'storage.retention.anomalies', kind: RETENTION_DAYS, default: 180, doc: 'days of detected anomalies' },
  { path: 'storage.retention.audit', kind: RETENTION_DAYS, default: 730, doc: 'days of the dashboard audit trail' },
  { path: 'storage.retention.reference', kind: RETENTION_DAYS, default: 3650, doc: 'days a loaded reference snapshot lives without a new ja4 data load' },
  { path: 'storage.retention.classifications', kind: RETENTION_DAYS, default: 3650, doc: 'days an analyst verdict lives without an update' },

  // --- detector
  { path: 'detector.enabled', kind: { type: 'boolean' }, default: true, doc: 'score clients in ja4 run (ja4-detector.service is turned on or off as a unit)' },
  { path: 'detector.interval_s', kind: int(10, 86400), default: 60, doc: 'seconds between scoring runs' },
  { path: 'detector.models_dir', kind: { type: 'path', optional: true }, default: '', doc: 'trained models (models/current); empty: /var/lib/ja4/models, else the models shipped with the package' },
  { path: 'detector.threshold', kind: { type: 'number', min: 0, max: 1 }, default: 0, doc: 'ensemble score from which a scored client is a detection; 0: the model\'s own threshold (calibrated in training, in its manifest)' },
  { path: 'detector.workers', kind: int(0, 64), default: 0, doc: 'scoring threads (0: one per CPU core minus one, at least 1)' },

  // --- dashboard
  { path: 'dashboard.enabled', kind: { type: 'boolean' }, default: true, doc: 'serve the dashboard in ja4 run (ja4-dashboard.service is turned on or off as a unit)' },
  { path: 'dashboard.listen', kind: { type: 'listen' }, default: ':8000', doc: 'HOST:PORT of the API, WebSocket and web UI (empty host: all addresses)' },
  { path: 'dashboard.secure_cookies', kind: { type: 'enum', values: ['auto', 'always', 'never'] }, default: 'auto', doc: 'Secure flag of session cookies: auto (when the request came over HTTPS), always (behind a TLS proxy), never' },
  { path: 'dashboard.trust_proxy', kind: { type: 'boolean' }, default: false, doc: 'take the client address from X-Forwarded-For (only behind a reverse proxy you run)' },
  { path: 'dashboard.session_ttl_s', kind: int(60, 30 * 86400), default: 43200, doc: 'session lifetime in seconds' },
  { path: 'dashboard.poll_ms', kind: int(0, 3_600_000), default: 1000, doc: 'how often new detections are looked for (0: never)' },
  { path: 'dashboard.max_query_memory_mb', kind: int(16, 1 << 20), default: 2048, doc: 'memory cap of one dashboard query in MiB (max_memory_usage; the embedded engine shares the process with the ingest); past it the API answers 503 query_too_large' },

  // --- logging
  { path: 'logging.level', kind: { type: 'enum', values: ['debug', 'info', 'warn', 'error'] }, default: 'info', doc: 'lowest level written' },
  { path: 'logging.format', kind: { type: 'enum', values: ['json', 'text'] }, default: 'json', doc: 'json: one JSON object per line (the journal keeps them); text: for a terminal' },

  // --- metrics: Prometheus /metrics, one port per service
  { path: 'metrics.enabled', kind: { type: 'boolean' }, default: true, doc: 'serve /metrics' },
  { path: 'metrics.host', kind: { type: 'string', pattern: /^$|^[A-Za-z0-9_.:-]+$|^\[[0-9A-Fa-f:.]+\]$/, patternHint: 'a host name or address' }, default: '127.0.0.1', doc: 'address the metrics endpoints listen on (empty: all addresses)' },
  { path: 'metrics.port.all', kind: int(1, 65535), default: 9470, doc: 'ja4 run (ja4-all)' },
  { path: 'metrics.port.capture', kind: int(1, 65535), default: 9471, doc: 'ja4-capture' },
  { path: 'metrics.port.correlator', kind: int(1, 65535), default: 9472, doc: 'ja4-correlator' },
  { path: 'metrics.port.detector', kind: int(1, 65535), default: 9473, doc: 'ja4-detector' },
  { path: 'metrics.port.dashboard', kind: int(1, 65535), default: 9474, doc: 'ja4-dashboard' },
];

export const OPTIONS_BY_PATH: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.path, o]));

/** JA4_CORRELATOR_WINDOW_MS for correlator.window_ms. */
export function envName(path: string): string {
  return `JA4_${path.replace(/\./g, '_').toUpperCase()}`;
}

/** Environment variable name -> option, for every option. */
export const OPTIONS_BY_ENV: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [envName(o.path), o]));

/** One line saying what a value must be, used in messages and docs. */
export function describeKind(kind: OptionKind): string {
  switch (kind.type) {
    case 'integer':
      if (kind.min === 1 && kind.max === MAX_INT) return 'a positive integer';
      return `an integer from ${kind.min} to ${kind.max}`;
    case 'number':
      return `a number from ${kind.min} to ${kind.max}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return kind.patternHint ?? 'a string';
    case 'enum':
      return `one of ${kind.values.join(', ')}`;
    case 'path':
      return kind.maxBytes ? `an absolute path of at most ${kind.maxBytes} bytes` : kind.optional ? 'an absolute path, or empty' : 'an absolute path';
    case 'listen':
      return 'HOST:PORT (HOST may be empty, PORT from 1 to 65535)';
    case 'url':
      return 'an http:// or https:// URL, or empty';
    case 'mode':
      return 'a file mode in octal, e.g. "0660"';
  }
}
