// Live capture on loopback with real traffic: a Node TLS server and real
// clients (Node https, openssl s_client, curl, headless Chromium where
// installed), captured at the same time by our live capture and by dumpcap.
// Every handshake must yield one flow event with the JA4/JA4S/JA3/JA3S the
// offline engine computes from dumpcap's pcap of the same traffic, and
// every closed connection a close event. Also: the errors for a missing
// interface, a missing CAP_NET_RAW and a bad filter.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openLiveCapture, CaptureStartError } from '../src/capture/live-capture.js';
import { liveCaptureStage } from '../src/pipeline/input-stages.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { readPcap } from '../src/capture/pcap-reader.js';
import { checkTlsEvent } from '../src/capture/tls-event-schema.js';
import type { CloseEvent, FlowEvent, TlsEvent } from '../src/capture/tls-event.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { startDumpcap } from './helpers/dumpcap.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function makeCert(dir: string): { key: Buffer; cert: Buffer } {
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=live.test', '-addext', 'subjectAltName=DNS:live.test',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

function run(cmd: string, args: string[], input = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    c.on('error', reject);
    c.on('exit', (code) => resolve(code ?? -1));
    c.stdin.end(input);
  });
}

function nodeGet(port: number, servername: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

t.test('every handshake on lo yields the offline engine\'s fingerprints, and closes are reported', async (t) => {
  const dir = scratchDir(t);
  const server: Server = createServer({ ...makeCert(dir), keepAlive: false }, (req, res) => {
    res.setHeader('connection', 'close');
    res.end('<html><body>ok</body></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  const pcapFile = join(dir, 'lo.pcapng');
  const dumpcap = await startDumpcap(pcapFile, port);
  const events: TlsEvent[] = [];
  let batches = 0;
  const live = openLiveCapture({ iface: 'lo', bpf: `tcp port ${port}`, flushMs: 20, sensor: 'lo-test' }, (b) => {
    batches++;
    for (const line of b.data.toString('utf8').split('\n')) if (line) events.push(JSON.parse(line) as TlsEvent);
  });
  await sleep(300); // both captures are armed

  // The clients, one after the other (distinct source ports).
  await nodeGet(port, 'node.live.test');
  await nodeGet(port, 'node2.live.test');
  t.equal(await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'openssl.live.test', '-tls1_2'], 'Q\n'), 0, 'openssl s_client (TLS 1.2)');
  t.equal(await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'openssl13.live.test', '-alpn', 'h2,http/1.1'], 'Q\n'), 0, 'openssl s_client (TLS 1.3, ALPN)');
  t.equal(await run('curl', ['-sk', '-o', '/dev/null', '--resolve', `curl.live.test:${port}:127.0.0.1`, `https://curl.live.test:${port}/`]), 0, 'curl');
  let clients = 5;
  if (CHROMIUM) {
    const code = await run(CHROMIUM, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--no-first-run',
      `--user-data-dir=${join(dir, 'chromium')}`, '--dump-dom', `https://127.0.0.1:${port}/`,
    ]);
    t.equal(code, 0, 'headless chromium');
    clients++;
  }

  // Flows are reported once both hellos are seen; closes once FIN/RST both ways.
  const flowsOf = () => events.filter((e): e is FlowEvent => e.event === 'flow' && e.ja4 !== undefined);
  await until(`${clients} flow events`, () => flowsOf().length >= clients, 10_000);
  await sleep(500);
  dumpcap.kill('SIGINT');
  await new Promise((r) => dumpcap.once('exit', r));
  await live.close();
  const stats = live.stats();

  const offline = (await readPcap(pcapFile)).filter((r) => r.ja4 !== undefined);
  const flows = flowsOf();
  t.equal(offline.length, flows.length, `as many handshakes live (${flows.length}) as in dumpcap's capture`);
  t.ok(flows.length >= clients, `at least one connection per client (${clients})`);
  const sni = new Set(flows.map((f) => f.tls_server_name));
  for (const name of ['node.live.test', 'node2.live.test', 'openssl.live.test', 'openssl13.live.test', 'curl.live.test']) {
    t.ok(sni.has(name), `a flow event for ${name}`);
  }
  for (const off of offline) {
    const f = flows.find((e) => e.src_port === off.src_port);
    t.ok(f, `live flow event for client port ${off.src_port}`);
    if (!f) continue;
    const pick = (r: FlowEvent) => ({
      ja4: r.ja4, ja4_r: r.ja4_r, ja4_o: r.ja4_o, ja4s: r.ja4s, ja3: r.ja3, ja3s: r.ja3s, ja4t: r.ja4t, ja4ts: r.ja4ts,
      tls_server_name: r.tls_server_name, alpn: r.alpn, src: r.src, dst: r.dst, dst_port: r.dst_port,
    });
    t.same(pick(f), pick(off), `port ${off.src_port} (${off.tls_server_name ?? 'no SNI'}): same fingerprints live and offline`);
    // Each packet socket stamps its own copy: a few microseconds apart.
    t.ok(Math.abs(f.first_ts_us - off.first_ts_us) < 50_000, `first packet time within 50 ms (${f.first_ts_us - off.first_ts_us} us)`);
    t.ok(f.ja4s && f.ja3s, 'server side fingerprinted');
  }
  t.ok(flows.some((f) => f.ja4?.startsWith('t12')), 'a TLS 1.2 client');
  t.ok(flows.some((f) => f.ja4?.startsWith('t13')), 'a TLS 1.3 client');
  t.ok(flows.every((f) => f.sensor === 'lo-test'), 'sensor name on flow events');

  const closes = events.filter((e): e is CloseEvent => e.event === 'close');
  for (const f of flows) {
    const c = closes.filter((e) => e.src_port === f.src_port && e.stream === f.stream);
    t.equal(c.length, 1, `one close event for port ${f.src_port}`);
    if (c[0]) {
      t.ok(['fin', 'rst'].includes(c[0].reason), `closed by ${c[0].reason}`);
      t.ok(events.indexOf(c[0]) > events.indexOf(f), 'close after flow');
    }
  }
  t.same(events.flatMap((e) => checkTlsEvent(e)), [], 'every event matches the schema');
  t.ok(batches >= 1);
  t.ok(stats.pcap.ps_recv > 0, `pcap_stats: ${stats.pcap.ps_recv} received`);
  t.equal(stats.pcap.ps_drop, 0, 'no kernel drops');
  t.equal(stats.engine.tls_client_hellos, flows.length, 'engine counters: one ClientHello per flow');
  t.ok(stats.finished, 'thread finished');
  t.ok(statSync(pcapFile).size > 0);
});

t.test('a missing interface, a missing CAP_NET_RAW and a bad filter give clear errors', async (t) => {
  t.throws(() => openLiveCapture({ iface: 'nosuch0' }, () => {}), {
    code: 'ENODEV',
    message: /^interface nosuch0 does not exist/,
  });
  t.throws(() => openLiveCapture({ iface: 'lo', bpf: 'tcp port' }, () => {}), { code: 'EBPF', message: /^bpf filter "tcp port": / });
  t.throws(() => openLiveCapture({ iface: '' }, () => {}), { code: 'EOPTION', message: 'options.iface must be an interface name, got ""' });
  t.throws(() => openLiveCapture({ iface: 'lo', snaplen: 10 }, () => {}), { code: 'EOPTION', message: /options\.snaplen must be an integer between 64/ });
  t.throws(() => openLiveCapture({ iface: 'lo', maxFlows: 0 }, () => {}), { code: 'EOPTION', message: /options\.maxFlows/ });
  t.throws(() => openLiveCapture({ iface: 'lo', sensor: 'a b' }, () => {}), { code: 'EOPTION', message: /options\.sensor/ });
  // libpcap takes an int of bytes: 2048 MiB overflowed into its 2 MiB default
  t.throws(() => openLiveCapture({ iface: 'lo', bufferMb: 2048 }, () => {}), { code: 'EOPTION', message: /options\.bufferMb must be an integer between 1 and 2047/ });
  t.ok(new CaptureStartError('X', 'y') instanceof Error);
  // Without CAP_NET_RAW (dropped from the bounding set, so even root loses it).
  const script = `import('${join(repoRoot, 'src/capture/live-capture.ts').replace(/\\/g, '/')}').then((m) => {
    try { m.openLiveCapture({ iface: 'lo' }, () => {}); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }
  })`;
  const r = spawnSync('setpriv', ['--bounding-set=-net_raw', process.execPath, ...process.execArgv, '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    t.pass(`setpriv unavailable, not checked: ${r.error.message}`);
  } else {
    t.match(r.stdout, /^EPERM capturing on interface lo needs the CAP_NET_RAW capability/, 'names the interface and the capability');
  }
});

t.test('close() gives back the capture socket, its ring and the eventfd at once (not at garbage collection)', async (t) => {
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 5; i++) {
    const live = openLiveCapture({ iface: 'lo', bufferMb: 8 }, () => {});
    t.equal(fds(), before + 2, 'open: the packet socket and the eventfd');
    await live.close();
    t.equal(fds(), before, `closed ${i + 1}: both gone`);
  }
});

t.test('an interface that disappears ends the capture with the reason, no busy loop', async (t) => {
  const name = `ja4gone${process.pid % 1000}`;
  const add = spawnSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  if (add.status !== 0) {
    t.pass(`cannot create a veth here, not checked: ${add.stderr.toString().trim()}`);
    return;
  }
  t.teardown(() => void spawnSync('ip', ['link', 'del', name]));
  spawnSync('ip', ['link', 'set', name, 'up']);
  let end = false;
  const live = openLiveCapture({ iface: name }, (b) => (end ||= b.end));
  await sleep(200);
  const t0 = Date.now();
  spawnSync('ip', ['link', 'del', name]);
  await live.finished;
  t.ok(Date.now() - t0 < 3000, 'ended promptly');
  t.ok(end, 'the last batch says end');
  t.same(live.stats().error, { code: 'EREAD', message: `interface ${name}: The interface disappeared` });
  await live.close();

  // ja4 run's capture stage: said in the log and by /healthz, not only in
  // counters that stop moving (every request would go without its TLS half)
  spawnSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
  spawnSync('ip', ['link', 'set', name, 'up']);
  const m = memoryLogger();
  const stage = liveCaptureStage({ iface: name }, () => {}, m.log);
  await stage.start();
  t.equal(stage.unhealthy!(), undefined, 'healthy while capturing');
  spawnSync('ip', ['link', 'del', name]);
  const until = Date.now() + 3000;
  while (stage.unhealthy!() === undefined && Date.now() < until) await sleep(20);
  t.equal(stage.unhealthy!(), `the live capture on ${name} ended: EREAD interface ${name}: The interface disappeared`);
  t.match(m.records().find((r) => r.level === 'error'), { msg: /the live capture on .* ended: EREAD .*; requests are written without their TLS fingerprints until ja4 run restarts/, iface: name, code: 'EREAD' });
  await stage.stop();
});
