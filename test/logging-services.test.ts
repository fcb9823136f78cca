// Service logs as the journal sees them: `ja4 run` as a real child process
// (its whole stderr, not only what goes through the command's io), fed a bad
// datagram on its network socket. Every stderr line must be one JSON object
// with ts, level, service and msg; the startup, progress, drop and stop
// events carry their numbers as fields at the documented levels;
// --log-level warn keeps only the warnings; logging.format from the
// environment gives text lines; a bad level is a usage error naming the flag.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { openDatagramSender } from '../src/ingest/datagram-sender.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

const dir = scratchDir(t);
// bundled with esbuild from the sources: the TypeScript loader would take seconds to start it
const entry = join(dir, 'entry.ts');
writeFileSync(entry, `import { main } from ${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))};
main(process.argv.slice(2)).then((c) => { process.exitCode = c; });\n`);
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: join(dir, 'ja4.mjs'), logLevel: 'error' });
symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `ja4 run` for 3 s on the simulator (jsonl output: no database), its
 * sockets in a scratch dir; once it is up, one datagram that is not JSON
 * arrives on the network socket.
 */
async function runFor(name: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const d = join(dir, name);
  mkdirSync(d);
  const net = join(d, 'net.socket');
  const args = ['run', '--output', `jsonl:${join(d, 'rows.jsonl')}`, '--spool-dir', join(d, 'spool'), '--http-socket', join(d, 'http.socket'), '--network-socket', net,
    '--no-simulate', '--correlator-threads', '0', '--progress-interval', '1', '--duration', '3', '--metrics-listen', '127.0.0.1:0', ...extra];
  const base = { ...process.env };
  delete base.JOURNAL_STREAM; // no journald priority prefix here
  for (const k of Object.keys(base)) if (k.startsWith('JA4_')) delete base[k];
  const child = spawn(process.execPath, [join(dir, 'ja4.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...base, JA4_ADDON_PATH: join(repoRoot, 'build', 'Release', 'ja4.node'), ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  // up: the sockets exist (the startup line may be hidden by --log-level)
  for (let i = 0; i < 400; i++) {
    const s = openDatagramSender({ path: net, type: 'dgram' });
    const sent = s.send(Buffer.from('this is not json'));
    s.close();
    if (sent) break;
    await sleep(25);
  }
  return { code: await exited, stdout, stderr };
}

interface Rec {
  ts: string;
  level: string;
  service: string;
  msg: string;
  [k: string]: unknown;
}

/** Every line parsed; one that is not a JSON object with ts, level, service and msg fails the test. */
function records(t: Test, stderr: string): Rec[] {
  const lines = stderr.split('\n').filter(Boolean);
  const recs: Rec[] = [];
  for (const line of lines) {
    let r: Rec | undefined;
    try {
      r = JSON.parse(line) as Rec;
    } catch {
      t.fail(`not a JSON line: ${line}`);
      continue;
    }
    if (!(typeof r.ts === 'string' && !Number.isNaN(Date.parse(r.ts)) && ['debug', 'info', 'warn', 'error'].includes(r.level) && typeof r.service === 'string' && typeof r.msg === 'string')) t.fail(`missing ts/level/service/msg: ${line}`);
    recs.push(r);
  }
  return recs;
}

// the three runs at once (3 s each), checked one by one below
const runs = {
  json: runFor('json', []),
  warn: runFor('warn', ['--log-level', 'warn']),
  text: runFor('text', ['--log-level', 'warn'], { JA4_LOGGING_FORMAT: 'text', JOURNAL_STREAM: '8:12345' }),
};

t.test('ja4 run, default format: JSON lines only, known events at their levels with their fields', async (t) => {
  const r = await runs.json;
  t.equal(r.code, 0, r.stderr);
  const recs = records(t, r.stderr);
  t.ok(recs.length >= 5, `${recs.length} lines`);
  t.ok(recs.every((x) => x.service === 'ja4-run'), 'service ja4-run on every line');
  t.match(recs.find((x) => x.msg === 'up'), { level: 'info', inputs: [/^http .*http\.socket \(seqpacket\)$/, /^network .*net\.socket$/], output: /rows\.jsonl$/, metrics_port: Number });
  t.match(recs.find((x) => x.msg === 'progress'), { level: 'info', http_per_s: Number, tls_per_s: Number, rows_per_s: Number, matched_pct: Number, connections: Number, writer: 'direct', dropped_not_json: Number });
  t.same(
    recs.filter((x) => x.msg === 'input dropped').map(({ ts: _ts, ...x }) => x),
    [{ level: 'warn', service: 'ja4-run', msg: 'input dropped', tls_dropped_not_json: 1 }],
    'the bad datagram: one warning, per input and reason',
  );
  t.match(recs.at(-2), { level: 'info', msg: 'stopping: flushing', why: '3 s elapsed' });
  t.match(recs.at(-1), { level: 'info', msg: 'stopped', http_records: Number, tls_events: Number, written_rows: Number, spool_segments: 0 });
  t.equal(r.stdout, '', 'nothing on stdout (the rows go to the jsonl file)');
});

t.test('--log-level warn: the warning only, no info line', async (t) => {
  const r = await runs.warn;
  t.equal(r.code, 0, r.stderr);
  const recs = records(t, r.stderr);
  t.same(recs.map((x) => [x.level, x.msg]), [['warn', 'input dropped']]);
});

t.test('JA4_LOGGING_FORMAT=text and JOURNAL_STREAM: readable lines with the journald priority first', async (t) => {
  const r = await runs.text;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^<4>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  ja4-run: input dropped tls_dropped_not_json=1\n$/);
});

t.test('a bad --log-level or --log-format: exit 2, the message names the flag', async (t) => {
  for (const [args, message] of [
    [['--log-level', 'verbose'], '--log-level must be one of debug, info, warn, error, got "verbose"'],
    [['--log-format', 'xml'], '--log-format must be one of json, text, got "xml"'],
  ] as const) {
    const r = spawnSync(process.execPath, [join(dir, 'ja4.mjs'), 'run', '--output', 'stdout', ...args], { encoding: 'utf8', env: { ...process.env, JA4_ADDON_PATH: join(repoRoot, 'build', 'Release', 'ja4.node') } });
    t.same([r.status, r.stdout, r.stderr], [2, '', `${message}\n`], args.join(' '));
  }
});
