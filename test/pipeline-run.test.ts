// The assembled pipeline with real parts: the native receivers on UNIX
// sockets in a scratch dir (SOCK_SEQPACKET as mod_reqin_log sends, SOCK_DGRAM
// as a sensor sends), the correlator worker thread, the writer, the real
// embedded engine with the real migrations; then `ja4 run` itself (options,
// help, a run stopped by SIGTERM that leaves its rows in the tables).
import t from 'tap';
import { join } from 'node:path';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { ensureFirstAdmin } from '../src/pipeline/first-admin.js';
import { openDatagramSender } from '../src/ingest/datagram-sender.js';
import { startPipeline } from '../src/pipeline/run-pipeline.js';
import { main } from '../src/cli/main.js';
import { openStorage, validateStorageOptions, TABLES } from '../src/storage/index.js';
import { openTestStorage } from './helpers/storage-fixture.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { CLIENT_IP, JA4_A, closeEvent, flowEvent, httpRecord, lines } from './helpers/correlator-records.js';
import { memoryLogger } from './helpers/memory-logger.js';

const S = 1_000_000;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

/** stderr as log records: every line must be JSON (JSON.parse throws otherwise). */
function records(err: string[]): Record<string, unknown>[] {
  return err.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('datagrams in, rows out: sockets -> correlator worker -> http_logs, raw tables, /healthz, /metrics', async (t) => {
  const storage = await openTestStorage(t);
  const dir = scratchDir(t);
  const mem = memoryLogger('ja4-run');
  const pipeline = await startPipeline({
    storage,
    output: { kind: 'clickhouse' },
    spool: { dir: join(dir, 'spool'), maxBytes: 1 << 20, mode: 'fallback' },
    correlator: { shards: 1, tlsWaitMs: 300 },
    batcher: { maxDelayMs: 50 },
    httpSocket: { path: join(dir, 'http.socket'), type: 'seqpacket' },
    networkSocket: { path: join(dir, 'network.socket'), type: 'dgram' },
    metricsListen: { host: '127.0.0.1', port: 0 },
    progressIntervalMs: 100,
    log: mem.log,
  });
  t.teardown(() => pipeline.stop());
  const now = Date.now() * 1000 - 60 * S;
  const sensor = openDatagramSender({ path: join(dir, 'network.socket'), type: 'dgram' });
  const apache = openDatagramSender({ path: join(dir, 'http.socket'), type: 'seqpacket' });
  t.teardown(() => {
    sensor.close();
    apache.close();
  });
  // one TLS event per datagram, as a sensor sends them
  t.ok(sensor.send(Buffer.from(JSON.stringify(flowEvent({ first: now, port: 50001 })))));
  t.ok(sensor.send(Buffer.from('this is not json')));
  await new Promise((r) => setTimeout(r, 100));
  // mod_reqin_log batches several records per message
  t.ok(apache.send(lines(
    httpRecord({ ts: now + 1000, port: 50001, conn: 'k1', n: 1, uri: '/a' }),
    httpRecord({ ts: now + 2000, port: 50001, conn: 'k1', n: 2, uri: '/b' }),
    httpRecord({ ts: now + 3000, port: 50002, conn: 'k2', n: 1, uri: '/orphan' }),
    httpRecord({ ts: now + 4000, port: 8080, conn: 'k3', n: 1, uri: '/plain', scheme: 'http' }),
  )));
  t.ok(sensor.send(Buffer.from(JSON.stringify(closeEvent({ first: now, port: 50001 })))));
  // every record in, and the orphan's 300 ms wait over (the machine may be slow: poll)
  for (let i = 0; i < 400; i++) {
    const c = pipeline.correlation.detailedStats().correlator.correlator;
    if (c.http_records === 4 && c.pending === 0 && c.close_events === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await pipeline.correlation.settle();

  const rows = await storage.query<Record<string, unknown>>(
    `SELECT path AS uri, conn_id, request_seq, correlation_status AS status, ja4, ja4h, toString(client_ip) AS ip, asn, http_major FROM ${TABLES.httpLogs} ORDER BY ts`,
  );
  t.same(rows, [
    { uri: '/a', conn_id: 'k1', request_seq: 1, status: 'matched', ja4: JA4_A, ja4h: 'ge11cn04enus_8ddaef5d77af_1777f707f29d_1777f707f29d', ip: `::ffff:${CLIENT_IP}`, asn: 64500, http_major: 2 },
    { uri: '/b', conn_id: 'k1', request_seq: 2, status: 'matched', ja4: JA4_A, ja4h: 'ge11cn04enus_8ddaef5d77af_1777f707f29d_1777f707f29d', ip: `::ffff:${CLIENT_IP}`, asn: 64500, http_major: 2 },
    { uri: '/orphan', conn_id: 'k2', request_seq: 1, status: 'tls_not_seen', ja4: '', ja4h: 'ge11cn04enus_8ddaef5d77af_1777f707f29d_1777f707f29d', ip: `::ffff:${CLIENT_IP}`, asn: 64500, http_major: 1 },
    { uri: '/plain', conn_id: 'k3', request_seq: 1, status: 'no_tls', ja4: '', ja4h: 'ge11cn04enus_8ddaef5d77af_1777f707f29d_1777f707f29d', ip: `::ffff:${CLIENT_IP}`, asn: 64500, http_major: 1 },
  ].map((r) => ({ ...r, asn: 0 })), 'one row per request, statuses and fingerprints (no reference data loaded: asn 0)');
  const [raw] = await storage.query<{ req: number; tls: number }>(
    `SELECT (SELECT count() FROM ${TABLES.httpRequests}) AS req, (SELECT count() FROM ${TABLES.tlsEvents}) AS tls`,
  );
  t.same(raw, { req: 4, tls: 1 }, 'the raw halves as received');
  const st = pipeline.correlation.detailedStats();
  t.same([st.correlator.drops.tls.not_json, st.correlator.correlator.close_events, st.ingest.http_batches], [1, 1, 1]);

  const health = await fetch(`http://127.0.0.1:${pipeline.metricsPort}/healthz`);
  t.same([health.status, await health.text()], [200, 'ok\n']);
  const metrics = await (await fetch(`http://127.0.0.1:${pipeline.metricsPort}/metrics`)).text();
  // the names of src/metrics/names.ts (test/metrics-services.test.ts checks them all)
  t.match(metrics, /^ja4_correlator_requests_total\{status="matched"\} 2$/m);
  t.match(metrics, /^ja4_correlator_requests_total\{status="tls_not_seen"\} 1$/m);
  t.match(metrics, /^ja4_correlator_invalid_lines_total\{input="tls",reason="not_json"\} 1$/m);
  t.match(metrics, /^# TYPE ja4_spool_batches gauge$/m);
  t.match(metrics, /^ja4_receiver_datagrams_total\{socket="http"\} 1$/m);
  t.match(metrics, /^ja4_receiver_datagrams_total\{socket="network"\} 3$/m);
  // progress at info with its counters as fields; the bad datagram as a warning per input and reason
  for (let i = 0; i < 40 && !mem.records().some((r) => r.msg === 'input dropped'); i++) await new Promise((r) => setTimeout(r, 50));
  const logged = mem.records();
  t.match(logged.find((r) => r.msg === 'progress'), { level: 'info', service: 'ja4-run', http_per_s: Number, rows_per_s: Number, matched_pct: Number, writer: 'direct', spool_segments: 0 });
  t.same(logged.filter((r) => r.msg === 'input dropped').map(({ ts: _ts, ...r }) => r), [{ level: 'warn', service: 'ja4-run', msg: 'input dropped', tls_dropped_not_json: 1 }]);
  t.match([...logged].reverse().find((r) => r.msg === 'progress'), { dropped_not_json: 1, dropped_oversized: 0 });
});

t.test('ja4 run: options are validated with messages naming them', async (t) => {
  for (const [args, message] of [
    [['--tls-wait-ms', 'x'], '--tls-wait-ms must be a non-negative integer, got "x"'],
    [['--output', 'kafka'], '--output must be clickhouse, jsonl:FILE or stdout, got "kafka"'],
    [['--http-socket', 'relative.sock'], '--http-socket must be an absolute path or "none", got "relative.sock"'],
    [['--socket-mode', '999'], '--socket-mode must be octal permission bits such as 0660, got "999"'],
    [['--correlator-threads', '65'], '--correlator-threads must be a non-negative integer up to 64, got "65"'],
    [['--metrics-listen', 'nope'], '--metrics-listen must be HOST:PORT (e.g. 127.0.0.1:9470), got "nope"'],
    [['--http-socket-type', 'stream'], '--http-socket-type must be seqpacket or dgram, got "stream"'],
    // past 2^31-1 ms Node's timers fire at once: a 25-day run stopped immediately
    [['--duration', '2147484'], '--duration must be a positive integer up to 2147483, got "2147484"'],
    [['--progress-interval', '9999999'], '--progress-interval must be a positive integer up to 2147483, got "9999999"'],
    [['--network-socket', `/${'d'.repeat(110)}`], `--network-socket must be at most 107 bytes (a UNIX socket address), got 111: "/${'d'.repeat(110)}"`],
  ] as const) {
    const c = io();
    t.equal(await main(['run', ...args], c.io), 2, args.join(' '));
    t.equal(c.err.join('').trim(), message);
  }
  const h = io();
  t.equal(await main(['run', '--help'], h.io), 0);
  t.match(h.out.join(''), /--spool-max-mb N/);
});

t.test('ja4 run end to end in-process: up, fed through its socket, SIGTERM flushes, rows stay', async (t) => {
  const dir = scratchDir(t);
  // a world-readable file left from an earlier install: it must end up 0600 too
  writeFileSync(join(dir, 'initial-admin-password'), 'stale\n', { mode: 0o644 });
  const c = io();
  const running = main(
    ['run', '--db-dir', join(dir, 'db'), '--http-socket', join(dir, 'http.socket'), '--network-socket', join(dir, 'net.socket'), '--no-simulate', '--no-reference-load', '--tls-wait-ms', '100000', '--correlator-threads', '1', '--listen', '127.0.0.1:0'],
    c.io,
  );
  // wait until it is up, dashboard included
  for (let i = 0; i < 1200 && !c.err.join('').includes('"msg":"dashboard up"'); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(records(c.err).find((r) => r.msg === 'up'), { level: 'info', service: 'ja4-run', inputs: [`http ${join(dir, 'http.socket')} (seqpacket)`, `network ${join(dir, 'net.socket')}`], output: `embedded ${join(dir, 'db')}` });
  t.match(records(c.err).find((r) => r.msg === 'detector scoring'), { level: 'info', interval_s: 60, models_dir: /models$/ });
  // a fresh database: the first admin is created, its password kept 0600 next to the database; the log says where
  const announced = records(c.err).find((r) => String(r.msg).startsWith('created the dashboard user'));
  const passwordFile = join(dir, 'initial-admin-password');
  t.same(announced && { msg: announced.msg, user: announced.user, password_file: announced.password_file }, {
    msg: `created the dashboard user "admin"; its password is in ${passwordFile} (mode 0600; change it with "ja4 user passwd admin")`,
    user: 'admin',
    password_file: passwordFile,
  });
  t.equal(statSync(passwordFile).mode & 0o777, 0o600);
  const password = readFileSync(passwordFile, 'utf8').trimEnd();
  t.match(password, /^[A-Za-z0-9_-]{24}$/);
  t.notOk(c.err.join('').includes(password), 'the password is nowhere in the log');
  const url = records(c.err).find((r) => r.msg === 'dashboard up')!.url as string;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: 'admin', password }) });
  t.equal(login.status, 200, "the file's password logs in");
  t.match(await login.json(), { user: { name: 'admin', role: 'admin' } });
  const wrong = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: 'admin', password: 'not-it-at-all' }) });
  t.equal(wrong.status, 401);
  const apache = openDatagramSender({ path: join(dir, 'http.socket'), type: 'seqpacket' });
  const base = Date.now() * 1000;
  // HTTPS requests whose TLS event never comes: they wait (100 s) and SIGTERM must still write them
  t.ok(apache.send(lines(httpRecord({ ts: base, port: 1, conn: 'x' }), httpRecord({ ts: base + 1, port: 2, conn: 'y' }))));
  apache.close();
  await new Promise((r) => setTimeout(r, 300));
  process.emit('SIGTERM');
  t.equal(await running, 0);
  const logged = records(c.err);
  t.ok(logged.every((r) => typeof r.ts === 'string' && ['debug', 'info', 'warn', 'error'].includes(r.level as string) && r.service === 'ja4-run' && typeof r.msg === 'string'), 'every line: ts, level, service, msg');
  t.match(logged.at(-2), { level: 'info', msg: 'stopping: flushing', why: 'SIGTERM' });
  t.match(logged.at(-1), { level: 'info', msg: 'stopped', http_records: 2, tls_events: 0, matched: 0, no_tls: 0, tls_not_seen: 2, written_rows: 2, spool_segments: 0 });
  const storage = await openStorage(validateStorageOptions({ dataDir: join(dir, 'db') }));
  t.teardown(() => storage.close());
  const rows = await storage.query<{ conn_id: string; s: string }>(`SELECT conn_id, correlation_status AS s FROM ${TABLES.httpLogs} ORDER BY conn_id`);
  t.same(rows, [{ conn_id: 'x', s: 'tls_not_seen' }, { conn_id: 'y', s: 'tls_not_seen' }]);
  const [raw] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.httpRequests}`);
  t.equal(raw!.n, 0, 'no raw copies by default (--raw-tables)');
  // the next start finds the account: no second admin, the password file untouched
  t.equal(await ensureFirstAdmin(storage, join(dir, 'other-password-file')), undefined);
  const audit = await storage.query<{ actor: string; action: string; subject: string }>(`SELECT actor, action, subject FROM ${TABLES.auditLogs} WHERE action = 'user.add'`);
  t.same(audit, [{ actor: 'ja4 run', action: 'user.add', subject: 'admin' }]);
});

t.test('ja4 run: a SIGTERM while the detector and the dashboard start is remembered: they finish starting, the pipeline flushes, the rows stay', async (t) => {
  const dir = scratchDir(t);
  const c = io();
  const running = main(
    ['run', '--db-dir', join(dir, 'db'), '--http-socket', join(dir, 'http.socket'), '--network-socket', 'none', '--no-simulate', '--no-reference-load', '--tls-wait-ms', '100000', '--correlator-threads', '1', '--listen', '127.0.0.1:0'],
    c.io,
  );
  // "up": the sockets listen; the detector and the dashboard are starting
  for (let i = 0; i < 1200 && !c.err.join('').includes('"msg":"up"'); i++) await new Promise((r) => setTimeout(r, 10));
  t.notOk(c.err.join('').includes('"msg":"dashboard up"'), 'the signal comes before the dashboard is up');
  const apache = openDatagramSender({ path: join(dir, 'http.socket'), type: 'seqpacket' });
  t.ok(apache.send(lines(httpRecord({ ts: Date.now() * 1000, port: 3, conn: 'early' }))));
  apache.close();
  process.emit('SIGTERM');
  const code = await Promise.race([running, new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
  t.equal(code, 0);
  const logged = records(c.err);
  t.match(logged.find((r) => r.msg === 'stopping: flushing'), { why: 'SIGTERM' });
  t.match(logged.at(-1), { msg: 'stopped', http_records: 1, tls_not_seen: 1, written_rows: 1 });
});
