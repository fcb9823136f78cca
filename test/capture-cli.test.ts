// `ja4 capture` and `ja4 replay`: exit codes and messages for bad input,
// a real live capture on lo run as a child process and stopped with
// SIGINT (events flushed to a jsonl file, counters on stderr, exit 0), and
// replays to a jsonl file and to a real UNIX datagram socket.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { main } from '../src/cli/main.js';
import { readPcap } from '../src/capture/pcap-reader.js';
import { openDatagramReceiver } from '../src/ingest/datagram-receiver.js';
import type { FlowEvent, TlsEvent } from '../src/capture/tls-event.js';
import { conformanceDir, hasConformance, repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

const SAMPLE = join(repoRoot, 'samples', 'loopback-clients.pcapng');

async function ja4(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** stderr of a service command: JSON log lines (JSON.parse throws on any other line) */
const logLines = (err: string): Record<string, unknown>[] => err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

const events = (file: string): TlsEvent[] =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TlsEvent);

t.test('ja4 capture: bad usage and a missing interface', async (t) => {
  let r = await ja4(['capture', '--iface', 'nosuch0', '--output', 'stdout']);
  t.equal(r.code, 1, 'missing interface: exit 1');
  t.match(r.err, /^ja4 capture: interface nosuch0 does not exist/);
  r = await ja4(['capture']);
  t.equal(r.code, 2);
  t.match(r.err, /--iface is required/);
  r = await ja4(['capture', '--iface', 'lo', '--output', 'tcp:1.2.3.4']);
  t.equal(r.code, 2);
  t.match(r.err, /--output must be unix:PATH, unix\+seqpacket:PATH, jsonl:FILE or stdout, got "tcp:1.2.3.4"/);
  r = await ja4(['capture', '--iface', 'lo', '--snaplen', 'x', '--output', 'stdout']);
  t.equal(r.code, 2);
  t.match(r.err, /--snaplen must be a positive integer, got "x"/);
  r = await ja4(['capture', '--iface', 'lo', '--bpf', 'port', '--output', 'stdout']);
  t.equal(r.code, 1);
  t.match(r.err, /bpf filter "port"/);
  r = await ja4(['capture', '--help']);
  t.equal(r.code, 0);
  t.match(r.out, /--iface IF/);
});

t.test('ja4 capture on lo: events to a jsonl file, SIGINT flushes and exits 0', async (t) => {
  const dir = scratchDir(t);
  spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=cli.test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')]);
  const server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, s) => s.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const out = join(dir, 'events', 'capture.jsonl');
  // The command as a child process of its own (signals are process-wide),
  // bundled with esbuild from the sources: the TypeScript loader would take
  // seconds to start it.
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `import { runCaptureCommand } from ${JSON.stringify(join(repoRoot, 'src/cli/capture-command.ts'))};
import { processIO } from ${JSON.stringify(join(repoRoot, 'src/cli/output.ts'))};
runCaptureCommand(process.argv.slice(2), processIO).then((c) => { process.exitCode = c; });\n`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: join(dir, 'capture.mjs'), logLevel: 'error' });
  // the packages it imports (yaml, for the configuration) resolve from the bundle's directory up
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const startCapture = (args: string[], bpf = ['--bpf', `tcp port ${port}`]) =>
    spawn(process.execPath, [join(dir, 'capture.mjs'), '--iface', 'lo', ...bpf, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, JA4_ADDON_PATH: join(repoRoot, 'build', 'Release', 'ja4.node'), NODE_PATH: join(repoRoot, 'node_modules') },
    });
  const child = startCapture(['--output', `jsonl:${out}`, '--stats-interval', '1', '--sensor', 'cli-test']);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  const end = Date.now() + 30_000;
  // every stderr line is a JSON log record (JSON.parse throws on any other)
  const records = (): Record<string, unknown>[] => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  while (!stderr.includes('"msg":"capturing"') && Date.now() < end) await sleep(50);
  t.match(records().find((r) => r.msg === 'capturing'), { level: 'info', service: 'ja4-capture', iface: 'lo', bpf: `tcp port ${port}`, output: `jsonl:${out}` });
  await sleep(200);
  for (const name of ['a.cli.test', 'b.cli.test']) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  }
  await sleep(1500); // a stats line goes by; the closes are seen
  child.kill('SIGINT');
  t.equal(await exited, 0, 'exit 0 after SIGINT');
  const logged = records();
  t.ok(logged.some((r) => r.msg === 'counters' && r.level === 'info' && typeof r.packets === 'number' && typeof r.kernel_dropped === 'number'), 'periodic counters as fields');
  t.match(logged.at(-1), { level: 'info', service: 'ja4-capture', msg: 'stopped: flushed', signal: 'SIGINT', flow_events: 2, close_events: 2, output: `jsonl:${out}`, written: 4, output_dropped: 0 });
  const ev = events(out);
  const flows = ev.filter((e): e is FlowEvent => e.event === 'flow');
  t.same(flows.map((f) => f.tls_server_name).sort(), ['a.cli.test', 'b.cli.test']);
  t.ok(flows.every((f) => f.event === 'flow' && f.sensor === 'cli-test' && /^t13d\d{4}/.test(f.ja4 ?? '')), 'JA4 of Node\'s client');
  t.equal(ev.filter((e) => e.event === 'close').length, 2, 'two close events');

  // without --output: ja4 run's network socket of the configuration, of its
  // type (a datagram sender to a seqpacket socket lost every event)
  const sock = join(dir, 'network.socket');
  const conf = join(dir, 'seqpacket.yaml');
  writeFileSync(conf, `sockets:\n  network_path: ${sock}\n  network_type: seqpacket\n`);
  t.match(await capturingLine(startCapture(['--config', conf])), { output: `unix+seqpacket:${sock}` });

  // without --bpf: capture.bpf's documented default, as ja4 run installs it
  // (ja4 capture installed no filter at all: every packet went through)
  t.match(await capturingLine(startCapture(['--output', 'stdout'], [])), { bpf: 'tcp or udp port 443' });
});

/** The "capturing" log record of a started ja4 capture, which is then stopped (SIGINT). */
async function capturingLine(child: ChildProcess): Promise<Record<string, unknown> | undefined> {
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  const end = Date.now() + 30_000;
  while (!err.includes('"msg":"capturing"') && Date.now() < end) await sleep(50);
  child.kill('SIGINT');
  await exited;
  return err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'capturing');
}

t.test('ja4 replay --max to a jsonl file: the offline engine\'s records as events', async (t) => {
  const out = join(scratchDir(t), 'replay.jsonl');
  const r = await ja4(['replay', SAMPLE, '--max', '--output', `jsonl:${out}`, '--sensor', 'r1']);
  t.equal(r.code, 0, r.err);
  t.match(logLines(r.err).at(-1), { level: 'info', service: 'ja4-replay', msg: 'done', packets: 71, bytes: 15726, seconds: Number, packets_per_s: Number, flow_events: 5, close_events: 5, output: `jsonl:${out}`, written: 10, output_dropped: 0 });
  const offline = await readPcap(SAMPLE);
  const ev = events(out);
  t.same(
    ev.filter((e): e is FlowEvent => e.event === 'flow').map((e) => e.ja4),
    offline.map((o) => o.ja4),
    'same JA4 per stream, in order',
  );
  t.ok(ev.every((e) => e.sensor === 'r1'));
});

t.test('ja4 replay paces by --pps and --speed', async (t) => {
  const out = join(scratchDir(t), 'paced.jsonl');
  let t0 = Date.now();
  let r = await ja4(['replay', SAMPLE, '--pps', '200', '--output', `jsonl:${out}`, '--progress-interval', '0']);
  const pps = Date.now() - t0;
  t.equal(r.code, 0, r.err);
  t.ok(pps >= 340, `71 packets at 200 packets/s take >= 0.35 s (${pps} ms)`);
  t.notOk(logLines(r.err).some((l) => l.msg === 'progress'), '--progress-interval 0: no progress lines');
  // Recorded timing, and twice as fast.
  const span = (await readPcap(SAMPLE)).reduce((m, o) => Math.max(m, o.last_ts_us), 0) - (await readPcap(SAMPLE))[0]!.first_ts_us;
  t0 = Date.now();
  r = await ja4(['replay', SAMPLE, '--speed', '2x', '--output', `jsonl:${out}`, '--progress-interval', '1']);
  const fast = Date.now() - t0;
  t.equal(r.code, 0, r.err);
  t.ok(fast >= (span / 1000) * 0.5 * 0.9, `--speed 2x takes about half the recorded ${Math.round(span / 1000)} ms (${fast} ms)`);
  t.equal(events(out).filter((e) => e.event === 'flow').length, 10, 'both runs appended');
  if (fast >= 1000) t.match(logLines(r.err).find((l) => l.msg === 'progress'), { level: 'info', percent: Number, packets: Number, events: Number, file: 1, files: 1 }, 'a progress line');

  // Progress by bytes: the last progress before the end is 100% at --pps over 2 s.
  r = await ja4(['replay', SAMPLE, '--pps', '40', '--output', `jsonl:${out}`, '--progress-interval', '1']);
  t.equal(r.code, 0, r.err);
  const bars = logLines(r.err).filter((l) => l.msg === 'progress').map((l) => [l.percent as number, l.packets as number]);
  t.ok(bars.length >= 1, `progress lines: ${JSON.stringify(bars)}`);
  t.ok(bars.every(([pct], i) => i === 0 || pct! >= bars[i - 1]![0]!), 'the percentage never goes back');
  t.ok(bars.every(([pct, n]) => pct! > 0 && pct! < 100 && n! > 0 && n! < 71), 'between 0 and 100% while replaying');
});

t.test('ja4 replay of a capture rotated into several files: one timeline, the same events as the whole file', async (t) => {
  // editcap -c 20: the capture in files of 20 packets, as tcpdump -C/-G
  // rotation makes them. Each file used to start 1 s after the previous
  // one's last packet: flows crossing a boundary got a JA4L of seconds.
  const dir = scratchDir(t);
  const split = spawnSync('editcap', ['-c', '20', SAMPLE, join(dir, 'part.pcapng')], { encoding: 'utf8' });
  t.equal(split.status, 0, split.stderr);
  const parts = (await import('node:fs')).readdirSync(dir).filter((f) => f.startsWith('part')).sort().map((f) => join(dir, f));
  t.equal(parts.length, 4, '71 packets in 4 files');
  const whole = join(dir, 'whole.jsonl');
  const rotated = join(dir, 'rotated.jsonl');
  t.equal((await ja4(['replay', SAMPLE, '--max', '--output', `jsonl:${whole}`])).code, 0);
  t.equal((await ja4(['replay', ...parts, '--max', '--output', `jsonl:${rotated}`])).code, 0);
  const shape = (file: string) => {
    const ev = events(file);
    const t0 = ev[0]!.first_ts_us;
    return ev.map((e) => ({ event: e.event, stream: e.stream, ja4: (e as FlowEvent).ja4, ja4l_c: (e as FlowEvent).ja4l_c, ja4l_s: (e as FlowEvent).ja4l_s, first: e.first_ts_us - t0, last: e.last_ts_us - t0 }));
  };
  t.same(shape(rotated), shape(whole), 'same fingerprints, JA4L and relative times');
  // --pps paces the whole replay, across files and passes: the pacing
  // clock used to restart with each file, its first packet sent at once
  // (10 passes over 2 packets at 20/s took 0.5 s instead of 1)
  const two = join(dir, 'two.pcapng');
  t.equal(spawnSync('editcap', ['-r', SAMPLE, two, '1-2']).status, 0);
  const t0 = Date.now();
  t.equal((await ja4(['replay', two, '--pps', '20', '--loop', '10', '--output', `jsonl:${rotated}`, '--progress-interval', '0'])).code, 0);
  const took = Date.now() - t0;
  t.ok(took >= 900, `20 packets at 20 packets/s take about 1 s (${took} ms)`);
});

t.test('ja4 replay from a pipe (<(zcat x.pcap.gz)); --loop needs a regular file', async (t) => {
  const out = join(scratchDir(t), 'pipe.jsonl');
  const sh = spawnSync('bash', ['-c', `node ${join(repoRoot, 'bin', 'ja4.js')} replay <(cat ${SAMPLE}) --max --output jsonl:${out}`], { encoding: 'utf8' });
  t.equal(sh.status, 0, sh.stderr);
  t.equal(events(out).filter((e) => e.event === 'flow').length, 5, 'the capture read through the pipe');
  const looped = spawnSync('bash', ['-c', `node ${join(repoRoot, 'bin', 'ja4.js')} replay <(cat ${SAMPLE}) --max --loop 2 --output jsonl:${out}`], { encoding: 'utf8' });
  t.equal(looped.status, 2);
  t.match(looped.stderr, /not a regular file, and --loop reads each file again/);
});

t.test('ja4 replay --loop to a UNIX datagram socket', async (t) => {
  const path = join(scratchDir(t), 'network.socket');
  const lines: string[] = [];
  const rx = openDatagramReceiver({ path, type: 'dgram' }, (b) => lines.push(...b.data.toString().split('\n').filter(Boolean)));
  t.teardown(() => rx.close());
  const r = await ja4(['replay', SAMPLE, '--max', '--loop', '3', '--output', `unix:${path}`]);
  t.equal(r.code, 0, r.err);
  const end = Date.now() + 5000;
  while (lines.length < 30 && Date.now() < end) await sleep(10);
  const ev = lines.map((l) => JSON.parse(l) as TlsEvent);
  t.equal(ev.filter((e) => e.event === 'flow').length, 15, '5 flows x 3 loops');
  t.equal(ev.filter((e) => e.event === 'close').length, 15);
  t.equal(new Set(ev.filter((e) => e.event === 'flow').map((e) => e.stream)).size, 15, 'each loop gets new stream numbers');
  const ts = ev.map((e) => e.first_ts_us);
  t.ok(ts[ts.length - 1]! - ts[0]! >= 2_000_000, 'each loop starts after the previous one (>= 1 s apart)');
  t.match(logLines(r.err).find((l) => l.msg === 'done'), { level: 'info', output: `unix:${path}`, written: Number, output_dropped: 0 });
});

t.test('ja4 replay --loop of a QUIC capture: a record per connection and pass', { skip: hasConformance ? false : 'no conformance pcaps' }, async (t) => {
  // each pass replays the same Destination Connection IDs; the engine used
  // to take the second pass's Initials as the first connection's (one record
  // in all): a pass now ends its flows as the end of input does
  const quic = join(conformanceDir, 'pcap', 'quic-tls-handshake.pcapng');
  const out = join(scratchDir(t), 'quic.jsonl');
  t.equal((await ja4(['replay', quic, '--max', '--output', `jsonl:${out}`])).code, 0);
  const once = events(out).filter((e) => e.event === 'flow') as FlowEvent[];
  t.ok(once.length >= 1 && once.every((e) => e.transport === 'udp' && e.ja4?.startsWith('q') === true), `one pass: ${once.length} QUIC flow(s) with a JA4`);
  const looped = join(scratchDir(t), 'quic3.jsonl');
  t.equal((await ja4(['replay', quic, '--max', '--loop', '3', '--output', `jsonl:${looped}`])).code, 0);
  const thrice = events(looped).filter((e) => e.event === 'flow') as FlowEvent[];
  t.equal(thrice.length, 3 * once.length, 'three passes: three times the records');
  t.same(thrice.map((e) => e.ja4), [...once, ...once, ...once].map((e) => e.ja4), 'the same fingerprints each pass');
});

t.test('ja4 replay to a SOCK_SEQPACKET receiver (sockets.network_type: seqpacket)', async (t) => {
  // a datagram sender's connect to it fails (EPROTOTYPE): every event was
  // dropped while the sensor ran on, exit 0
  const path = join(scratchDir(t), 'network.socket');
  const lines: string[] = [];
  const rx = openDatagramReceiver({ path, type: 'seqpacket' }, (b) => lines.push(...b.data.toString().split('\n').filter(Boolean)));
  t.teardown(() => rx.close());
  const r = await ja4(['replay', SAMPLE, '--max', '--output', `unix+seqpacket:${path}`]);
  t.equal(r.code, 0, r.err);
  const end = Date.now() + 5000;
  while (lines.length < 10 && Date.now() < end) await sleep(10);
  t.equal(lines.length, 10, '5 flow and 5 close events');
  t.match(logLines(r.err).find((l) => l.msg === 'done'), { output: `unix+seqpacket:${path}`, written: Number, output_dropped: 0 });
});

t.test('ja4 replay to a socket nobody listens on: events dropped and counted, exit 0', async (t) => {
  const path = join(scratchDir(t), 'absent.socket');
  const t0 = Date.now();
  const r = await ja4(['replay', SAMPLE, '--max', '--output', `unix:${path}`, '--progress-interval', '0']);
  t.equal(r.code, 0, 'the capture side never fails on its consumer');
  const logged = logLines(r.err);
  t.match(logged.find((l) => l.msg === 'done'), { level: 'info', output: `unix:${path}`, written: 0, output_dropped: 10 });
  t.same(logged.filter((l) => l.level === 'warn').map(({ ts: _ts, ...l }) => l), [{ level: 'warn', service: 'ja4-replay', msg: 'events dropped by the output', output: `unix:${path}`, output_dropped: 10 }]);
  t.ok(Date.now() - t0 < 5000, 'waits at most its grace period for a receiver');
});

t.test('ja4 replay: bad options and files', async (t) => {
  const cases: [string[], number, RegExp][] = [
    [['replay'], 2, /no capture file given/],
    [['replay', SAMPLE, '--speed', '0'], 2, /--speed must be a positive factor such as 1x, 10x or 0.5x, got "0"/],
    [['replay', SAMPLE, '--speed', 'fast'], 2, /--speed must be a positive factor/],
    [['replay', SAMPLE, '--speed', '2x', '--max'], 2, /--speed, --pps and --max cannot be combined/],
    [['replay', SAMPLE, '--loop', '0'], 2, /--loop must be a positive integer, got "0"/],
    [['replay', '/nonexistent.pcap', '--output', 'stdout'], 2, /ja4 replay: \/nonexistent.pcap: No such file or directory/],
    [['replay', join(repoRoot, 'package.json'), '--output', 'stdout'], 2, /package.json: not a pcap or pcapng capture/],
  ];
  for (const [argv, code, msg] of cases) {
    const r = await ja4(argv);
    t.equal(r.code, code, argv.join(' '));
    t.match(r.err, msg);
  }
  t.notOk(existsSync('/nonexistent.pcap'));
});
