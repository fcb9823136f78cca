// The commands read /etc/ja4/config.yaml (--config, JA4_CONFIG), then JA4_*
// variables, then their own flags (src/config/command-config.ts): for ja4
// run, ja4 capture, ja4 detector and the storage of every database command,
// a value of the file takes effect, the environment overrides it, a flag
// overrides both, and a bad value names its option, file and line (exit 2).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { parseRunArgs } from '../src/cli/run-command.js';
import { loadCommandConfig } from '../src/config/command-config.js';
import { RUN_FLAG_OPTIONS, STORAGE_FLAG_OPTIONS } from '../src/config/index.js';
import { OPTIONS_BY_PATH } from '../src/config/schema.js';
import { CorrelatorPool } from '../src/correlator/correlator-pool.js';
import { storageInputFromArgs } from '../src/storage/index.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

async function ja4(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('JA4_') || k.startsWith('CLICKHOUSE_')) delete process.env[k];
  Object.assign(process.env, { JA4_ADDON_PATH: saved.JA4_ADDON_PATH ?? join(repoRoot, 'build', 'Release', 'ja4.node') }, env);
  let out = '';
  let err = '';
  try {
    const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
    return { code, out, err };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

function write(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

t.test('ja4 run: file < environment < flag, option by option', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', [
    'correlator:',
    '  tls_wait_ms: 700',
    '  raw_tables: false',
    '  spool_dir: /srv/spool',
    'sockets:',
    '  http_path: /srv/run/http.socket',
    '  mode: 0640',
    '  group: www-data',
    'detector:',
    '  enabled: false',
    'dashboard:',
    '  listen: 127.0.0.1:8100',
    '',
  ].join('\n'));
  const fromFile = parseRunArgs(['--config', file], {});
  t.equal(fromFile.pipeline.correlator.tlsWaitMs, 700, 'the file sets correlator.tls_wait_ms');
  t.equal(fromFile.pipeline.correlator.rawTables, false, 'a false boolean is --no-raw-tables');
  t.equal(fromFile.pipeline.spool.dir, '/srv/spool');
  t.same(fromFile.pipeline.httpSocket, { path: '/srv/run/http.socket', type: 'seqpacket', mode: 0o640, group: 'www-data', receiveBufferBytes: 4 << 20 });
  t.equal(fromFile.detector, undefined, 'detector.enabled: false is --no-detector');
  t.same(fromFile.dashboard, { listen: '127.0.0.1:8100' });
  t.equal(fromFile.pipeline.correlator.windowMs, 3_600_000, 'an option the file leaves out keeps the command default');

  const fromEnv = parseRunArgs(['--config', file], { JA4_CORRELATOR_TLS_WAIT_MS: '800', JA4_SOCKETS_GROUP: 'apache' });
  t.equal(fromEnv.pipeline.correlator.tlsWaitMs, 800, 'the environment overrides the file');
  t.equal(fromEnv.pipeline.httpSocket!.group, 'apache');
  t.equal(fromEnv.pipeline.correlator.rawTables, false, 'the rest of the file still applies');
  t.equal(parseRunArgs(['--config', file, '--raw-tables'], {}).pipeline.correlator.rawTables, true, '--raw-tables wins over the file');
  t.equal(parseRunArgs(['--config', write(dir, 'raw.yaml', 'correlator:\n  raw_tables: true\n')], {}).pipeline.correlator.rawTables, true, 'raw_tables: true is --raw-tables');
  t.equal(parseRunArgs(['--config', write(dir, 'raw2.yaml', 'correlator:\n  raw_tables: true\n'), '--no-raw-tables'], {}).pipeline.correlator.rawTables, false, '--no-raw-tables wins over the file');
  t.equal(parseRunArgs([], {}).pipeline.correlator.rawTables, false, 'off by default (debugging copies)');
  t.throws(() => parseRunArgs(['--raw-tables', '--no-raw-tables'], {}), /--raw-tables and --no-raw-tables contradict each other/);
  t.equal(parseRunArgs([], {}).pipeline.correlator.plainHttpWait, true, 'plain HTTP waits for its TCP fingerprints by default');
  t.equal(parseRunArgs(['--no-plain-http-wait'], {}).pipeline.correlator.plainHttpWait, false, '--no-plain-http-wait');
  t.equal(parseRunArgs(['--config', write(dir, 'plain.yaml', 'correlator:\n  plain_http_wait: false\n')], {}).pipeline.correlator.plainHttpWait, false, 'plain_http_wait: false');

  const fromFlag = parseRunArgs(['--config', file, '--tls-wait-ms', '900', '--socket-mode', '0600'], { JA4_CORRELATOR_TLS_WAIT_MS: '800' });
  t.equal(fromFlag.pipeline.correlator.tlsWaitMs, 900, 'a flag overrides the environment');
  t.equal(fromFlag.pipeline.httpSocket!.mode, 0o600);
  const fromSet = parseRunArgs(['--config', file, '--set', 'correlator.tls_wait_ms=950'], { JA4_CORRELATOR_TLS_WAIT_MS: '800' });
  t.equal(fromSet.pipeline.correlator.tlsWaitMs, 950, '--set is a flag too');

  // options without a flag of ja4 run: from the configuration only
  const extra = parseRunArgs(['--iface', 'lo', '--set', 'capture.snaplen=128', '--set', 'capture.sensor=edge1', '--set', 'dashboard.trust_proxy=true', '--set', 'dashboard.secure_cookies=always', '--set', 'detector.workers=3', '--set', 'sockets.receive_buffer_bytes=131072'], {});
  t.same(extra.pipeline.capture, { kind: 'live', options: { iface: 'lo', bpf: 'tcp or udp port 443', snaplen: 128, sensor: 'edge1' } });
  t.same(extra.dashboard, { listen: undefined, trustProxy: true, secureCookies: true });
  t.equal(extra.detector!.workers, 3);
  t.equal((extra.pipeline.httpSocket as { receiveBufferBytes?: number }).receiveBufferBytes, 131072);

  // the documented defaults are what the command does when nothing is set
  // (docs/configuration.md is generated from the schema): a receive buffer
  // of sockets.receive_buffer_bytes, not the kernel's; the model's own
  // threshold unless detector.threshold names one
  const none = parseRunArgs([], {});
  t.equal((none.pipeline.httpSocket as { receiveBufferBytes?: number }).receiveBufferBytes, OPTIONS_BY_PATH.get('sockets.receive_buffer_bytes')!.default, 'sockets.receive_buffer_bytes: its default is applied');
  t.equal((none.pipeline.networkSocket as { receiveBufferBytes?: number }).receiveBufferBytes, 4 << 20, 'on both sockets');
  t.equal(none.detector!.threshold, undefined, 'detector.threshold 0: the model\'s own');
  t.equal(parseRunArgs(['--set', 'detector.threshold=0.75'], {}).detector!.threshold, 0.75, 'detector.threshold set: the detector takes it');
  t.equal((parseRunArgs(['--iface', 'lo'], {}).pipeline.capture as { options: { bpf: string } }).options.bpf, OPTIONS_BY_PATH.get('capture.bpf')!.default, 'capture.bpf: its default');

  t.equal(parseRunArgs(['--set', 'sockets.mode=0007'], {}).pipeline.httpSocket!.mode, 0o7, 'a small mode keeps its octal digits');

  // the split correlator unit: its own metrics.port.correlator, not an address in the unit
  t.equal(parseRunArgs([], {}).metricsService, 'all');
  t.equal(parseRunArgs(['--metrics-service', 'correlator'], {}).metricsService, 'correlator');
  t.throws(() => parseRunArgs(['--metrics-service', 'capture'], {}), /--metrics-service must be all or correlator, got "capture"/);

  // what `ja4 config check` accepts, the services accept
  const auto = parseRunArgs(['--config', write(dir, 'auto.yaml', 'correlator:\n  threads: auto\n')], {});
  t.equal(auto.pipeline.correlator.shards, CorrelatorPool.defaultShards(), 'correlator.threads: auto (its documented default) is by CPU cores');
  t.throws(() => loadCommandConfig({ set: ['correlator.threads=99'] }, RUN_FLAG_OPTIONS, {}), /correlator\.threads/, 'threads above 64: refused by the check too');
  t.throws(() => loadCommandConfig({ set: ['detector.workers=100'] }, RUN_FLAG_OPTIONS, {}), /detector\.workers/, 'detector.workers above 64: refused by the check too');

  const viaEnvFile = parseRunArgs([], { JA4_CONFIG: file });
  t.equal(viaEnvFile.pipeline.correlator.tlsWaitMs, 700, 'JA4_CONFIG names the file');
});

t.test('ja4 run without a configuration file: the defaults, sockets 0660 of the process group', async (t) => {
  // no --config, no JA4_CONFIG and no /etc/ja4/config.yaml here: defaults, not an error
  const r = parseRunArgs(['--db-dir', '/srv/ja4/db'], {});
  t.same(r.pipeline.httpSocket, { path: '/run/ja4/http.socket', type: 'seqpacket', mode: 0o660, group: undefined, receiveBufferBytes: 4 << 20 }, 'owner and group only; the group is the process\'s');
  t.same(r.pipeline.networkSocket, { path: '/run/ja4/network.socket', type: 'dgram', mode: 0o660, group: undefined, receiveBufferBytes: 4 << 20 });
  t.equal(r.pipeline.spool.dir, '/srv/ja4/spool', 'the spool default still follows --db-dir');
  t.equal(r.pipeline.correlator.tlsWaitMs, 2000);
  t.ok(r.detector && r.dashboard);
});

t.test('bad configuration: every problem with its file:line or variable, exit 2', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'bad.yaml', 'correlator:\n  tls_wait_ms: abc\ncapture:\n  ifce: eth0\n');
  const r = await ja4(['run', '--config', file], { JA4_SOCKETS_MODE: '999' });
  t.same(r, {
    code: 2,
    out: '',
    err: [
      'ja4 run: configuration:',
      `${file}:2: correlator.tls_wait_ms must be a non-negative integer, got "abc"`,
      `${file}:4: unknown option "capture.ifce" (did you mean "capture.iface"?)`,
      'JA4_SOCKETS_MODE: sockets.mode must be a file mode in octal, e.g. "0660", got "999"',
      '',
    ].join('\n'),
  });
  const missing = join(dir, 'nope.yaml');
  t.same(await ja4(['capture', '--config', missing]), { code: 2, out: '', err: `ja4 capture: configuration:\n${missing}: does not exist\n` }, 'a named file must exist');
  t.same(await ja4(['db', 'status'], { JA4_CONFIG: missing }), { code: 2, out: '', err: `ja4 db: configuration:\n${missing}: does not exist\n` }, 'JA4_CONFIG too');
  const bad = await ja4(['detector', 'status', '--set', 'detector.models_dir=relative']);
  t.equal(bad.code, 2);
  t.equal(bad.err, 'ja4 detector: configuration:\n--set detector.models_dir: detector.models_dir must be an absolute path, or empty, got "relative"\n');
  t.equal((await ja4(['run', '--config', file, '--help'])).code, 0, '--help needs no configuration');
});

t.test('ja4 capture: capture.iface from the file, JA4_CAPTURE_IFACE, --iface (the capture then fails on that interface)', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', 'capture:\n  iface: nosuch0\n');
  const out = `jsonl:${join(dir, 'events.jsonl')}`;
  const r1 = await ja4(['capture', '--config', file, '--output', out]);
  t.same([r1.code, r1.err], [1, 'ja4 capture: interface nosuch0 does not exist (No such device exists)\n'], 'the file');
  const r2 = await ja4(['capture', '--config', file, '--output', out], { JA4_CAPTURE_IFACE: 'nosuch1' });
  t.equal(r2.err, 'ja4 capture: interface nosuch1 does not exist (No such device exists)\n', 'the environment');
  const r3 = await ja4(['capture', '--config', file, '--output', out, '--iface', 'nosuch2'], { JA4_CAPTURE_IFACE: 'nosuch1' });
  t.equal(r3.err, 'ja4 capture: interface nosuch2 does not exist (No such device exists)\n', 'the flag');
  const bad = await ja4(['capture', '--config', write(dir, 'snap.yaml', 'capture:\n  iface: lo\n  snaplen: 10\n')]);
  t.same([bad.code, bad.err], [2, `ja4 capture: configuration:\n${join(dir, 'snap.yaml')}:3: capture.snaplen must be an integer from 64 to 262144, got "10"\n`]);
});

t.test('ja4 detector: detector.models_dir from the file, the environment, --models', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', `detector:\n  models_dir: ${join(dir, 'a')}\n`);
  const r1 = await ja4(['detector', 'status', '--config', file]);
  t.same([r1.code, r1.err], [1, `ja4 detector status: no accepted model in ${join(dir, 'a')} [ERR_DETECTOR_NO_MODEL]\n`]);
  const r2 = await ja4(['detector', 'status', '--config', file], { JA4_DETECTOR_MODELS_DIR: join(dir, 'b') });
  t.equal(r2.err, `ja4 detector status: no accepted model in ${join(dir, 'b')} [ERR_DETECTOR_NO_MODEL]\n`);
  const r3 = await ja4(['detector', 'status', '--config', file, '--models', join(repoRoot, 'models')], { JA4_DETECTOR_MODELS_DIR: join(dir, 'b') });
  t.equal(r3.code, 0, 'the shipped models, from the flag');
  t.match(r3.out, /^current model /);
  const r4 = await ja4(['detector', 'train', '--config', write(dir, 'i.yaml', 'detector:\n  interval_s: 30\n'), '--models', join(dir, 'c'), '--from', 'x']);
  t.same([r4.code, r4.err], [2, '--from must be an ISO 8601 time, "now" or a relative "-24h", got "x"\n'], 'detector.interval_s is not a flag of train: not injected');
});

t.test('storage options of every database command: file < environment < flag, password and retention included', async (t) => {
  const dir = scratchDir(t);
  const file = write(dir, 'config.yaml', [
    'storage:',
    '  clickhouse_url: http://ch.example.org:8123',
    '  clickhouse_user: ja4_writer',
    '  clickhouse_password: from-file',
    '  retention:',
    '    http_logs: 60',
    '',
  ].join('\n'));
  const input = (values: Record<string, unknown>, env: NodeJS.ProcessEnv) => {
    const cfg = loadCommandConfig(values, STORAGE_FLAG_OPTIONS, env);
    return storageInputFromArgs(cfg.values, cfg.env);
  };
  const a = input({ config: file }, {});
  t.same([a.url, a.username, a.password, a.retention], ['http://ch.example.org:8123', 'ja4_writer', 'from-file', 'raw=7,http_logs=60,aggregates=180,scores=30,anomalies=180,audit=730,reference=3650,classifications=3650']);
  const b = input({ config: file }, { JA4_STORAGE_CLICKHOUSE_USER: 'env-user', CLICKHOUSE_PASSWORD: 'old-name' });
  t.same([b.username, b.password], ['env-user', 'old-name'], 'JA4_STORAGE_* and the storage layer\'s own names override the file');
  const c = input({ config: file, 'clickhouse-user': 'flag-user', retention: 'http_logs=5' }, { JA4_STORAGE_CLICKHOUSE_USER: 'env-user' });
  t.same([c.username, c.retention], ['flag-user', 'http_logs=5']);
  const d = input({ config: file }, { JA4_DB_RETENTION: 'raw=3' });
  t.equal(d.retention, 'raw=7,http_logs=60,aggregates=180,scores=30,anomalies=180,audit=730,reference=3650,classifications=3650,raw=3',
    'JA4_DB_RETENTION still counts for the families the file leaves alone (the last entry wins)');
  t.same(loadCommandConfig({ set: ['storage.request_timeout_ms=5000'] }, STORAGE_FLAG_OPTIONS, {}).storageExtra, { requestTimeoutMs: 5000 });
  t.same(loadCommandConfig({}, STORAGE_FLAG_OPTIONS, {}).storageExtra, {}, 'the default: the storage layer\'s own');
  t.equal(parseRunArgs(['--set', 'storage.request_timeout_ms=7000'], {}).storageInput.requestTimeoutMs, 7000, 'ja4 run too');

  // and a real command on it: ja4 db status opens the embedded engine of storage.db_dir
  const db = join(dir, 'db');
  const r = await ja4(['db', 'status', '--config', write(dir, 'db.yaml', `storage:\n  db_dir: ${db}\n`)]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /0 applied, \d+ pending \(embedded\)\n$/);
});

t.test('ja4 config check passes on the shipped packaging/config/config.yaml', async (t) => {
  const shipped = join(repoRoot, 'packaging/config/config.yaml');
  const r = await ja4(['config', 'check', shipped]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, new RegExp(`^${shipped}: OK \\(0 of \\d+ options set in the file\\)\\n$`));
});
