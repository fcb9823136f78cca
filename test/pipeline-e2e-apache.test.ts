// End to end with real parts: Apache with mod_ssl and mod_reqin_log on
// loopback sends its records to the pipeline's http socket; the pipeline's
// live capture on lo sees the handshakes; Node's https client (keep-alive,
// three requests on one connection) and `openssl s_client` (two requests on
// one connection) talk to it. dumpcap records the same traffic, and the
// offline engine's JA4 for each client port must be what http_logs holds
// for every request of that connection: one row per request, all matched.
// Two plain-HTTP requests on one keep-alive connection get that
// connection's JA4T from the live capture (status no_tls).
import t from 'tap';
import { silentLogger } from '../src/config/index.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { startPipeline } from '../src/pipeline/run-pipeline.js';
import { TABLES } from '../src/storage/index.js';
import { Apache, findApache, modulePath, scratch, sleep } from './httpd/apache.js';
import { openTestStorage } from './helpers/storage-fixture.js';
import { readWithStats } from './helpers/captures.js';
import { startDumpcap } from './helpers/dumpcap.js';

const install = findApache();
const isRoot = process.getuid?.() === 0;

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'test.example', headers: { host: 'test.example', 'accept-language': 'fr-FR' }, agent, rejectUnauthorized: false }, (res) => {
      const localPort = res.socket.localPort ?? 0;
      res.resume();
      res.on('end', () => resolve(localPort));
    });
    req.on('error', reject);
    req.end();
  });
}

function plainGet(agent: HttpAgent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: 'test.example' }, agent }, (res) => {
      const localPort = res.socket.localPort ?? 0;
      res.resume();
      res.on('end', () => resolve(localPort));
    });
    req.on('error', reject);
    req.end();
  });
}

function sClient(port: number, input: string): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'test.example', '-quiet', '-ign_eof'], { stdio: ['pipe', 'ignore', 'ignore'] });
    c.on('exit', (code) => resolve(code));
    c.stdin.end(input);
  });
}

t.test('Apache + mod_ssl + mod_reqin_log, live capture on lo: every request carries its handshake\'s JA4', { skip: !install ? 'Apache not installed' : !existsSync(modulePath) ? 'mod_reqin_log not built (make build-httpd)' : !isRoot ? 'live capture needs root' : false }, async (t) => {
  const storage = await openTestStorage(t);
  const dir = scratch('e2e');
  const socketPath = join(dir, 'http.socket');
  const apache = new Apache(install!, { tls: true, socketPath });
  t.teardown(async () => {
    await apache.stop();
    apache.cleanup();
  });
  await apache.start();
  const port = apache.tlsPort;

  const pcap = join(dir, 'lo.pcapng');
  const dumpcap = await startDumpcap(pcap, [port, apache.port]);
  const pipeline = await startPipeline({
    storage,
    output: { kind: 'clickhouse' },
    correlator: { shards: 1, plainHttpWait: true },
    batcher: { maxDelayMs: 100 },
    httpSocket: { path: socketPath, type: 'seqpacket', mode: 0o666 },
    capture: { kind: 'live', options: { iface: 'lo', bpf: `tcp port ${port} or tcp port ${apache.port}`, flushMs: 20 } },
    log: silentLogger(),
  });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await pipeline.stop();
  });
  await sleep(300); // captures armed

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const nodePorts = [await get(agent, port, '/index.html?n=1'), await get(agent, port, '/small.txt?n=2'), await get(agent, port, '/nope?n=3')];
  agent.destroy();
  t.equal(new Set(nodePorts).size, 1, 'node: three requests on one keep-alive connection');
  t.equal(
    await sClient(port, 'GET /index.html?o=1 HTTP/1.1\r\nHost: test.example\r\nUser-Agent: s_client\r\n\r\nGET /small.txt?o=2 HTTP/1.1\r\nHost: test.example\r\nUser-Agent: s_client\r\nConnection: close\r\n\r\n'),
    0,
    'openssl s_client: two requests on one connection',
  );
  const plainAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const plainPorts = [await plainGet(plainAgent, apache.port, '/index.html?p=1'), await plainGet(plainAgent, apache.port, '/small.txt?p=2')];
  t.equal(new Set(plainPorts).size, 1, 'plain HTTP: two requests on one keep-alive connection');
  await sleep(500); // the last records and events in flight
  await pipeline.correlation.settle();
  // the plain connection is still open: its TCP fingerprints came with its
  // first request (not with its end), and its rows are written already
  const early = await storage.query<{ path: string; ja4t: string }>(`SELECT path, ja4t FROM ${TABLES.httpLogs} WHERE query LIKE 'p=%' ORDER BY ts`);
  t.same(early.map((r) => r.path), ['/index.html', '/small.txt'], 'plain rows written while their connection is open');
  t.ok(early.every((r) => r.ja4t !== ''), 'with their JA4T');
  plainAgent.destroy();
  dumpcap.kill('SIGTERM');
  await new Promise((r) => dumpcap.once('exit', r));

  // the offline engine on dumpcap's capture of the same traffic
  const { records } = await readWithStats(pcap);
  const offline = new Map(records.filter((r) => r.ja4).map((r) => [r.src_port, r.ja4!]));
  t.equal(offline.size, 2, 'two TLS handshakes in the capture');
  const plainFlow = records.find((r) => r.src_port === plainPorts[0]);
  t.match(plainFlow?.ja4t, /^\d+_[\d-]+_\d+_\d+$/, 'the offline engine\'s JA4T of the plain connection');

  const all = await storage.query<{ path: string; query: string; client_port: number; ja4: string; ja4t: string; status: string; n: number; sni: string; tls_version: string }>(
    `SELECT path, query, client_port, ja4, ja4t, correlation_status AS status, sni, tls_version, count() OVER (PARTITION BY request_id) AS n FROM ${TABLES.httpLogs} ORDER BY ts`,
  );
  t.same(all.map((r) => `${r.path}?${r.query}`), ['/index.html?n=1', '/small.txt?n=2', '/nope?n=3', '/index.html?o=1', '/small.txt?o=2', '/index.html?p=1', '/small.txt?p=2'], 'one row per request');
  t.ok(all.every((r) => r.n === 1), 'no request twice');
  const plain = all.slice(5);
  t.same(plain.map((r) => [r.status, r.client_port, r.ja4t, r.ja4]), plain.map(() => ['no_tls', plainPorts[0], plainFlow?.ja4t, '']), 'plain HTTP: the live capture\'s JA4T of its connection, status no_tls');
  const rows = all.slice(0, 5);
  for (const r of rows) {
    t.same([r.status, r.ja4, r.sni], ['matched', offline.get(r.client_port), 'test.example'], `${r.path}?${r.query} on port ${r.client_port}: the offline engine's JA4`);
  }
  t.equal(rows[0]!.client_port, nodePorts[0]);
  t.not(rows[0]!.ja4, rows[3]!.ja4, 'Node and openssl have different JA4s');
  const capture = pipeline.stages.find((s) => s.name === 'capture')!.stats();
  t.ok(capture.events! >= 2 && capture.ps_recv! > 0, `capture counters: ${capture.events} events, ${capture.ps_recv} packets, ${capture.ps_drop} dropped`);
  t.equal(pipeline.stages.find((s) => s.name === 'http_socket')!.stats().datagrams! > 0, true, 'mod_reqin_log reached the http socket');
  await pipeline.stop();
  stopped = true;
  const c = pipeline.correlation.detailedStats().correlator.correlator;
  t.same([c.matched, c.tls_not_seen, c.no_tls], [5, 0, 2]);
});
