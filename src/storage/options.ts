// Storage options: where the data lives (embedded directory or server URL),
// credentials and TLS for a server, the cluster name, and retention.
// Validated here, with messages that name the option, so the rest of the
// layer trusts them.
import { readFileSync } from 'node:fs';
import { optionError } from './errors.js';

export const DEFAULT_DATA_DIR = '/var/lib/ja4/db';

/** Retention in days per table family (rendered into the TTL clauses). */
export interface RetentionDays {
  /** ja4_logs raw HTTP records and TLS events */
  raw: number;
  /** ja4_processing.http_logs */
  http_logs: number;
  /** the hourly aggregates */
  aggregates: number;
  /** ml_all_scores */
  scores: number;
  /** ml_detected_anomalies */
  anomalies: number;
  /** audit_logs */
  audit: number;
  /** reference tables: a loaded snapshot expires unless `ja4 data load` refreshes it */
  reference: number;
  /** analyst_classifications: a verdict not updated for this long expires */
  classifications: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionDays> = Object.freeze({
  raw: 7,
  http_logs: 30,
  aggregates: 180,
  scores: 30,
  anomalies: 180,
  audit: 730,
  reference: 3650,
  classifications: 3650,
});

export interface TlsOptions {
  /** PEM CA certificate that signed the server's certificate */
  caCert?: Buffer;
  /** PEM client certificate and key, for mutual TLS */
  cert?: Buffer;
  key?: Buffer;
}

export interface StorageOptions {
  /** 'embedded': chDB in this process; 'server': a ClickHouse server over HTTP(S) */
  mode: 'embedded' | 'server';
  /** embedded data directory (one per process) */
  dataDir: string;
  /** server URL without credentials, e.g. https://ch.example.org:8443 */
  url?: string;
  username?: string;
  password?: string;
  tls?: TlsOptions;
  /** cluster name: migrations render ON CLUSTER, Replicated* engines and Distributed read tables */
  cluster?: string;
  retention: RetentionDays;
  /** passwords of the users created in server mode (0011_create_users.sql) */
  userPasswords: { dashboard?: string; writer?: string };
  /** server request timeout */
  requestTimeoutMs: number;
}

/** What a caller may give; everything optional, strings as typed on a command line. */
export interface StorageOptionsInput {
  dataDir?: string;
  url?: string;
  username?: string;
  password?: string;
  caCertPath?: string;
  certPath?: string;
  keyPath?: string;
  cluster?: string;
  /** "http_logs=30,raw=7" or an object */
  retention?: string | Partial<RetentionDays>;
  dashboardPassword?: string;
  writerPassword?: string;
  requestTimeoutMs?: number;
}

const CLUSTER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

function parseRetention(value: string | Partial<RetentionDays> | undefined): RetentionDays {
  const out: RetentionDays = { ...DEFAULT_RETENTION };
  if (value === undefined || value === '') return out;
  const entries: [string, unknown][] =
    typeof value === 'string'
      ? value.split(',').map((part) => {
          const eq = part.indexOf('=');
          if (eq < 0) throw optionError('retention', `entries must be name=days, got "${part}"`);
          return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
        })
      : Object.entries(value);
  for (const [key, raw] of entries) {
    // own keys only: `in` also saw Object.prototype's (toString=5 passed)
    if (!Object.hasOwn(out, key)) {
      throw optionError('retention', `has unknown table family "${key}" (known: ${Object.keys(out).join(', ')})`);
    }
    const days = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : NaN;
    // TTLs are `DateTime + INTERVAL n DAY`, and DateTime ends in 2106: a TTL
    // past it wraps around to 1970 and drops every part at once. 25000 days
    // (~68 years) stays clear of that.
    if (!Number.isInteger(days) || days < 1 || days > 25000) {
      throw optionError(`retention.${key}`, `must be a whole number of days between 1 and 25000, got "${String(raw)}"`);
    }
    out[key as keyof RetentionDays] = days;
  }
  return out;
}

function readPem(option: string, path: string | undefined): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw optionError(option, `cannot read "${path}": ${(err as Error).message}`);
  }
}

export function validateStorageOptions(input: StorageOptionsInput): StorageOptions {
  const dataDir = input.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir.trim() === '') throw optionError('dataDir (--db-dir)', 'must be a non-empty path');
  if (dataDir === ':memory:') throw optionError('dataDir (--db-dir)', 'must be a directory; use a temporary directory for throw-away data');

  let url: string | undefined;
  let username = input.username;
  let password = input.password;
  if (input.url !== undefined && input.url !== '') {
    let parsed: URL;
    try {
      parsed = new URL(input.url);
    } catch {
      throw optionError('url (--clickhouse-url / CLICKHOUSE_URL)', `is not a URL: "${input.url}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw optionError('url (--clickhouse-url / CLICKHOUSE_URL)', `must be http:// or https://, got "${parsed.protocol}"`);
    }
    // Credentials in the URL are accepted but moved out of it, so the URL can be logged.
    if (parsed.username !== '') username ??= decodeURIComponent(parsed.username);
    if (parsed.password !== '') password ??= decodeURIComponent(parsed.password);
    parsed.username = '';
    parsed.password = '';
    url = parsed.toString().replace(/\/$/, '');
  }

  const cluster = input.cluster === '' ? undefined : input.cluster;
  if (cluster !== undefined) {
    if (!CLUSTER_NAME.test(cluster)) throw optionError('cluster (--cluster / JA4_DB_CLUSTER)', `must be a ClickHouse cluster name ([A-Za-z_][A-Za-z0-9_-]*), got "${cluster}"`);
    if (url === undefined) throw optionError('cluster (--cluster / JA4_DB_CLUSTER)', 'needs a server: set --clickhouse-url too (the embedded engine is a single node)');
  }

  const tlsGiven = input.caCertPath || input.certPath || input.keyPath;
  if (tlsGiven && (url === undefined || !url.startsWith('https:'))) {
    throw optionError('tls (--clickhouse-ca / --clickhouse-cert / --clickhouse-key)', 'needs an https:// --clickhouse-url');
  }
  if (Boolean(input.certPath) !== Boolean(input.keyPath)) {
    throw optionError('tls (--clickhouse-cert / --clickhouse-key)', 'a client certificate needs its key, and the key its certificate');
  }
  const tls: TlsOptions | undefined = tlsGiven
    ? { caCert: readPem('tls.caCert (--clickhouse-ca)', input.caCertPath), cert: readPem('tls.cert (--clickhouse-cert)', input.certPath), key: readPem('tls.key (--clickhouse-key)', input.keyPath) }
    : undefined;

  const requestTimeoutMs = input.requestTimeoutMs ?? 300_000;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw optionError('requestTimeoutMs', `must be a positive integer, got ${requestTimeoutMs}`);

  return {
    mode: url === undefined ? 'embedded' : 'server',
    dataDir,
    url,
    username,
    password,
    tls,
    cluster,
    retention: parseRetention(input.retention),
    userPasswords: { dashboard: input.dashboardPassword || undefined, writer: input.writerPassword || undefined },
    requestTimeoutMs,
  };
}

/** The storage options of the environment (CLI flags override them). */
export function storageInputFromEnv(env: NodeJS.ProcessEnv = process.env): StorageOptionsInput {
  return {
    dataDir: env.JA4_DB_DIR || undefined,
    url: env.CLICKHOUSE_URL || undefined,
    username: env.CLICKHOUSE_USER || undefined,
    password: env.CLICKHOUSE_PASSWORD || undefined,
    caCertPath: env.CLICKHOUSE_CA_CERT || undefined,
    certPath: env.CLICKHOUSE_CERT || undefined,
    keyPath: env.CLICKHOUSE_KEY || undefined,
    cluster: env.JA4_DB_CLUSTER || undefined,
    retention: env.JA4_DB_RETENTION || undefined,
    dashboardPassword: env.JA4_DB_DASHBOARD_PASSWORD || undefined,
    writerPassword: env.JA4_DB_WRITER_PASSWORD || undefined,
  };
}

/** node:util parseArgs specs of the storage flags shared by `ja4 db` and `ja4 data`. */
export const STORAGE_ARG_SPEC = {
  'db-dir': { type: 'string' },
  'clickhouse-url': { type: 'string' },
  'clickhouse-user': { type: 'string' },
  'clickhouse-ca': { type: 'string' },
  'clickhouse-cert': { type: 'string' },
  'clickhouse-key': { type: 'string' },
  cluster: { type: 'string' },
  retention: { type: 'string' },
} as const;

export const STORAGE_ARG_HELP = `Database (default: the embedded engine in ${DEFAULT_DATA_DIR}):
  --db-dir DIR             embedded data directory (JA4_DB_DIR)
  --clickhouse-url URL     use a ClickHouse server instead, http(s)://[user:pass@]host:port
                           (CLICKHOUSE_URL; CLICKHOUSE_USER, CLICKHOUSE_PASSWORD)
  --clickhouse-user NAME   server user (default: the server's default user)
  --clickhouse-ca FILE     PEM CA certificate for https (CLICKHOUSE_CA_CERT)
  --clickhouse-cert FILE   PEM client certificate for mutual TLS (CLICKHOUSE_CERT)
  --clickhouse-key FILE    its key (CLICKHOUSE_KEY)
  --cluster NAME           server cluster: ON CLUSTER, Replicated*, Distributed (JA4_DB_CLUSTER)
  --retention LIST         days per family, e.g. http_logs=30,raw=7 (JA4_DB_RETENTION);
                           families: raw, http_logs, aggregates, scores, anomalies, audit,
                           reference, classifications
`;

/** Flags from parseArgs (values of STORAGE_ARG_SPEC) over the environment. */
export function storageInputFromArgs(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): StorageOptionsInput {
  const base = storageInputFromEnv(env);
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return {
    ...base,
    dataDir: str('db-dir') ?? base.dataDir,
    url: str('clickhouse-url') ?? base.url,
    username: str('clickhouse-user') ?? base.username,
    caCertPath: str('clickhouse-ca') ?? base.caCertPath,
    certPath: str('clickhouse-cert') ?? base.certPath,
    keyPath: str('clickhouse-key') ?? base.keyPath,
    cluster: str('cluster') ?? base.cluster,
    retention: str('retention') ?? base.retention,
  };
}
