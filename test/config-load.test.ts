// The configuration loader: defaults, the file (typed values, every problem
// with its file:line), environment variables and flags in that order, and
// the shipped packaging/config/config.yaml and docs/configuration.md
// covering every option.
import t from 'tap';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configOptionsFromArgs, envName, loadConfig, loadConfigWithSources, OPTIONS, parseSetFlag, type Config } from '../src/config/index.js';
import { renderConfigTemplate, renderOptionTable } from '../src/config/template.js';
import { DEFAULT_BATCHER_OPTIONS } from '../src/pipeline/batcher.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

const DEFAULTS: Config = {
  capture: { iface: '', bpf: 'tcp or udp port 443', snaplen: 65535, buffer_mb: 64, promisc: false, sensor: '', stats_interval_s: 10, max_flows: 262144, idle_timeout_ms: 120000 },
  sockets: { http_path: '/run/ja4/http.socket', http_type: 'seqpacket', network_path: '/run/ja4/network.socket', network_type: 'dgram', mode: 0o660, group: '', receive_buffer_bytes: 4194304, max_datagram_bytes: 65536 },
  correlator: { tls_wait_ms: 2000, close_grace_ms: 5000, idle_timeout_ms: 300000, window_ms: 3600000, max_connections: 500000, threads: 'auto', raw_tables: false, plain_http_wait: true, batch_rows: 200000, batch_ms: 1000, spool_dir: '/var/lib/ja4/spool', spool_max_mb: 1024, spool_always: false },
  storage: {
    db_dir: '/var/lib/ja4/db',
    clickhouse_url: '',
    clickhouse_user: '',
    clickhouse_password: '',
    clickhouse_ca: '',
    clickhouse_cert: '',
    clickhouse_key: '',
    cluster: '',
    request_timeout_ms: 300000,
    retention: { raw: 7, http_logs: 30, aggregates: 180, scores: 30, anomalies: 180, audit: 730, reference: 3650, classifications: 3650 },
  },
  detector: { enabled: true, interval_s: 60, models_dir: '', threshold: 0, workers: 0 },
  dashboard: { enabled: true, listen: ':8000', secure_cookies: 'auto', trust_proxy: false, session_ttl_s: 43200, poll_ms: 1000, max_query_memory_mb: 2048 },
  logging: { level: 'info', format: 'json' },
  metrics: { enabled: true, host: '127.0.0.1', port: { all: 9470, capture: 9471, correlator: 9472, detector: 9473, dashboard: 9474 } },
};

function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The issues of a failing load, as the strings `ja4 config check` prints. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test("the batch defaults are the batcher's (ja4 run takes them from there)", async (t) => {
  t.same([DEFAULTS.correlator.batch_rows, DEFAULTS.correlator.batch_ms], [DEFAULT_BATCHER_OPTIONS.maxRows, DEFAULT_BATCHER_OPTIONS.maxDelayMs]);
});

t.test('defaults: an empty file, no environment', async (t) => {
  const dir = scratchDir(t);
  t.same(loadConfig({ file: write(dir, 'empty.yaml', ''), env: {} }), DEFAULTS);
  t.same(loadConfig({ file: write(dir, 'comments.yaml', '# nothing\ncapture:\nsockets:\n'), env: {} }), DEFAULTS, 'empty sections');
  // The implicit /etc/ja4/config.yaml may be absent: the services start on defaults.
  t.same(loadConfig({ file: undefined, requireFile: false, env: { JA4_CONFIG: '' } }).correlator.window_ms, 3600000);
});

t.test('the shipped config.yaml is the template: every option, commented, at its default', async (t) => {
  const shipped = readFileSync(join(repoRoot, 'packaging/config/config.yaml'), 'utf8');
  t.equal(shipped, renderConfigTemplate(), 'packaging/config/config.yaml is `ja4 config template` (regenerate it after changing schema.ts)');
  for (const o of OPTIONS) {
    const key = o.path.split('.').pop()!;
    t.match(shipped, new RegExp(`# [^\\n]*; ${envName(o.path)}\\n *#${key}: `), `${o.path} is documented with ${envName(o.path)}`);
  }
  t.same(loadConfig({ file: join(repoRoot, 'packaging/config/config.yaml'), env: {} }), DEFAULTS);
  // Uncommenting every line gives the defaults too (the commented values are the real ones).
  const dir = scratchDir(t);
  const uncommented = shipped.replace(/^( *)#([a-z_]+:)/gm, '$1$2');
  const loaded = loadConfigWithSources({ file: write(dir, 'all.yaml', uncommented), env: {} });
  t.same(loaded.config, DEFAULTS);
  t.equal([...loaded.sources.values()].filter((s) => s.kind === 'file').length, OPTIONS.length, 'every option was read from the file');
});

t.test('docs/configuration.md has the option table', async (t) => {
  const doc = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8');
  t.ok(doc.includes(renderOptionTable()), 'the table rendered from schema.ts is in the document');
});

t.test('values from the file, typed', async (t) => {
  const dir = scratchDir(t);
  const file = write(
    dir,
    'config.yaml',
    `capture:
  iface: eth0
  promisc: true
  snaplen: 1500
sockets:
  mode: 0640
  http_type: dgram
correlator:
  window_ms: 5000
storage:
  clickhouse_url: https://ch.example.org:8443/
  cluster: main
  retention:
    http_logs: 90
detector:
  threshold: 0.75
dashboard:
  listen: 127.0.0.1:8080
logging:
  level: debug
metrics:
  port:
    all: 9100
`,
  );
  const { config, sources } = loadConfigWithSources({ file, env: {} });
  t.same(config.capture, { ...DEFAULTS.capture, iface: 'eth0', promisc: true, snaplen: 1500 });
  t.equal(config.sockets.mode, 0o640, 'an unquoted 0640 is octal, not YAML 1.2 decimal');
  t.equal(config.sockets.http_type, 'dgram');
  t.equal(config.correlator.window_ms, 5000);
  t.equal(config.storage.clickhouse_url, 'https://ch.example.org:8443', 'trailing slash dropped');
  t.same(config.storage.retention, { ...DEFAULTS.storage.retention, http_logs: 90 });
  t.equal(config.detector.threshold, 0.75);
  t.equal(config.dashboard.listen, '127.0.0.1:8080');
  t.equal(config.logging.level, 'debug');
  t.same(config.metrics.port, { ...DEFAULTS.metrics.port, all: 9100 });
  t.same(sources.get('correlator.window_ms'), { kind: 'file', file, line: 9 });
  t.same(sources.get('storage.retention.http_logs'), { kind: 'file', file, line: 14 });
  t.same(sources.get('correlator.batch_rows'), { kind: 'default' });
});

t.test('every problem, with file:line and the option path', async (t) => {
  const dir = scratchDir(t);
  const file = write(
    dir,
    'bad.yaml',
    `correlator:
  window_ms: abc
capture:
  snaplen: 10
  ifac: eth0
sockets:
  mode: 0980
  http_path: run/http.socket
  http_type: stream
storage:
  cluster: main
  retention:
    http_log: 3
    raw: 0
detector:
  threshold: 2
  enabled: maybe
dashboard:
  listen: 8000
metrics:
  port:
    capture: 8000
corelator:
  x: 1
`,
  );
  t.same(problems(() => loadConfig({ file, env: {} })), [
    `${file}:2: correlator.window_ms must be a positive integer, got "abc"`,
    `${file}:4: capture.snaplen must be an integer from 64 to 262144, got "10"`,
    `${file}:5: unknown option "capture.ifac" (did you mean "capture.iface"?)`,
    `${file}:7: sockets.mode must be a file mode in octal, e.g. "0660", got "0980"`,
    `${file}:8: sockets.http_path must be an absolute path of at most 107 bytes, got "run/http.socket"`,
    `${file}:9: sockets.http_type must be one of seqpacket, dgram, got "stream"`,
    `${file}:13: unknown option "storage.retention.http_log" (did you mean "storage.retention.http_logs"?)`,
    `${file}:14: storage.retention.raw must be an integer from 1 to 25000, got "0"`,
    `${file}:16: detector.threshold must be a number from 0 to 1, got "2"`,
    `${file}:17: detector.enabled must be true or false, got "maybe"`,
    `${file}:19: dashboard.listen must be HOST:PORT (HOST may be empty, PORT from 1 to 65535), got "8000"`,
    `${file}:23: unknown section "corelator" (did you mean "correlator"?)`,
    `${file}:11: storage.cluster needs storage.clickhouse_url (the embedded engine is a single node)`,
    `${file}:22: metrics.port.capture (8000) is already used by dashboard.listen`,
  ]);
});

t.test('structure and YAML errors', async (t) => {
  const dir = scratchDir(t);
  const cases: [string, string, string[]][] = [
    ['a list at the top', '- a\n- b\n', [':1: the file must be a mapping of sections (capture, sockets, correlator, storage, detector, dashboard, logging, metrics)']],
    ['a section that is a scalar', 'capture: eth0\n', [':1: capture must be a mapping of options, got "eth0"']],
    ['an option that is a list', 'capture:\n  iface: [eth0, eth1]\n', [':2: capture.iface must be an interface name (at most 15 characters: letters, digits, _ . : @ -), got a list']],
    ['a duplicate key', 'capture:\n  iface: eth0\n  iface: eth1\n', [':3: YAML: Map keys must be unique']],
    ['an unclosed flow sequence', 'capture:\n  bpf: [tcp\n', [':3: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['a tab indentation', 'capture:\n\tiface: eth0\n', [':2: YAML: Tabs are not allowed as indentation']],
    ['an unknown section without a close name', 'zzz: 1\n', [':1: unknown section "zzz" (sections: capture, sockets, correlator, storage, detector, dashboard, logging, metrics)']],
  ];
  for (const [what, text, expected] of cases) {
    const file = write(dir, 'c.yaml', text);
    t.same(problems(() => loadConfig({ file, env: {} })), expected.map((e) => `${file}${e}`), what);
  }
  t.same(problems(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })), [`${join(dir, 'missing.yaml')}: does not exist`], 'a named file must exist');
  mkdirSync(join(dir, 'adir'));
  t.same(problems(() => loadConfig({ file: join(dir, 'adir'), env: {} })), [`${join(dir, 'adir')}: is not a regular file`]);
  const big = write(dir, 'big.yaml', `# ${'x'.repeat(1 << 20)}\n`);
  t.same(problems(() => loadConfig({ file: big, env: {} })), [`${big}: is ${(1 << 20) + 3} bytes; a configuration file is at most 1048576`]);
});

t.test('precedence: defaults < file < environment < flags', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', 'correlator:\n  window_ms: 5000\n  batch_rows: 100\ncapture:\n  iface: eth0\n');
  const env = { JA4_CORRELATOR_WINDOW_MS: '7000', JA4_CAPTURE_PROMISC: 'on', JA4_ADDON_PATH: '/x.node', JA4_SETUP_SKIP_NPM: '1' };
  const { config, sources } = loadConfigWithSources({
    file,
    env,
    overrides: [
      { path: 'correlator.window_ms', value: '9000', flag: '--window-ms' },
      parseSetFlag('capture.snaplen=2048'),
    ],
  });
  t.equal(config.correlator.window_ms, 9000, 'the flag wins');
  t.same(sources.get('correlator.window_ms'), { kind: 'flag', name: '--window-ms' });
  t.equal(config.correlator.batch_rows, 100, 'the file where nothing overrides it');
  t.equal(config.capture.promisc, true, 'environment booleans: on');
  t.same(sources.get('capture.promisc'), { kind: 'env', name: 'JA4_CAPTURE_PROMISC' });
  t.equal(config.capture.snaplen, 2048);
  t.same(sources.get('capture.snaplen'), { kind: 'flag', name: '--set capture.snaplen' });
  t.equal(loadConfig({ file, env: { JA4_CORRELATOR_WINDOW_MS: '7000' } }).correlator.window_ms, 7000, 'the environment over the file');
  t.equal(loadConfig({ env: { JA4_CONFIG: file } }).capture.iface, 'eth0', 'JA4_CONFIG names the file');
  t.same(problems(() => loadConfig({ env: { JA4_CONFIG: join(dir, 'nope.yaml') } })), [`${join(dir, 'nope.yaml')}: does not exist`], 'a file named by JA4_CONFIG must exist');
});

t.test('environment and flag problems name the variable or flag', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', '');
  t.same(
    problems(() =>
      loadConfig({
        file,
        env: { JA4_CAPTURE_SNAPLEN: 'big', JA4_DETECTOR_TRESHOLD: '0.5', JA4_LOGGING_LEVEL: 'verbose' },
        overrides: [{ path: 'capture.ifce', value: 'eth0', flag: '--set capture.ifce' }, { path: 'sockets.mode', value: '999', flag: '--socket-mode' }],
      }),
    ),
    [
      'JA4_CAPTURE_SNAPLEN: capture.snaplen must be a positive integer, got "big"',
      'JA4_DETECTOR_TRESHOLD: unknown option (did you mean "JA4_DETECTOR_THRESHOLD"?)',
      'JA4_LOGGING_LEVEL: logging.level must be one of debug, info, warn, error, got "verbose"',
      '--set capture.ifce: unknown option "capture.ifce" (did you mean "capture.iface"?)',
      '--socket-mode: sockets.mode must be a file mode in octal, e.g. "0660", got "999"',
    ],
  );
  t.throws(() => parseSetFlag('capture.iface'), { message: '--set: expects SECTION.KEY=VALUE, got "capture.iface"' });
});

t.test('cross-option checks point at the option to change', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', 'storage:\n  clickhouse_url: http://ch:8123\n  clickhouse_ca: /etc/pki/ca.pem\nsockets:\n  network_path: /run/ja4/http.socket\nmetrics:\n  port:\n    detector: 9472\n');
  t.same(problems(() => loadConfig({ file, env: { JA4_STORAGE_CLICKHOUSE_CERT: '/etc/pki/c.pem' } })), [
    `${file}:3: storage.clickhouse_ca needs an https:// storage.clickhouse_url`,
    'JA4_STORAGE_CLICKHOUSE_CERT: storage.clickhouse_cert needs an https:// storage.clickhouse_url',
    'JA4_STORAGE_CLICKHOUSE_CERT: storage.clickhouse_cert and storage.clickhouse_key go together',
    `${file}:5: sockets.network_path must differ from sockets.http_path`,
    `${file}:8: metrics.port.detector (9472) is already used by metrics.port.correlator`,
  ]);
});

t.test('the storage layer\'s environment names still apply, below JA4_STORAGE_*', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', '');
  const c = loadConfig({ file, env: { CLICKHOUSE_URL: 'http://a:8123', CLICKHOUSE_PASSWORD: 's3cret', JA4_DB_DIR: '/srv/ja4' } });
  t.equal(c.storage.clickhouse_url, 'http://a:8123');
  t.equal(c.storage.clickhouse_password, 's3cret');
  t.equal(c.storage.db_dir, '/srv/ja4');
  t.equal(loadConfig({ file, env: { CLICKHOUSE_URL: 'http://a:8123', JA4_STORAGE_CLICKHOUSE_URL: 'http://b:8123' } }).storage.clickhouse_url, 'http://b:8123');
});

t.test('configOptionsFromArgs maps a command\'s flags', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', 'capture:\n  iface: eth0\n');
  const opts = configOptionsFromArgs({ config: file, iface: 'eth1', promisc: true, set: ['correlator.window_ms=2500'], other: 'x' }, { iface: 'capture.iface', promisc: 'capture.promisc', 'db-dir': 'storage.db_dir' }, {});
  const c = loadConfig(opts);
  t.equal(c.capture.iface, 'eth1');
  t.equal(c.capture.promisc, true);
  t.equal(c.correlator.window_ms, 2500);
  t.equal(c.storage.db_dir, '/var/lib/ja4/db', 'a flag not given changes nothing');
});

t.test('the flag maps: every flag is one of its command\'s, every target an option', async (t) => {
  const { RUN_HELP } = await import('../src/cli/run-command.js');
  const { CAPTURE_HELP } = await import('../src/cli/capture-command.js');
  const { DASHBOARD_HELP } = await import('../src/cli/dashboard-command.js');
  const { DETECTOR_HELP } = await import('../src/cli/detector-command.js');
  const { CAPTURE_FLAG_OPTIONS, DASHBOARD_FLAG_OPTIONS, DETECTOR_RUN_FLAG_OPTIONS, RUN_FLAG_OPTIONS } = await import('../src/config/index.js');
  const { OPTIONS_BY_PATH } = await import('../src/config/schema.js');
  for (const [name, help, map] of [['ja4 run', RUN_HELP, RUN_FLAG_OPTIONS], ['ja4 capture', CAPTURE_HELP, CAPTURE_FLAG_OPTIONS], ['ja4 dashboard', DASHBOARD_HELP, DASHBOARD_FLAG_OPTIONS], ['ja4 detector', DETECTOR_HELP, DETECTOR_RUN_FLAG_OPTIONS]] as const) {
    for (const [flag, target] of Object.entries(map)) {
      t.match(help, new RegExp(`--${flag}\\b`), `${name} has --${flag}`);
      const path = typeof target === 'string' ? target : target.path;
      t.ok(OPTIONS_BY_PATH.has(path), `--${flag} -> ${path} is an option`);
    }
  }
  const dir = scratchDir(t);
  const c = loadConfig(configOptionsFromArgs({ config: write(dir, 'f.yaml', ''), 'no-raw-tables': true, 'tls-wait-ms': '500', 'socket-mode': '0640' }, RUN_FLAG_OPTIONS, {}));
  t.same([c.correlator.raw_tables, c.correlator.tls_wait_ms, c.sockets.mode], [false, 500, 0o640], '--no-raw-tables negates');
  t.equal(loadConfig({ file: write(dir, 'e.yaml', ''), env: {}, ...configOptionsFromArgs({}, RUN_FLAG_OPTIONS, {}) }).correlator.raw_tables, false, 'the raw tables are off by default');
  t.equal(loadConfig(configOptionsFromArgs({ config: write(dir, 'g.yaml', ''), 'raw-tables': true }, RUN_FLAG_OPTIONS, {})).correlator.raw_tables, true, '--raw-tables turns them on');
});
