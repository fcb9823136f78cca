// /metrics of every long-running service, started for real on scratch
// directories, a scratch embedded database and free ports: ja4 run (sockets,
// correlator, writer, detector, dashboard), ja4 detector run, ja4 dashboard,
// and ja4 capture on lo (root). Each scrape is read by a strict parser; the
// names and values are checked exactly where the traffic sent fixes them.
// Then: every metric the Grafana dashboard queries is in src/metrics/names.ts
// AND exported by one of these services, and every catalogue name is
// exported by one of them.
import t, { type Test } from 'tap';
import { createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { main } from '../src/cli/main.js';
import { runDashboardCommand } from '../src/cli/dashboard-command.js';
import { openDatagramSender } from '../src/ingest/datagram-sender.js';
import { METRIC_NAMES } from '../src/metrics/index.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { closeEvent, flowEvent, httpRecord, lines } from './helpers/correlator-records.js';

const S = 1_000_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text: family types by name, samples in order; throws on a line that is not the format. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.trimEnd().split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line))) types.set(m[1]!, m[2]!);
    else if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line))) {
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
      const value = m[3] === '+Inf' ? Infinity : Number(m[3]);
      if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in ${line}`);
      samples.push({ name: m[1]!, labels, value });
    } else throw new Error(`not the exposition format: ${JSON.stringify(line)}`);
  }
  return { types, samples };
}

class Scrape {
  constructor(
    readonly types: Map<string, string>,
    private readonly samples: Sample[],
  ) {}
  /** the value of one series (exact labels), undefined when absent */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const want = JSON.stringify(Object.entries(labels).sort());
    return this.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
  }
  labelsOf(name: string): Record<string, string>[] {
    return this.samples.filter((s) => s.name === name).map((s) => s.labels);
  }
}

async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const { types, samples } = parse(await res.text());
  return new Scrape(types, samples);
}

/** Scrapes until `ready` holds (the services count asynchronously; a loaded machine is slow), at most 90 s. */
async function scrapeUntil(port: number, ready: (s: Scrape) => boolean): Promise<Scrape> {
  let s = await scrape(port);
  for (const end = Date.now() + 90_000; !ready(s) && Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 100));
    s = await scrape(port);
  }
  return s;
}

function io() {
  let err = '';
  let out = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }, err: () => err, out: () => out };
}

async function waitFor(what: () => string, re: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 1200; i++) {
    const m = re.exec(what());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never logged ${re}: ${what()}`);
}

/** metric family names seen per service, for the Grafana check at the end */
const exported = new Map<string, Set<string>>();
const PROCESS = ['ja4_build_info', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_used_bytes', 'nodejs_eventloop_delay_p99_seconds'];

function checkProcess(t: Test, s: Scrape, service: string): void {
  t.same(s.labelsOf('ja4_build_info'), [{ service, version: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version, node: process.version }], `${service}: ja4_build_info`);
  for (const m of PROCESS) t.equal(s.types.get(m), METRIC_NAMES.find((n) => n.name === m)!.type, `${service}: ${m}`);
  t.ok(s.value('process_resident_memory_bytes')! > 1e6 && s.value('process_open_fds')! > 2, `${service}: process values measured`);
  exported.set(service, new Set(s.types.keys()));
}

// four services, each opening the embedded engine: ~20 s on a quiet machine,
// several times that when the machine is shared (the default limit is 120 s)
t.setTimeout(300_000);
const dir = scratchDir(t);
const db = join(dir, 'db');

t.test('ja4 run: sockets, correlator, writer, detector and dashboard on one /metrics, and /healthz', async (t) => {
  const c = io();
  const running = main(
    ['run', '--db-dir', db, '--http-socket', join(dir, 'http.socket'), '--network-socket', join(dir, 'net.socket'), '--no-simulate', '--no-reference-load',
      '--tls-wait-ms', '200', '--correlator-threads', '0', '--raw-tables', '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--spool-dir', join(dir, 'spool')],
    c.io,
  );
  const port = Number((await waitFor(c.err, /"msg":"up".*"metrics_port":(\d+)/))[1]);
  const url = (await waitFor(c.err, /"msg":"dashboard up","url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]!;
  const sensor = openDatagramSender({ path: join(dir, 'net.socket'), type: 'dgram' });
  const apache = openDatagramSender({ path: join(dir, 'http.socket'), type: 'seqpacket' });
  const now = Date.now() * 1000 - 60 * S;
  t.ok(sensor.send(Buffer.from(JSON.stringify(flowEvent({ first: now, port: 50001 })))));
  t.ok(sensor.send(Buffer.from('this is not json')));
  await new Promise((r) => setTimeout(r, 100));
  t.ok(apache.send(lines(
    httpRecord({ ts: now + 1000, port: 50001, conn: 'k1', n: 1, uri: '/a' }),
    httpRecord({ ts: now + 3000, port: 50002, conn: 'k2', n: 1, uri: '/orphan' }),
    httpRecord({ ts: now + 4000, port: 8080, conn: 'k3', n: 1, uri: '/plain', scheme: 'http' }),
  )));
  t.ok(sensor.send(Buffer.from(JSON.stringify(closeEvent({ first: now, port: 50001 })))));
  sensor.close();
  apache.close();
  t.equal((await fetch(`${url}/api/status`)).status, 200);
  const wrong = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: 'admin', password: 'not-it-at-all' }) });
  t.equal(wrong.status, 401);

  // 3 requests written (matched, tls_not_seen after 200 ms, no_tls) and acknowledged
  const s = await scrapeUntil(port, (x) => (x.value('ja4_writer_rows_total') ?? 0) >= 7 && (x.value('ja4_detector_runs_total', { result: 'ok' }) ?? 0) >= 1);
  t.equal(s.value('ja4_receiver_datagrams_total', { socket: 'http' }), 1, 'one seqpacket message of 3 records');
  t.equal(s.value('ja4_receiver_datagrams_total', { socket: 'network' }), 3);
  t.equal(s.value('ja4_receiver_dropped_total', { socket: 'http', reason: 'oversized' }), 0);
  t.equal(s.value('ja4_correlator_received_total', { kind: 'http' }), 3);
  t.equal(s.value('ja4_correlator_received_total', { kind: 'flow' }), 1);
  t.equal(s.value('ja4_correlator_received_total', { kind: 'close' }), 1);
  t.equal(s.value('ja4_correlator_requests_total', { status: 'matched' }), 1);
  t.equal(s.value('ja4_correlator_requests_total', { status: 'tls_not_seen' }), 1);
  t.equal(s.value('ja4_correlator_requests_total', { status: 'no_tls' }), 1);
  t.equal(s.value('ja4_correlator_invalid_lines_total', { input: 'tls', reason: 'not_json' }), 1, 'the garbage datagram, counted by reason');
  t.equal(s.value('ja4_correlator_invalid_lines_total', { input: 'http', reason: 'not_json' }), 0);
  t.equal(s.value('ja4_correlator_slow_lines_total', { input: 'tls' }), 1, 'the garbage datagram, left to the JavaScript reader by the native parser');
  t.equal(s.value('ja4_correlator_slow_lines_total', { input: 'http' }), 0, "mod_reqin_log's records: all on the native path");
  t.equal(s.value('ja4_correlator_pending_requests'), 0);
  t.equal(s.value('ja4_writer_rows_total'), 7, 'http_logs 3 + the raw tables: 3 HTTP records and 1 TLS event');
  t.equal(s.value('ja4_writer_pending_rows'), 0, 'all acknowledged');
  t.ok(s.value('ja4_writer_inserts_total')! >= 1 && s.value('ja4_writer_insert_seconds_total')! > 0, 'inserts timed');
  t.equal(s.value('ja4_writer_errors_total'), 0);
  t.equal(s.value('ja4_writer_spooling'), 0);
  t.equal(s.value('ja4_spool_bytes'), 0);
  t.equal(s.value('ja4_spool_dropped_batches_total'), 0);
  t.equal(s.value('ja4_spool_write_errors_total'), 0);
  t.same(s.labelsOf('ja4_detector_model_info').length, 1, 'the model in use');
  t.ok(s.value('ja4_detector_last_run_seconds')! > 0, 'last pass duration');
  t.ok(Math.abs(s.value('ja4_detector_last_run_timestamp_seconds')! - Date.now() / 1000) < 120);
  t.equal(s.value('ja4_dashboard_http_requests_total', { route: '/api/status', code: '200' }), 1);
  t.equal(s.value('ja4_dashboard_http_requests_total', { route: '/api/auth/login', code: '401' }), 1);
  t.equal(s.value('ja4_dashboard_logins_total', { result: 'failed' }), 1);
  t.equal(s.value('ja4_dashboard_logins_total', { result: 'ok' }), 0);
  t.equal(s.value('ja4_dashboard_http_request_seconds_count', { route: '/api/status' }), 1);
  t.equal(s.value('ja4_dashboard_ws_clients'), 0);
  t.equal(s.types.get('ja4_capture_packets_total'), undefined, 'no capture: no capture metrics');
  checkProcess(t, s, 'ja4-run');
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.same([health.status, await health.text()], [200, 'ok\n']);

  process.emit('SIGTERM');
  t.equal(await running, 0);
  await t.rejects(fetch(`http://127.0.0.1:${port}/metrics`), 'closed with the service');
});

t.test('ja4 detector run', async (t) => {
  const c = io();
  const running = main(['detector', 'run', '--db-dir', db, '--models', join(repoRoot, 'models'), '--interval', '3600', '--metrics-listen', '127.0.0.1:0'], c.io);
  const port = Number((await waitFor(c.err, /"metrics_port":(\d+)/))[1]);
  const s = await scrapeUntil(port, (x) => (x.value('ja4_detector_runs_total', { result: 'ok' }) ?? 0) >= 1);
  t.equal(s.value('ja4_detector_runs_total', { result: 'ok' }), 1, 'the first pass at start');
  t.equal(s.value('ja4_detector_runs_total', { result: 'error' }), 0);
  t.ok(s.value('ja4_detector_last_run_seconds')! > 0);
  const current = readFileSync(join(repoRoot, 'models', 'current'), 'utf8').trim();
  t.same(s.labelsOf('ja4_detector_model_info'), [{ version: current }]);
  for (const m of ['ja4_detector_scored_rows_total', 'ja4_detector_detections_total', 'ja4_detector_campaigns_total']) t.equal(s.types.get(m), 'counter', m);
  t.equal(s.types.get('ja4_correlator_requests_total'), undefined, 'only the detector\'s own');
  checkProcess(t, s, 'ja4-detector');
  process.emit('SIGTERM');
  t.equal(await running, 0);
});

t.test('ja4 dashboard', async (t) => {
  const c = io();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const running = runDashboardCommand(['--db-dir', db, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0'], c.io, stopped);
  const m = await waitFor(c.err, /"msg":"listening",.*"port":(\d+),.*"metrics_port":(\d+)/);
  const [web, port] = [Number(m[1]), Number(m[2])];
  for (let i = 0; i < 2; i++) t.equal((await fetch(`http://127.0.0.1:${web}/api/status`)).status, 200);
  t.equal((await fetch(`http://127.0.0.1:${web}/api/no-such-route`)).status, 404);
  t.equal((await fetch(`http://127.0.0.1:${web}/api/overview`)).status, 401);
  const s = await scrape(port);
  t.equal(s.value('ja4_dashboard_http_requests_total', { route: '/api/status', code: '200' }), 2);
  t.equal(s.value('ja4_dashboard_http_requests_total', { route: 'unmatched', code: '404' }), 1, 'an unknown path is one series, not one per path');
  t.equal(s.value('ja4_dashboard_http_requests_total', { route: '/api/overview', code: '401' }), 1);
  t.equal(s.value('ja4_dashboard_http_request_seconds_count', { route: '/api/status' }), 2);
  t.equal(s.value('ja4_dashboard_ws_clients'), 0);
  t.equal(s.value('ja4_dashboard_ws_dropped_clients_total'), 0);
  t.equal(s.types.get('ja4_detector_runs_total'), undefined);
  checkProcess(t, s, 'ja4-dashboard');
  stop();
  t.equal(await running, 0);
});

t.test('ja4 capture on lo', { skip: process.getuid?.() !== 0 ? 'live capture needs root (CAP_NET_RAW)' : false }, async (t) => {
  const server = createServer((_q, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const httpPort = (server.address() as AddressInfo).port;
  const c = io();
  const running = main(['capture', '--iface', 'lo', '--bpf', `tcp port ${httpPort}`, '--output', `jsonl:${join(dir, 'events.jsonl')}`, '--stats-interval', '0', '--metrics-listen', '127.0.0.1:0'], c.io);
  const port = Number((await waitFor(c.err, /"metrics_port":(\d+)/))[1]);
  await new Promise((r) => setTimeout(r, 300)); // the capture thread is up
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpPort, path: `/p${i}`, agent: false }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
  }
  const s = await scrapeUntil(port, (x) => (x.value('ja4_capture_events_total', { event: 'flow' }) ?? 0) >= 3);
  t.equal(s.value('ja4_capture_events_total', { event: 'flow' }), 3, 'one HTTP connection, one event each');
  t.ok(s.value('ja4_capture_packets_total', { iface: 'lo' })! >= 3 * 6, 'packets seen by libpcap');
  t.equal(s.value('ja4_capture_dropped_packets_total', { iface: 'lo', where: 'buffer' }), 0);
  t.equal(s.value('ja4_capture_dropped_packets_total', { iface: 'lo', where: 'interface' }), 0);
  t.same(s.labelsOf('ja4_capture_evictions_total').map((l) => l.reason).sort(), ['flows_evicted_capacity', 'flows_evicted_idle', 'handshake_overflow', 'tcp_buffer_overflow']);
  t.equal(s.value('ja4_capture_evictions_total', { reason: 'flows_evicted_capacity' }), 0);
  t.equal(s.value('ja4_capture_output_dropped_events_total'), 0);
  t.equal(s.types.get('ja4_capture_flows'), 'gauge');
  checkProcess(t, s, 'ja4-capture');
  process.emit('SIGTERM');
  t.equal(await running, 0);
});

t.test('Grafana queries only catalogued names that a service exports; every catalogued name is exported', async (t) => {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, 'packaging/grafana/ja4-platform.json'), 'utf8'));
  const exprs: string[] = [];
  const walk = (panels: { targets?: { expr: string }[]; panels?: unknown[] }[]): void => {
    for (const p of panels) {
      for (const target of p.targets ?? []) exprs.push(target.expr);
      walk((p.panels ?? []) as typeof panels);
    }
  };
  walk(dashboard.panels);
  t.ok(exprs.length > 30, 'the panels were read');
  const labelNames = new Set(METRIC_NAMES.flatMap((m) => m.labels));
  const promql = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'max', 'time', 'le', 'job', 'instance']);
  const all = new Set([...exported.values()].flatMap((s) => [...s]));
  const catalogue = new Set(METRIC_NAMES.map((m) => m.name));
  const used = new Set<string>();
  for (const e of exprs) {
    const words = e.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
    for (const w of words) {
      if (promql.has(w) || labelNames.has(w)) continue;
      const base = w.replace(/_(bucket|sum|count)$/, '');
      const name = catalogue.has(w) ? w : base;
      used.add(name);
      t.ok(catalogue.has(name), `${w} (in ${e}) is in src/metrics/names.ts`);
      if (exported.size === 4 || !name.startsWith('ja4_capture_')) t.ok(all.has(name), `${w} (in ${e}) is exported by a service`);
    }
  }
  const notExported = [...catalogue].filter((n) => !all.has(n) && (exported.size === 4 || !n.startsWith('ja4_capture_')));
  t.same(notExported, [], 'every catalogue name is exported by some service');
  t.same([...catalogue].filter((n) => !used.has(n)), [], 'every catalogue name has a panel');
});
