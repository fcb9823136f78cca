// `ja4 config check|show|template` through the CLI entry point: exit codes,
// the exact lines printed, the environment taken into account or not.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { OPTIONS } from '../src/config/index.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

async function ja4(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** Runs fn with these JA4_* variables set (and every other JA4_* / CLICKHOUSE_* cleared). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('JA4_') || k.startsWith('CLICKHOUSE_')) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

t.test('check: a valid file', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'capture:\n  iface: eth0\nstorage:\n  db_dir: /srv/ja4/db\n');
  const r = await withEnv({ JA4_LOGGING_LEVEL: 'debug' }, () => ja4(['config', 'check', file]));
  t.same(r, { code: 0, out: `${file}: OK (2 of ${OPTIONS.length} options set in the file, 1 from the environment (JA4_LOGGING_LEVEL))\n`, err: '' });
  const shipped = join(repoRoot, 'packaging/config/config.yaml');
  t.same(await withEnv({}, () => ja4(['config', 'check', shipped])), { code: 0, out: `${shipped}: OK (0 of ${OPTIONS.length} options set in the file)\n`, err: '' }, 'the shipped file');
});

t.test('check: every problem, exit 2', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'correlator:\n  window_ms: abc\ncapture:\n  ifac: eth0\n');
  const r = await withEnv({ JA4_CAPTURE_PROMISC: 'maybe' }, () => ja4(['config', 'check', file]));
  t.equal(r.code, 2);
  t.equal(r.out, '');
  t.equal(
    r.err,
    `${file}:2: correlator.window_ms must be a positive integer, got "abc"\n` +
      `${file}:4: unknown option "capture.ifac" (did you mean "capture.iface"?)\n` +
      'JA4_CAPTURE_PROMISC: capture.promisc must be true or false, got "maybe"\n' +
      '3 problems found\n',
  );
  const noEnv = await withEnv({ JA4_CAPTURE_PROMISC: 'maybe' }, () => ja4(['config', 'check', '--no-env', file]));
  t.equal(noEnv.err.split('\n').length - 1, 3, '--no-env: the file\'s two problems and the count');
  t.same(await withEnv({}, () => ja4(['config', 'check', join(dir, 'none.yaml')])), { code: 2, out: '', err: `${join(dir, 'none.yaml')}: does not exist\n1 problem found\n` });
  const viaEnv = await withEnv({ JA4_CONFIG: file }, () => ja4(['config', 'check']));
  t.equal(viaEnv.code, 2, 'JA4_CONFIG names the file to check');
  t.match(viaEnv.err, `${file}:2: correlator.window_ms`);
});

t.test('show: values in effect, their sources, passwords hidden', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'sockets:\n  mode: 0640\nstorage:\n  clickhouse_url: https://ch:8443\n');
  const r = await withEnv({ JA4_STORAGE_CLICKHOUSE_PASSWORD: 'hunter2' }, () => ja4(['config', 'show', '--sources', file]));
  t.equal(r.code, 0, r.err);
  t.notMatch(r.out, 'hunter2');
  const lines = r.out.split('\n');
  t.ok(lines.includes(`  mode: "0640"  # ${file}:2`), 'the mode in octal with its line');
  t.ok(lines.includes(`  clickhouse_url: https://ch:8443  # ${file}:4`));
  t.ok(lines.includes('  clickhouse_password: "********"  # JA4_STORAGE_CLICKHOUSE_PASSWORD'));
  t.ok(lines.includes('  window_ms: 3600000  # default'));
  t.ok(lines.includes('    http_logs: 30  # default'), 'nested options');
  const plain = await withEnv({}, () => ja4(['config', 'show', file]));
  t.notMatch(plain.out, '#', 'no comments without --sources');
  const inUrl = await withEnv({ JA4_STORAGE_CLICKHOUSE_URL: 'https://admin:s3cret@ch.example:8443' }, () => ja4(['config', 'show', file]));
  t.notMatch(inUrl.out, 's3cret', 'a password inside the URL is hidden too');
  t.match(inUrl.out, '  clickhouse_url: https://admin:********@ch.example:8443/\n');
  if (!existsSync('/etc/ja4/config.yaml')) {
    const defaults = await withEnv({}, () => ja4(['config', 'show']));
    t.equal(defaults.code, 0, 'without a file, show prints the defaults a service would use');
    t.match(defaults.out, /\n  window_ms: 3600000\n/);
  }
});

t.test('template is the shipped file; usage errors', async (t) => {
  const r = await ja4(['config', 'template']);
  t.equal(r.out, readFileSync(join(repoRoot, 'packaging/config/config.yaml'), 'utf8'));
  t.equal((await ja4(['config'])).code, 2);
  t.match((await ja4(['config', '--help'])).out, /Usage: ja4 config <check\|show\|template>/);
  t.same(await ja4(['config', 'frob']), { code: 2, out: '', err: `ja4 config: unknown subcommand "frob"\n\n${(await ja4(['config', '--help'])).out}\n` });
  t.match((await ja4(['config', 'check', '--bogus'])).err, /Unknown option '--bogus'/);
  t.equal((await ja4(['config', 'check', 'a', 'b'])).err, 'ja4 config check: unexpected argument "b"\n');
  t.match((await ja4(['--help'])).out, /\n  config +check \/etc\/ja4\/config.yaml/, 'listed in ja4 --help');
});
