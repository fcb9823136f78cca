// The mod_reqin_log benchmark (`npm run bench:httpd [-- options]`): what
// logging every request costs Apache, measured with wrk against a small
// static file on loopback, in three configurations served side by side:
//
//   none        Apache, no request logging at all
//   log_config  mod_log_config writing the combined format to a file
//               (CustomLog, unbuffered: the stock setup)
//   reqin       mod_reqin_log sending every record to a live receiver
//               (native/httpd/test_receiver -q, counting)
//
// and the delivery rate of reqin (records received / requests answered):
// at full speed, and paced at about --rate requests/s (20000 by default),
// the issue's acceptance point. With --dgram, the same delivery runs over
// SOCK_DGRAM for comparison (net.unix.max_dgram_qlen applies there).
//
//   --duration S     seconds per wrk run (default 3)
//   --runs N         interleaved rounds: each configuration once per round,
//                    the order rotated from one round to the next (default 15)
//   --connections N  wrk connections (default 32)
//   --threads N      wrk threads (default: the CPUs wrk is pinned to, else 2)
//   --no-pin         do not pin (see "Pinning" below)
//   --receiver-on-server  pin the live receiver with Apache (the server's
//                    CPUs) instead of with wrk (see "Pinning" below)
//   --rate N         paced delivery check, requests/s (default 20000)
//   --mpm NAME       event (default), worker or prefork
//   --dgram          also measure delivery over SOCK_DGRAM
//   --module-b PATH  also run reqin_b: mod_reqin_log from another build (an
//                    older commit's, say) with its own live receiver, in
//                    the same rounds, for an A/B comparison on a busy
//                    machine (in --instructions mode too)
//   --detail         also run reqin_nosock: the module with no receiver
//                    (records built, then dropped at once): the module's
//                    own cost without the socket and the receiver
//   --profile        after the rounds, where reqin's Apache spends its CPU:
//                    perf samples (cpu-clock, DWARF call stacks) of its
//                    processes during one more wrk run, each sample charged
//                    to the module's outermost function on its stack (its
//                    send system calls apart) or to Apache. A share of
//                    Apache's own CPU, so other load on the machine moves
//                    it far less than throughput: the module's cost at
//                    real speed, kernel time included (needs perf)
//   --instructions   instead of the wrk runs: user-space instructions per
//                    request, counted by valgrind's callgrind (Apache -X,
//                    one process, sequential keep-alive requests; the
//                    difference between 300 and 1300 requests, so startup
//                    cancels out). Deterministic: unaffected by other load on
//                    the machine, which makes it the way to compare costs on
//                    a shared machine. Kernel time is not included.
//   --keep           keep the work directory (each run's error.log; with
//                    --instructions each callgrind.out, for
//                    callgrind_annotate; with --profile reqin/perf.data, for
//                    perf report / perf annotate) and print its path
//
// Figures are medians over the runs; runs are many and short, interleaved
// in rounds (none, log_config, reqin; then log_config, reqin, none; ...) so
// that load from elsewhere on the machine hits every configuration alike.
// The verdicts use paired ratios: reqin / none within each round (the two
// ran within seconds of each other), their median with its 95% confidence
// interval (distribution-free: the sign test's order statistics), and their
// spread: the middle half of the rounds (interquartile range) and min..max.
// An interval that straddles the target says the run could not decide it
// (the verdict line says so); more --runs narrow it. The receiver's CPU counts only with
// --receiver-on-server.
//
// Pinning (default with 2 CPUs or more): each Apache runs alone on the
// first half of the CPUs (CPU 0 of 2), wrk and the live receiver on the
// other half, so that wrk never takes CPU time from Apache and Apache is
// the bottleneck: throughput then measures Apache's CPU cost per request,
// not how the scheduler shared cores between wrk and Apache, which varied
// from run to run by more than the 3% at stake. The receiver is the log's
// consumer, a separate service (in production the correlator, which spends
// far more CPU per record than Apache per request and runs on other cores):
// it goes with the load generator, outside the system under test, and its
// CPU per record is reported apart. --receiver-on-server puts it on
// Apache's CPUs instead (the earlier placement: Apache then pays for its
// receiver's wakeups and CPU too, and reqin's CPU per request includes it). Every Apache
// has a fixed pool of threads (one child, ThreadsPerChild 64), so that no
// child is started or stopped during a run. The delivery checks (full
// speed and paced at --rate) run unpinned after the rounds: the paced rate
// may need more than one CPU.
//
// Besides requests/s, each run measures the CPU time Apache spent per
// request (user + system of every process in its process group, including
// children reaped meanwhile; with --receiver-on-server, reqin's includes
// the receiver's), the receiver's CPU per record, and Apache's context
// switches per request (every thread's, from /proc): the event MPM's
// hand-offs between its listener and its workers vary from ~0.3 to ~3 per
// request from one run to the next, with or without a module, and the CPU
// per request follows them; they are printed so that a run can be read. On a machine
// shared with other work, throughput swings with their load while CPU per
// request hardly does: it is the steadier measure of what logging costs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = join(root, 'build', 'httpd');
const MODULE = join(BUILD, 'mod_reqin_log.so');
const RECEIVER = join(BUILD, 'test_receiver');
const TARGET_VS_NONE = 0.97; // within 3% of no logging
const TARGET_DELIVERY = 0.999;

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    runs: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'receiver-on-server': { type: 'boolean', default: false },
    rate: { type: 'string', default: '20000' },
    mpm: { type: 'string', default: 'event' },
    dgram: { type: 'boolean', default: false },
    detail: { type: 'boolean', default: false },
    instructions: { type: 'boolean', default: false },
    'module-b': { type: 'string' },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const duration = Math.max(1, Number(opt.duration));
const runs = Math.max(1, Number(opt.runs));
const connections = Math.max(1, Number(opt.connections));
const rate = Math.max(100, Number(opt.rate));
// Pinning: Apache and the receiver on `serverCpus`, wrk on `clientCpus`
// (null: not pinned).
const nCpus = cpus().length;
const pinned = !opt['no-pin'] && !opt.instructions && nCpus >= 2;
/** taskset's list of CPUs a..b. */
const cpuRange = (a, b) => (a === b ? `${a}` : `${a}-${b}`);
const serverCpus = pinned ? cpuRange(0, Math.max(0, (nCpus >> 1) - 1)) : null;
const clientCpus = pinned ? cpuRange(nCpus >> 1, nCpus - 1) : null;
const threads = Math.max(1, Number(opt.threads ?? (pinned ? nCpus - (nCpus >> 1) : 2)));
// The live receiver: with wrk (the client side) unless --receiver-on-server.
const receiverOnServer = opt['receiver-on-server'];
const receiverCpus = pinned ? (receiverOnServer ? serverCpus : clientCpus) : null;
const placement = pinned
  ? `Apache on CPU ${serverCpus}${receiverOnServer ? ' with the receiver' : ' alone'}, wrk${receiverOnServer ? '' : ' and the receiver'} on CPU ${clientCpus}`
  : 'not pinned (Apache, wrk and the receiver share the CPUs)';
/** The command line, run under taskset when `cpuList` is set. */
const onCpus = (cpuList, cmd, args) => (cpuList ? ['taskset', ['-c', cpuList, cmd, ...args]] : [cmd, args]);

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (x) => `${(x * 100).toFixed(x >= 0.9995 && x < 1 ? 3 : 2)}%`;

function need(cmd, hint) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    log(`${cmd} not found: ${hint}`);
    process.exit(2);
  }
}

function findApache() {
  for (const c of [
    { bin: '/usr/sbin/apache2', modules: '/usr/lib/apache2/modules' },
    { bin: '/usr/sbin/httpd', modules: '/usr/lib64/httpd/modules' },
  ]) {
    if (existsSync(c.bin) && existsSync(join(c.modules, 'mod_mpm_event.so'))) return c;
  }
  log('Apache not found: run scripts/setup.sh (apache2 / httpd)');
  process.exit(2);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, cond, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const canConnect = (port) => new Promise((resolve) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

const isRoot = process.getuid?.() === 0;

/** Debian's www-data, RHEL's apache: `User NAME` and `Group #gid` for Apache's children when started by root. */
function apacheUserLines() {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const u of ['www-data', 'apache', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${u}:`));
    if (line) return [`User ${u}`, `Group #${line.split(':')[3]}`];
  }
  return [];
}

/** One Apache in its own directory and process group. */
async function startApache(apache, dir, name, opts) {
  const { port, d, confPath } = await writeConfig(apache, dir, name, opts);
  // its own session: prefork stops its children with killpg(getpgrp())
  const [cmd, args] = onCpus(serverCpus, apache.bin, ['-f', confPath, '-DFOREGROUND']);
  const proc = spawn(cmd, args, { stdio: 'ignore', detached: true }); // taskset execs: same pid
  process.once('exit', () => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } });
  await waitFor(`Apache (${name})`, () => {
    if (proc.exitCode !== null) {
      const f = join(d, 'error.log');
      throw new Error(`Apache (${name}) exited (${proc.exitCode}): ${existsSync(f) ? readFileSync(f, 'utf8') : 'see apache2 -t -f ' + confPath}`);
    }
    return canConnect(port);
  });
  return { name, port, proc, dir: d };
}

async function writeConfig(apache, dir, name, { reqin, logConfig, socket }) {
  const port = await freePort();
  const d = join(dir, name);
  mkdirSync(d);
  chmodSync(d, 0o777); // the -X run's callgrind output is written by www-data
  const m = (n) => `LoadModule ${n}_module ${join(apache.modules, `mod_${n}.so`)}`;
  const conf = [
    `ServerRoot ${d}`,
    m(`mpm_${opt.mpm}`), m('authz_core'), m('mime'), m('dir'),
    ...(reqin ? [`LoadModule reqin_log_module ${typeof reqin === 'string' ? reqin : MODULE}`, `ReqinLogSocket ${socket}`] : []),
    ...(isRoot ? apacheUserLines() : []),
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `PidFile ${join(d, 'httpd.pid')}`,
    `DefaultRuntimeDir ${d}`,
    `ErrorLog ${join(d, 'error.log')}`,
    `LogLevel warn${reqin ? ' reqin_log:info' : ''}`,
    'TypesConfig /etc/mime.types',
    `DocumentRoot ${join(dir, 'docs')}`,
    `<Directory ${join(dir, 'docs')}>`, '  Require all granted', '</Directory>',
    'KeepAliveTimeout 30',
    'MaxKeepAliveRequests 0',
    // wrk runs: a fixed pool of processes/threads, none started or stopped
    // during a run (the callgrind runs keep the stock settings)
    ...(opt.instructions ? [] : fixedWorkers(opt.mpm)),
    ...(logConfig ? [
      'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
      `CustomLog ${join(d, 'access.log')} combined`,
    ] : []),
  ].join('\n') + '\n';
  const confPath = join(d, 'httpd.conf');
  writeFileSync(confPath, conf);
  return { port, d, confPath };
}

/** MPM settings for a fixed pool that serves every wrk connection at once. */
function fixedWorkers(mpm) {
  const n = Math.max(64, connections * 2);
  if (mpm === 'prefork') {
    return [`StartServers ${n}`, `ServerLimit ${n}`, `MaxRequestWorkers ${n}`, `MinSpareServers ${n}`, `MaxSpareServers ${n}`];
  }
  return ['StartServers 1', 'ServerLimit 1', `ThreadLimit ${n}`, `ThreadsPerChild ${n}`, `MaxRequestWorkers ${n}`, 'MinSpareThreads 1', `MaxSpareThreads ${n + 1}`];
}

/** `count` sequential requests on one keep-alive connection. */
async function sequential(port, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port, path: '/index.html', agent, headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'Accept-Language': 'en-US,en;q=0.5', 'Accept-Encoding': 'gzip, deflate, br', Cookie: 'session=abc123; theme=dark' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  }
  agent.destroy();
}

/** User-space instructions of apache2 -X (callgrind) serving `count` requests. */
async function instructions(apache, dir, name, opts, count) {
  const { port, d, confPath } = await writeConfig(apache, dir, `${name}-${count}`, opts);
  const out = join(d, 'callgrind.out');
  const proc = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, apache.bin, '-X', '-f', confPath], { stdio: 'ignore', detached: true });
  process.once('exit', () => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } });
  await waitFor(`Apache under callgrind (${name})`, () => {
    if (proc.exitCode !== null) throw new Error(`valgrind apache2 -X (${name}) exited: see ${d}`);
    return canConnect(port);
  }, 60000);
  // callgrind created its output as root and writes it at exit as www-data
  if (isRoot && existsSync(out)) chmodSync(out, 0o666);
  await sequential(port, count);
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!m) throw new Error(`no callgrind totals in ${out}`);
  return Number(m[1]);
}

async function instructionsMain(apache, dir) {
  need('valgrind', 'install valgrind');
  const socket = join(dir, 'http.socket');
  const receiver = await startReceiver(socket, 'seqpacket');
  const configs = [
    ['none (no request log)', 'none', {}],
    ['mod_log_config, combined to a file', 'log_config', { logConfig: true }],
    ['mod_reqin_log + live receiver', 'reqin', { reqin: true, socket }],
    ['mod_reqin_log, no receiver', 'reqin_nosock', { reqin: true, socket: join(dir, 'absent.socket') }],
    ...(opt['module-b'] ? [['mod_reqin_log B (--module-b) + live receiver', 'reqin_b', { reqin: opt['module-b'], socket }]] : []),
  ];
  const rows = [];
  try {
    for (const [label, name, o] of configs) {
      const a = await instructions(apache, dir, name, o, 300);
      const b = await instructions(apache, dir, name, o, 1300);
      rows.push([label, (b - a) / 1000]);
      log(`${name}: ${fmt((b - a) / 1000)} instructions/request`);
    }
  } finally {
    await receiver.stop();
  }
  const base = rows[0][1];
  const lines = [
    'mod_reqin_log cost, user-space instructions per request (callgrind, apache2 -X, sequential keep-alive GETs of a static file with browser-like headers):',
    '',
    '| configuration | instructions/request | vs none |',
    '|---|---:|---:|',
    ...rows.map(([label, n]) => `| ${label} | ${fmt(n)} | +${fmt(n - base)} (${((n / base - 1) * 100).toFixed(1)}%) |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** After a stop: mod_reqin_log's own counters, summed over the children (RQL00020 lines). */
function moduleCounters(a) {
  const text = readFileSync(join(a.dir, 'error.log'), 'utf8');
  let sent = 0;
  let dropped = 0;
  let messages = 0;
  for (const m of text.matchAll(/RQL00020: .* sent (\d+), dropped (\d+) .*messages (\d+)/g)) {
    sent += Number(m[1]);
    dropped += Number(m[2]);
    messages += Number(m[3]);
  }
  return { sent, dropped, messages };
}

async function stopApache(a) {
  if (a.proc.exitCode !== null) return;
  const exited = new Promise((r) => a.proc.once('exit', r));
  a.proc.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
}

/**
 * test_receiver -q: counts; SIGUSR1 makes it print "received N". Over
 * SOCK_DGRAM it never naps: with net.unix.max_dgram_qlen datagrams queued at
 * most, a receiver that pauses loses records, so DGRAM gets its best case.
 */
async function startReceiver(socket, type) {
  const [cmd, args] = onCpus(receiverCpus, RECEIVER, ['-q', '-t', type, ...(type === 'dgram' ? ['-n', '0'] : []), socket]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s) => { err += s; });
  await waitFor('the receiver', () => err.includes('ready'));
  return {
    proc,
    async count() {
      const before = err.length;
      proc.kill('SIGUSR1');
      await waitFor('the receiver count', () => /received \d+\n/.test(err.slice(before)));
      return Number(/received (\d+)\n/.exec(err.slice(before))[1]);
    },
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

function parseDuration(s) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2]];
}

/** Each process of group `pgid` or in `extraPids`: its pid and its /proc stat fields from field 3 (state) on. */
function* groupProcesses(pgid, extraPids = []) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let st;
    try {
      st = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const pid = Number(d);
    if (Number(f[2]) === pgid || extraPids.includes(pid)) yield { pid, f }; // field 5: pgrp
  }
}

/** Moves every thread of the processes of group `pgid`, and `extraPids`, to `cpuList`. */
function repin(pgid, extraPids, cpuList) {
  for (const { pid } of groupProcesses(pgid, extraPids)) spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

/** wrk (on `wrkCpus` when pinned): requests/s, p99 latency (ms), requests completed, errors. */
let wrkCpus = clientCpus;
function wrk(port, seconds, extra = []) {
  const [cmd, args] = onCpus(wrkCpus, 'wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', ...extra, `http://127.0.0.1:${port}/index.html`]);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = parseDuration(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p99, requests, errors, non2xx };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds used so far by the processes of process group `pgid` (their threads included), plus the children its leader reaped, plus `extraPids`. */
function groupCpu(pgid, extraPids = []) {
  let ticks = 0;
  for (const { pid, f } of groupProcesses(pgid, extraPids)) {
    ticks += Number(f[11]) + Number(f[12]); // fields 14, 15: utime, stime
    if (pid === pgid) ticks += Number(f[13]) + Number(f[14]); // fields 16, 17: reaped children
  }
  return ticks / CLK_TCK;
}

/** Context switches so far (voluntary and not) of every thread of the processes of group `pgid`. */
function groupSwitches(pgid) {
  let n = 0;
  for (const { pid } of groupProcesses(pgid)) {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tasks) {
      try {
        for (const m of readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8').matchAll(/ctxt_switches:\s+(\d+)/g)) n += Number(m[1]);
      } catch { /* gone */ }
    }
  }
  return n;
}

/** A Lua script for wrk that waits delayMs before each request on a connection. */
function delayScript(dir, delayMs) {
  const file = join(dir, 'paced.lua');
  writeFileSync(file, `function delay() return ${delayMs} end\n`);
  return file;
}

// wrk's delay() is whole milliseconds: wrk's script_delay reads the Lua
// number into an integer, so 0.98 ms waits 0 and 2.08 ms waits 2. Tuning
// the delay moved the rate in steps (with 32 connections: ~27k, ~22k,
// ~12k requests/s for 0, 1 and 2 ms), which once gave a "20k" check at
// 11.8k. So the delay is fixed, long beside a request's latency (~0.3-1
// ms here), and the number of connections sets the rate.
const PACE_DELAY_MS = 4;
const PACE_MAX_CONNECTIONS = 160;

/**
 * wrk cannot aim at a rate (wrk2 can), but connections that wait between
 * requests can: each connection sends one request per (delay + latency),
 * so `total` requests/s need total * (delay + latency) connections. Found
 * by short probes; returns wrk's extra arguments and the connections.
 */
function pacedArgs(dir, port, total) {
  const file = delayScript(dir, PACE_DELAY_MS);
  // aimed 2% above: a probe accepted within 2.5% of the aim is at most
  // half a percent below `total`
  const aim = total * 1.02;
  // a rate Apache cannot serve would otherwise ask for ever more
  // connections, past what the fixed pool's event MPM accepts (~64 + 2 per
  // idle worker): the check then reports the rate it got
  const connsFor = (x) => Math.min(PACE_MAX_CONNECTIONS, Math.max(1, Math.round(x)));
  let conns = connsFor((aim * PACE_DELAY_MS) / 1000);
  for (let i = 0; i < 5; i++) {
    const w = wrk(port, 2, ['-c', String(conns), '-s', file]);
    if (Math.abs(w.rps - aim) / aim < 0.025) break;
    conns = connsFor((conns * aim) / w.rps);
  }
  return { args: ['-c', String(conns), '-s', file], conns };
}

/** The receiver's count once it stopped moving (records of an earlier run, batched or in socket buffers, arrive first). */
async function settledCount(receiver) {
  let last = await receiver.count();
  for (let i = 0; i < 40; i++) {
    await sleep(100);
    const now = await receiver.count();
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * --profile: perf samples of Apache (group `a.proc.pid`) during a wrk run,
 * each charged to the module's outermost function on its call stack (the
 * connection filters only for their own work, not for the filters below
 * them that they call) or to Apache. Returns the samples by charge, the
 * samples of Apache's own filters below the module's (`below`, included in
 * Apache's), and wrk's result.
 *
 * The filters below ours: the core's (named), and those of the modules
 * compiled into Apache's binary, whose static functions perf cannot name
 * in a stripped binary: Debian's apache2 has mod_logio built in, whose
 * byte counters run on every connection of every configuration, `none`
 * included (`apr_brigade_length` under an unnamed apache2 frame under
 * rl_in_filter). ap_get_brigade and ap_pass_brigade jump to the next
 * filter without a frame of their own, so an unnamed frame of Apache's
 * binary below a connection filter of ours is such a filter (the module's
 * filters call nothing else in that binary). Until session 6 those samples
 * were charged to rl_in_filter (~0.2% of Apache's CPU).
 */
function profileRun(a, receiver, seconds) {
  const out = join(a.dir, 'perf.data');
  const pids = [...groupProcesses(a.proc.pid)].map((p) => p.pid).join(',');
  const rec = spawn('perf', ['record', '-q', '-F', '2999', '-e', 'cpu-clock', '--call-graph', 'dwarf,16384', '-p', pids, '-o', out], { stdio: 'ignore' });
  spawnSync('sleep', ['0.3']);
  const w = wrk(a.port, seconds);
  return new Promise((resolve) => {
    rec.once('exit', () => {
      const script = spawnSync('perf', ['script', '-i', out, '-F', 'ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      if (!opt.keep) rmSync(out, { force: true }); // --keep: for perf report / perf annotate
      const charges = new Map();
      let total = 0;
      let belowOurs = 0;
      const apacheBinary = /\/(apache2|httpd)\)$/;
      const charge = (stack) => {
        if (stack.length === 0) return;
        total++;
        const mod = stack.filter((f) => f.sym.startsWith('rl_'));
        let k = 'Apache';
        if (mod.length > 0) {
          const outer = mod[mod.length - 1].sym;
          const below = stack.slice(0, stack.findIndex((f) => f.sym === outer));
          const core = outer === 'rl_in_filter' ? ['ap_get_brigade', 'ap_core_input_filter'] : outer === 'rl_out_filter' ? ['ap_pass_brigade', 'ap_core_output_filter'] : [];
          if (core.length > 0 && below.some((f) => core.includes(f.sym) || apacheBinary.test(f.dso))) belowOurs++;
          else k = below.some((f) => /sendto|sendmsg/.test(f.sym)) ? `${outer} (send system calls)` : outer;
        }
        charges.set(k, (charges.get(k) ?? 0) + 1);
      };
      let stack = [];
      for (const line of script.stdout.split('\n')) {
        if (!line.trim()) {
          charge(stack);
          stack = [];
        } else if (/^\s/.test(line)) {
          // "  ip symbol+off (dso)"
          const parts = line.trim().split(/\s+/);
          stack.push({ sym: parts[1]?.split('+')[0] ?? '?', dso: parts[parts.length - 1] });
        }
      }
      charge(stack);
      resolve({ charges, total, below: belowOurs, w });
    });
    rec.kill('SIGINT');
  });
}

/** Two profileRun results as one (samples added; wrk's figures summed). */
function mergeProfiles(a, b) {
  if (a === null) return b;
  const charges = new Map(a.charges);
  for (const [k, n] of b.charges) charges.set(k, (charges.get(k) ?? 0) + n);
  const requests = a.w.requests + b.w.requests;
  return { charges, total: a.total + b.total, below: a.below + b.below, w: { ...b.w, requests, rps: (a.w.rps + b.w.rps) / 2 } };
}

async function deliveryRun(target, receiver, seconds, extra) {
  const before = await settledCount(receiver);
  const w = wrk(target.port, seconds, extra);
  let received = 0;
  // records still in flight when wrk returns: wait until the count settles
  for (let i = 0, last = -1; i < 40; i++) {
    received = (await receiver.count()) - before;
    if (received === last && received >= w.requests) break;
    last = received;
    await sleep(100);
  }
  return { ...w, received, delivery: received / w.requests };
}

async function main() {
  need('wrk', 'install wrk (scripts/setup.sh does)');
  if (pinned) need('taskset', 'install util-linux (taskset), or pass --no-pin');
  const apache = findApache();
  {
    // make knows which sources changed (any of native/httpd/*.c, *.h); a
    // no-op when the build is current
    const b = spawnSync('make', ['-s', 'build-httpd'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0 || !existsSync(MODULE) || !existsSync(RECEIVER)) process.exit(2);
  }

  const dir = mkdtempSync(join(tmpdir(), 'ja4-bench-httpd-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'docs'));
  chmodSync(join(dir, 'docs'), 0o755);
  writeFileSync(join(dir, 'docs', 'index.html'), `${'<p>small static file</p>\n'.repeat(4)}`);
  if (opt.instructions) {
    try {
      await instructionsMain(apache, dir);
    } finally {
      removeWorkDir(dir);
    }
    return;
  }
  const socket = join(dir, 'http.socket');
  const receiver = await startReceiver(socket, 'seqpacket');
  const servers = [];
  let receiverB = null;
  try {
    servers.push(await startApache(apache, dir, 'none', {}));
    servers.push(await startApache(apache, dir, 'log_config', { logConfig: true }));
    servers.push(await startApache(apache, dir, 'reqin', { reqin: true, socket }));
    const [none, logcfg, reqin] = servers;
    const order = [none, logcfg, reqin];
    if (opt['module-b']) {
      receiverB = await startReceiver(join(dir, 'http-b.socket'), 'seqpacket');
      const b = await startApache(apache, dir, 'reqin_b', { reqin: opt['module-b'], socket: join(dir, 'http-b.socket') });
      b.receiver = receiverB;
      servers.push(b);
      order.push(b);
    }
    if (opt.detail) {
      const nosock = await startApache(apache, dir, 'reqin_nosock', { reqin: true, socket: join(dir, 'absent.socket') });
      servers.push(nosock);
      order.push(nosock);
    }

    const loadBefore = loadavg()[0];
    log(`${nCpus} CPU(s); ${placement}; wrk -t${threads} -c${connections} -d${duration}s, ${runs} interleaved round(s), ${opt.mpm} MPM; load average ${loadBefore.toFixed(2)}`);
    log('warming up...');
    for (const s of servers) wrk(s.port, 2);

    const results = { none: [], log_config: [], reqin: [], reqin_nosock: [], reqin_b: [] };
    let sent = 0;
    let got = 0;
    for (let run = 1; run <= runs; run++) {
      // rotated each round, so that no configuration always runs first
      // (after the idle gap) or last
      const k = (run - 1) % order.length;
      for (const s of [...order.slice(k), ...order.slice(0, k)]) {
        const rcv = s === reqin ? receiver : s.receiver ?? null;
        const recvPids = rcv ? [rcv.proc.pid] : [];
        const cpu0 = groupCpu(s.proc.pid);
        const recv0 = groupCpu(-1, recvPids); // the receiver alone
        const cs0 = groupSwitches(s.proc.pid);
        const d = rcv ? await deliveryRun(s, rcv, duration, []) : wrk(s.port, duration);
        d.apacheUs = ((groupCpu(s.proc.pid) - cpu0) * 1e6) / d.requests;
        d.recvUs = rcv ? ((groupCpu(-1, recvPids) - recv0) * 1e6) / d.requests : 0;
        d.switches = (groupSwitches(s.proc.pid) - cs0) / d.requests;
        // what the server's CPU pays per request: Apache's, plus its
        // receiver's when that shares the server's CPUs
        d.cpuUs = d.apacheUs + (receiverOnServer ? d.recvUs : 0);
        results[s.name].push(d);
        if (s === reqin) {
          sent += d.requests;
          got += d.received;
        }
        log(`run ${run} ${s.name.padEnd(12)} ${fmt(d.rps).padStart(8)} req/s  p99 ${d.p99.toFixed(2).padStart(6)} ms  Apache cpu ${d.apacheUs.toFixed(1)} us/req, ${d.switches.toFixed(2)} context switches/req${rcv ? `  receiver ${d.recvUs.toFixed(2)} us/record  delivered ${fmt(d.received)}/${fmt(d.requests)}` : ''}${d.errors ? `  errors: ${d.errors}` : ''}`);
      }
    }

    if (pinned) {
      // the paced check may need more than one CPU: every process on all
      const all = `0-${nCpus - 1}`;
      for (const s of servers) repin(s.proc.pid, s.receiver ? [s.receiver.proc.pid] : [], all);
      repin(-1, [receiver.proc.pid], all);
      wrkCpus = null;
    }
    let profile = null;
    let profileB = null;
    if (opt.profile) {
      need('perf', 'install perf (linux-perf), or leave out --profile');
      // with --module-b, B is profiled too, the two alternated twice, so
      // that the A/B of the module's share comes from the same minutes
      const reqinB = servers.find((s) => s.name === 'reqin_b');
      // at least 10 s of samples per build (~30k at 2999 Hz): 3 s gave
      // ~7k, a sampling error alone of +-0.2 points on a ~3% share
      const rounds = reqinB ? 2 : 1;
      const seconds = Math.max(duration, 10 / rounds);
      for (let i = 0; i < rounds; i++) {
        log(`profiling reqin (perf record, ${seconds} s)${reqinB ? `, round ${i + 1} of 2` : ''}...`);
        profile = mergeProfiles(profile, await profileRun(reqin, receiver, seconds));
        if (reqinB) {
          log(`profiling reqin_b (perf record, ${seconds} s), round ${i + 1} of 2...`);
          profileB = mergeProfiles(profileB, await profileRun(reqinB, receiverB, seconds));
        }
      }
    }
    log(`paced delivery check at about ${fmt(rate)} req/s (calibrating the pace)...`);
    const pace = pacedArgs(dir, reqin.port, rate);
    const paced = await deliveryRun(reqin, receiver, duration, pace.args);
    log(`paced (${pace.conns} connections, ${PACE_DELAY_MS} ms between requests on each): ${fmt(paced.rps)} req/s, delivered ${fmt(paced.received)}/${fmt(paced.requests)}`);

    let dgram = null;
    if (opt.dgram) {
      const dsock = join(dir, 'http-dgram.socket');
      const drecv = await startReceiver(dsock, 'dgram');
      const dd = await startApache(apache, dir, 'reqin_dgram', { reqin: true, socket: `${dsock} dgram` });
      servers.push(dd);
      wrk(dd.port, 2);
      const full = await deliveryRun(dd, drecv, duration, []);
      const pacedD = await deliveryRun(dd, drecv, duration, pacedArgs(dir, dd.port, rate).args);
      dgram = { full, paced: pacedD };
      await drecv.stop();
    }

    await stopApache(reqin);
    await sleep(200);
    const counters = moduleCounters(reqin);
    const receivedTotal = await receiver.count();

    const med = (xs, k) => median(xs.map((x) => x[k]));
    // per-round ratios (round i of each configuration ran back to back)
    const paired = (a, b, k) => a.map((x, i) => x[k] / b[i][k]);
    const spread = (xs) => `${(Math.min(...xs) * 100).toFixed(1)}..${(Math.max(...xs) * 100).toFixed(1)}%`;
    // the middle half of the rounds: quartiles by linear interpolation
    const quantile = (xs, q) => {
      const v = [...xs].sort((a, b) => a - b);
      const i = (v.length - 1) * q;
      const lo = Math.floor(i);
      return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (i - lo);
    };
    const iqr = (xs) => `${(quantile(xs, 0.25) * 100).toFixed(1)}..${(quantile(xs, 0.75) * 100).toFixed(1)}%`;
    // A distribution-free 95% confidence interval for the median of the
    // per-round ratios: the order statistics x(k)..x(n+1-k) of the sign
    // test, k the largest with P(Binomial(n, 1/2) <= k - 1) <= 2.5%. It
    // narrows as rounds are added (the middle half of the rounds, printed
    // beside it, describes one round's noise and never does); null below 6
    // rounds, where no such interval exists.
    const medianCi = (xs) => {
      const v = [...xs].sort((a, b) => a - b);
      const n = v.length;
      let k = 0;
      let cum = 0;
      let c = 1; // C(n, j)
      for (let j = 0; j < n; j++) {
        cum += c * 0.5 ** n;
        if (cum > 0.025) break;
        k = j + 1;
        c = (c * (n - j)) / (j + 1);
      }
      return k === 0 ? null : [v[k - 1], v[n - k]];
    };
    /** PASS/FAIL from the median of per-round ratios; decided when its 95% interval is on one side of the target. */
    const verdict = (what, xs, target) => {
      const m = median(xs);
      const ci = medianCi(xs);
      const decided = ci !== null && (ci[0] >= target || ci[1] < target);
      const ciText = ci === null ? 'no interval: too few rounds' : `95% interval of the median ${(ci[0] * 100).toFixed(1)}..${(ci[1] * 100).toFixed(1)}%`;
      return `TARGET ${what}: ${m >= target ? 'PASS' : 'FAIL'}: median ${(m * 100).toFixed(1)}% of ${runs} paired rounds (target >= ${(target * 100).toFixed(0)}%; ${ciText}; middle half ${iqr(xs)}, min..max ${spread(xs)})${decided ? '' : `: UNDECIDED, the interval of the median straddles ${(target * 100).toFixed(0)}% (too noisy: rerun with more --runs or on a quieter machine)`}`;
    };
    const rpsSpread = (xs) => {
      const v = xs.map((x) => x.rps);
      const m = median(v);
      return `${(((Math.min(...v) / m) - 1) * 100).toFixed(1)}/+${(((Math.max(...v) / m) - 1) * 100).toFixed(1)}%`;
    };
    const ratioReqin = paired(results.reqin, results.none, 'rps');
    const ratioLog = paired(results.reqin, results.log_config, 'rps');
    const cpuRatio = paired(results.reqin, results.none, 'cpuUs');
    const cpuRatioLog = paired(results.reqin, results.log_config, 'cpuUs');
    const rNone = med(results.none, 'rps');
    const rLog = med(results.log_config, 'rps');
    const rReqin = med(results.reqin, 'rps');
    const cNone = med(results.none, 'cpuUs');
    const cLog = med(results.log_config, 'cpuUs');
    const cReqin = med(results.reqin, 'cpuUs');
    const row = (label, xs) => `| ${label} | ${fmt(med(xs, 'rps'))} | ${rpsSpread(xs)} | ${((med(xs, 'rps') / rNone) * 100).toFixed(1)}% | ${med(xs, 'p99').toFixed(2)} ms | ${med(xs, 'cpuUs').toFixed(1)} us | ${((med(xs, 'cpuUs') / cNone) * 100).toFixed(1)}% | ${med(xs, 'switches').toFixed(2)} | ${med(xs, 'recvUs') ? `${med(xs, 'recvUs').toFixed(2)} us` : ''} |`;
    const cpuWhat = receiverOnServer ? 'Apache + its receiver, both on the server CPU' : 'Apache alone; the receiver runs on the client CPU';
    const mRatio = median(ratioReqin);
    const mRatioLog = median(ratioLog);
    const mCpu = median(cpuRatio);
    const mCpuLog = median(cpuRatioLog);
    const delivery = got / sent;
    const lines = [
      `mod_reqin_log benchmark: wrk -t${threads} -c${connections}, ${duration} s x ${runs} interleaved rounds, ${opt.mpm} MPM, ${nCpus} CPU(s), ${placement}; 1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (above ~1 on 2 CPUs other work competes: trust the spread, not one figure)`,
      '',
      `| configuration | requests/s (median) | spread (min/max vs median) | vs none | p99 latency (median) | server CPU per request (median; ${receiverOnServer ? 'Apache + receiver' : 'Apache'}) | vs none | Apache context switches per request | receiver CPU per record (${receiverOnServer ? 'server' : 'client'} CPU) |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      row('none (no request log)', results.none),
      row('mod_log_config, combined to a file', results.log_config),
      row(`mod_reqin_log + live receiver${receiverOnServer ? ' (its CPU included)' : ''}`, results.reqin),
      ...(opt.detail ? [row('mod_reqin_log, no receiver (records built, dropped)', results.reqin_nosock)] : []),
      ...(opt['module-b'] ? [row('mod_reqin_log B (--module-b) + live receiver', results.reqin_b)] : []),
      '',
      verdict(`throughput within 3% of no logging, reqin / none (${receiverOnServer ? 'receiver on the server CPU, --receiver-on-server' : 'receiver on the client CPU'})`, ratioReqin, TARGET_VS_NONE),
      verdict(`no worse than mod_log_config, reqin / log_config (${receiverOnServer ? 'receiver on the server CPU' : 'receiver on the client CPU'})`, ratioLog, 1),
      `(medians of the runs: reqin / none ${((rReqin / rNone) * 100).toFixed(1)}%, reqin / log_config ${((rReqin / rLog) * 100).toFixed(1)}%)`,
      `server CPU per request (${cpuWhat}; from /proc), reqin vs none: ${mCpu >= 1 ? '+' : ''}${((mCpu - 1) * 100).toFixed(1)}% (middle half ${iqr(cpuRatio)}, min..max ${spread(cpuRatio)}; within 3%: ${mCpu <= 1 / TARGET_VS_NONE ? 'yes' : 'no'}); ` +
        `reqin vs log_config: ${mCpuLog >= 1 ? '+' : ''}${((mCpuLog - 1) * 100).toFixed(1)}% (middle half ${iqr(cpuRatioLog)}; ${mCpuLog <= 1 ? 'no more' : 'more'}); medians of the runs: ${cNone.toFixed(1)} / ${cLog.toFixed(1)} / ${cReqin.toFixed(1)} us (none / log_config / reqin)`,
      `receiver (test_receiver -q) CPU per record: ${med(results.reqin, 'recvUs').toFixed(2)} us (median; on the ${receiverOnServer ? "server CPU, included in reqin's CPU per request" : 'client CPU with wrk, not included: the log consumer is a separate service'}), next to Apache's ${med(results.reqin, 'apacheUs').toFixed(1)} us per request`,
      `delivery at full speed (SOCK_SEQPACKET): ${fmt(got)} records received for ${fmt(sent)} requests wrk counted (${pct(Math.min(1, delivery))}; target >= ${pct(TARGET_DELIVERY)}: ${delivery >= TARGET_DELIVERY ? 'met' : 'NOT met'})`,
      `delivery paced at ${fmt(paced.rps)} req/s (asked ${fmt(rate)}): ${fmt(paced.received)} of ${fmt(paced.requests)} (${pct(paced.delivery)}: ${paced.delivery >= TARGET_DELIVERY ? 'met' : 'NOT met'})`,
    ];
    const total = counters.sent + counters.dropped;
    lines.push(`module counters over all reqin runs (incl. warm-up): ${fmt(total)} records, ${fmt(counters.sent)} sent in ${fmt(counters.messages)} messages (${(counters.sent / Math.max(1, counters.messages)).toFixed(1)} records/message), ${fmt(counters.dropped)} dropped; receiver got ${fmt(receivedTotal)} (${pct(receivedTotal / Math.max(1, total))})`);
    if (dgram) {
      lines.push(`SOCK_DGRAM for comparison (net.unix.max_dgram_qlen ${readSysctl('net/unix/max_dgram_qlen')}, receiver never napping): full speed ${fmt(dgram.full.rps)} req/s, ${pct(dgram.full.delivery)} delivered; paced ${fmt(dgram.paced.rps)} req/s, ${pct(dgram.paced.delivery)} delivered`);
    }
    if (opt['module-b']) {
      const ab = paired(results.reqin, results.reqin_b, 'rps');
      const abCpu = paired(results.reqin, results.reqin_b, 'cpuUs');
      lines.push(`A/B: reqin / reqin_b throughput ${(median(ab) * 100).toFixed(1)}% (spread ${spread(ab)}), CPU per request ${(median(abCpu) * 100).toFixed(1)}% (spread ${spread(abCpu)})`);
    }
    if (profile) {
      const { charges, total, w } = profile;
      const moduleSamples = total - (charges.get('Apache') ?? 0);
      const share = moduleSamples / Math.max(1, total);
      lines.push('', `where reqin's Apache spends its CPU (--profile: ${fmt(total)} perf samples over ${fmt(w.requests)} requests at ${fmt(w.rps)} req/s, each charged to the module's outermost function on its stack; ${((profile.below / Math.max(1, total)) * 100).toFixed(2)}% in Apache's filters below the module's connection filters, core and compiled-in mod_logio, charged to Apache):`, '', '| charged to | share of Apache\'s CPU |', '|---|---:|');
      for (const [k, n] of [...charges].sort((x, y) => y[1] - x[1])) lines.push(`| ${k === 'Apache' ? 'Apache (not the module)' : k} | ${((n / total) * 100).toFixed(2)}% |`);
      // binomial standard error of the share: a floor on its uncertainty
      // (samples of one stack are not independent; runs under other load
      // differ by more)
      const sampling = Math.sqrt((share * (1 - share)) / Math.max(1, total));
      lines.push(`the module: ${(share * 100).toFixed(2)}% of Apache's CPU (+-${(sampling * 100).toFixed(2)} points sampling error alone; without it Apache would serve ${((1 / (1 - share)) * 100).toFixed(1)}% of these requests/s with the same CPU: reqin / none ${((1 - share) * 100).toFixed(1)}%, target >= ${(TARGET_VS_NONE * 100).toFixed(0)}%: ${1 - share >= TARGET_VS_NONE ? 'met' : 'NOT met'})`);
      if (profileB) {
        const totalB = Math.max(1, profileB.total);
        const shareB = (profileB.total - (profileB.charges.get('Apache') ?? 0)) / totalB;
        const top = [...profileB.charges].filter(([k]) => k !== 'Apache').sort((x, y) => y[1] - x[1]);
        lines.push(`A/B: the module B (--module-b): ${(shareB * 100).toFixed(2)}% of its Apache's CPU (${fmt(profileB.total)} samples: ${top.map(([k, n]) => `${k} ${((n / totalB) * 100).toFixed(2)}%`).join(', ')}); A / B share ${((share / Math.max(1e-9, shareB)) * 100).toFixed(1)}%`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const s of servers) await stopApache(s);
    await receiver.stop();
    if (receiverB) await receiverB.stop();
    removeWorkDir(dir);
  }
}

/** The work directory goes, unless --keep asked for it. */
function removeWorkDir(dir) {
  if (opt.keep) log(`work directory kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function readSysctl(path) {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
