// The traffic simulator's output: determinism (same seed, same bytes),
// mod_reqin_log records exactly as native/httpd/record.c writes them,
// labels kept apart from the logged data, every family present, keep-alive
// numbering, port reuse, capture loss both ways, rate and duration.
import t from 'tap';
import { createHash } from 'node:crypto';
import { BOT_FAMILIES, HUMAN_FAMILIES, simulate, type LabelRow, type SimulatorOptions } from '../src/simulator/index.js';

const START = 1_795_305_600_000_000; // 2026-11-22T00:00:00Z
const S = 1_000_000;

interface Run {
  tls: string[];
  http: string[];
  labels: LabelRow[];
  batches: number;
}

async function run(opts: SimulatorOptions): Promise<Run> {
  const r: Run = { tls: [], http: [], labels: [], batches: 0 };
  for await (const b of simulate(opts)) {
    r.batches++;
    r.tls.push(...b.tls);
    r.http.push(...b.http);
    r.labels.push(...b.labels);
  }
  return r;
}

function digest(r: Run): string {
  const h = createHash('sha256');
  for (const part of [r.tls, r.http, r.labels.map((l) => JSON.stringify(l))]) h.update(part.join('\n')).update('\0');
  return h.digest('hex');
}

t.test('same seed gives byte-identical output; another seed does not', async (t) => {
  const opts = { seed: 42, rate: 80, durationS: 20, startUs: START };
  const a = await run(opts);
  const b = await run(opts);
  const c = await run({ ...opts, seed: 43 });
  t.ok(a.http.length > 500, `a run produces records (${a.http.length})`);
  t.equal(digest(a), digest(b), 'seed 42 twice: identical tls, http and labels');
  t.equal(a.http.join('\n'), b.http.join('\n'), 'http lines identical');
  t.not(digest(a), digest(c), 'seed 43 differs');
});

// One larger run shared by the checks below.
const DURATION_S = 150;
const RATE = 200;
const big = run({ seed: 7, rate: RATE, durationS: DURATION_S, startUs: START });

// record.c's members, in its order; optional ones marked.
const MEMBERS: [string, string, boolean][] = [
  ['v', 'number', true],
  ['ts_us', 'number', true],
  ['dur_us', 'number', true],
  ['conn', 'string', true],
  ['client_ip', 'string', true],
  ['client_port', 'number', true],
  ['local_ip', 'string', true],
  ['local_port', 'number', true],
  ['req_n', 'number', true],
  ['vhost', 'string', true],
  ['method', 'string', true],
  ['scheme', 'string', true],
  ['host', 'string', true],
  ['uri', 'string', true],
  ['proto', 'string', true],
  ['status', 'number', true],
  ['bytes_in', 'number', true],
  ['bytes_out', 'number', true],
  ['tls', 'object', false],
  ['h2_stream', 'number', false],
  ['header_order', 'object', true],
  ['headers', 'object', true],
  ['cookies', 'object', true],
  ['truncated', 'object', true],
];
const LOGGED = /^(user-agent|accept|accept-language|accept-encoding|referer|connection|sec-ch-ua.*|sec-fetch-.*)$/;

t.test('every HTTP record is a mod_reqin_log record', async (t) => {
  const r = await big;
  let bad = 0;
  const fail = (msg: string, line: string) => {
    if (bad++ < 5) t.fail(`${msg}: ${line.slice(0, 300)}`);
  };
  for (const line of r.http) {
    const rec = JSON.parse(line) as Record<string, unknown>;
    const keys = Object.keys(rec);
    const expected = MEMBERS.filter(([k, , required]) => required || k in rec).map(([k]) => k);
    if (keys.join() !== expected.join()) fail('members and their order', line);
    for (const [k, type] of MEMBERS) if (k in rec && typeof rec[k] !== type) fail(`type of ${k}`, line);
    if (rec.v !== 1 || !/^\d+-[0-9a-f]+-[0-9a-f]+$/.test(rec.conn as string)) fail('v / conn id', line);
    const https = rec.scheme === 'https';
    if (rec.local_port !== (https ? 443 : 80) || https !== 'tls' in rec) fail('scheme, port and tls agree', line);
    if ((rec.proto === 'HTTP/2.0') !== 'h2_stream' in rec || !['HTTP/1.1', 'HTTP/2.0'].includes(rec.proto as string)) fail('proto and h2_stream', line);
    const tls = rec.tls as { protocol: string; cipher: string; sni: string | null } | undefined;
    if (tls && (!['TLSv1.3', 'TLSv1.2'].includes(tls.protocol) || !tls.cipher || !(tls.sni === null || tls.sni === rec.host))) fail('tls member', line);
    const order = rec.header_order as string[];
    const headers = rec.headers as Record<string, string>;
    if (!Array.isArray(order) || order.some((n) => typeof n !== 'string')) fail('header_order', line);
    for (const k of Object.keys(headers)) {
      if (!LOGGED.test(k) || !order.some((n) => n.toLowerCase() === k)) fail(`headers.${k} is logged only when selected and sent`, line);
    }
    const cookies = rec.cookies as string[];
    if (cookies.some((c) => c.includes('=') || c.includes(';'))) fail('cookie names only', line);
    if (cookies.length > 0 !== order.some((n) => n.toLowerCase() === 'cookie')) fail('cookies iff a Cookie header', line);
    if ('cookie' in headers || 'authorization' in headers) fail('no secret header values', line);
    if (rec.proto === 'HTTP/2.0' && order[order.length - 1] !== 'Host') fail('h2: Host last (from :authority)', line);
    if ((rec.truncated as unknown[]).length !== 0) fail('nothing truncated', line);
  }
  t.equal(bad, 0, `${r.http.length} records checked`);
});

t.test('labels: one per client, apart from the logged data, every family present', async (t) => {
  const r = await big;
  const byIp = new Map<string, LabelRow>();
  let dup = 0;
  for (const l of r.labels) {
    if (byIp.has(l.client_ip)) dup++;
    byIp.set(l.client_ip, l);
  }
  t.equal(dup, 0, `one label per client address (${r.labels.length} labels)`);
  const families = new Set(r.labels.map((l) => l.family));
  for (const f of [...HUMAN_FAMILIES, ...BOT_FAMILIES]) t.ok(families.has(f), `family ${f} present`);
  t.ok(BOT_FAMILIES.length >= 10, `${BOT_FAMILIES.length} bot families`);
  t.equal(r.labels.filter((l) => l.is_bot !== BOT_FAMILIES.includes(l.family)).length, 0, 'is_bot follows the family');
  const ipsInLogs = new Set(r.http.map((l) => (JSON.parse(l) as { client_ip: string }).client_ip));
  t.same([...ipsInLogs].filter((ip) => !byIp.has(ip)), [], 'every logged client has a label');
  // Family names and label fields never leak into what the correlator sees.
  const leaks = [...r.http, ...r.tls].filter((line) => /"(family|is_bot|bot_name|label)"|credential-stuffer|low-and-slow|vuln-scanner|ua-spoofer|headless-chrome"/.test(line));
  t.same(leaks.slice(0, 3), [], 'no label in the logged data');
});

t.test('keep-alive numbering, h2 streams, port reuse over time', async (t) => {
  const r = await big;
  const conns = new Map<string, { ip: string; port: number; ts: number; n: number; h2: number | undefined }[]>();
  for (const line of r.http) {
    const x = JSON.parse(line) as { conn: string; client_ip: string; client_port: number; ts_us: number; req_n: number; h2_stream?: number };
    const list = conns.get(x.conn) ?? [];
    list.push({ ip: x.client_ip, port: x.client_port, ts: x.ts_us, n: x.req_n, h2: x.h2_stream });
    conns.set(x.conn, list);
  }
  let bad = 0;
  let multi = 0;
  const spans = new Map<string, [number, number][]>();
  for (const [id, list] of conns) {
    list.sort((a, b) => a.n - b.n);
    const first = list[0]!;
    const ok =
      list.every((x, i) => x.ip === first.ip && x.port === first.port && (i === 0 || (x.n > list[i - 1]!.n && x.ts >= list[i - 1]!.ts))) &&
      list.every((x) => x.h2 === undefined || x.h2 === 2 * x.n - 1);
    if (!ok && bad++ < 3) t.fail(`connection ${id}: ${JSON.stringify(list.slice(0, 5))}`);
    if (list.length > 1) multi++;
    const key = `${first.ip}:${first.port}`;
    const s = spans.get(key) ?? [];
    s.push([list[0]!.ts, list[list.length - 1]!.ts]);
    spans.set(key, s);
  }
  t.equal(bad, 0, `${conns.size} connections: one client port each, req_n increasing in time, h2_stream = 2 req_n - 1`);
  t.ok(multi > conns.size / 10, `keep-alive: ${multi} connections carry several requests`);
  const reused = [...spans.values()].filter((s) => s.length > 1);
  t.ok(reused.length > 0, `a client port is reused by later connections (${reused.length} ports)`);
  for (const s of reused) {
    s.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < s.length; i++) if (s[i]![0] <= s[i - 1]![1]) t.fail('reused port: connections do not overlap in time');
  }
  // Every request of a connection whose first request is logged starts at 1.
  const starts = [...conns.values()].filter((l) => l.some((x) => x.n === 1)).length;
  t.ok(starts > conns.size * 0.95, 'connections number their requests from 1');
});

t.test('TLS events: flow then close per connection; capture loss both ways; plain HTTP', async (t) => {
  const r = await big;
  const flows = new Map<string, { stream: number; ts: number }>();
  const closes = new Map<number, number>();
  let noFingerprint = 0;
  let unknown = 0;
  for (const line of r.tls) {
    const e = JSON.parse(line) as { event: string; stream: number; src: string; src_port: number; first_ts_us: number; last_ts_us: number; ja4?: string; ja4t?: string };
    if (e.event === 'flow') {
      if (!e.ja4 || !e.ja4t) noFingerprint++;
      flows.set(`${e.src}:${e.src_port}:${e.first_ts_us}`, { stream: e.stream, ts: e.last_ts_us });
    } else {
      if (e.event !== 'close') unknown++;
      closes.set(e.stream, e.last_ts_us);
    }
  }
  t.equal(noFingerprint, 0, 'every flow event carries JA4 and JA4T');
  t.equal(unknown, 0, 'events are "flow" or "close"');
  const flowStreams = new Map([...flows.values()].map((f) => [f.stream, f.ts]));
  let orphanCloses = 0;
  for (const [stream, ts] of closes) if (!(flowStreams.get(stream)! < ts)) orphanCloses++;
  t.equal(orphanCloses, 0, `${closes.size} close events, each after its flow event`);
  // Join as the correlator would: client ip:port, the request inside the connection's life.
  const flowsByPort = new Map<string, { first: number; report: number }[]>();
  for (const [k, f] of flows) {
    const [ip, port, first] = [k.slice(0, k.lastIndexOf(':', k.lastIndexOf(':') - 1)), ...k.split(':').slice(-2)] as [string, string, string];
    const key = `${ip}:${port}`;
    (flowsByPort.get(key) ?? flowsByPort.set(key, []).get(key)!).push({ first: Number(first), report: f.ts });
  }
  let https = 0;
  let withTls = 0;
  let plain = 0;
  const matchedFlows = new Set<string>();
  for (const line of r.http) {
    const x = JSON.parse(line) as { client_ip: string; client_port: number; ts_us: number; scheme: string };
    if (x.scheme === 'http') {
      plain++;
      continue;
    }
    https++;
    const cands = flowsByPort.get(`${x.client_ip}:${x.client_port}`) ?? [];
    const hit = cands.filter((f) => f.report < x.ts_us).sort((a, b) => b.first - a.first)[0];
    if (hit) {
      withTls++;
      matchedFlows.add(`${x.client_ip}:${x.client_port}:${hit.first}`);
    }
  }
  t.ok(plain > 0, `plain HTTP records (port 80, no TLS event): ${plain}`);
  t.ok(withTls > https * 0.9, `most HTTPS records have their TLS event (${withTls} of ${https})`);
  t.ok(withTls < https, `some HTTPS records have lost their TLS event (${https - withTls})`);
  t.ok(matchedFlows.size < flows.size, `some TLS events have no HTTP record (${flows.size - matchedFlows.size} of ${flows.size})`);
});

t.test('rate and duration', async (t) => {
  const r = await big;
  const end = START + DURATION_S * S;
  let outside = 0;
  for (const line of r.http) {
    const ts = (JSON.parse(line) as { ts_us: number }).ts_us;
    if (ts < START || ts >= end) outside++;
  }
  for (const line of r.tls) {
    const e = JSON.parse(line) as { first_ts_us: number; last_ts_us: number };
    if (e.first_ts_us < START || e.last_ts_us >= end) outside++;
  }
  t.equal(outside, 0, 'every timestamp inside [start, start + duration)');
  const rate = r.http.length / DURATION_S;
  t.ok(Math.abs(rate - RATE) / RATE < 0.2, `records/s ${rate.toFixed(1)} within 20% of --rate ${RATE}`);
  t.ok(r.batches >= DURATION_S - 2 && r.batches <= DURATION_S + 1, `one batch per simulated second (${r.batches})`);
});

t.test('options are validated with messages naming them', async (t) => {
  const bad: [SimulatorOptions, RegExp][] = [
    [{ rate: 0 }, /^rate must be/],
    [{ rate: Number.NaN }, /^rate must be/],
    [{ seed: -1 }, /^seed must be/],
    [{ durationS: -5 }, /^durationS must be/],
    [{ startUs: 1.5 }, /^startUs must be/],
    [{ population: { families: { nosuch: 1 } } }, /unknown family "nosuch"/],
    [{ population: { families: { curl: -1 } } }, /population.families.curl must be/],
    [{ population: { lostTlsShare: 2 } }, /population.lostTlsShare must be a fraction/],
    [{ population: { hosts: [] } }, /population.hosts must be/],
  ];
  for (const [opts, re] of bad) {
    await t.rejects(
      (async () => {
        for await (const b of simulate(opts)) void b;
      })(),
      { message: re, code: 'ESIMOPTION' },
      JSON.stringify(opts),
    );
  }
});

t.test('population: a family alone, no capture loss', async (t) => {
  const r = await run({ seed: 5, rate: 50, durationS: 30, startUs: START, population: { families: { curl: 1, chrome: 0, edge: 0, firefox: 0, safari: 0, 'chrome-mobile': 0, 'safari-mobile': 0, 'python-requests': 0, 'go-http': 0, 'headless-chrome': 0, scraper: 0, 'credential-stuffer': 0, 'vuln-scanner': 0, 'low-and-slow': 0, 'ua-spoofer': 0, crawler: 0, 'api-client': 0 }, lostTlsShare: 0, lostHttpShare: 0 } });
  t.same([...new Set(r.labels.map((l) => l.family))], ['curl'], 'only curl clients');
  const uas = new Set(r.http.map((l) => (JSON.parse(l) as { headers: { 'user-agent': string } }).headers['user-agent'].replace(/\/.*/, '')));
  t.same([...uas], ['curl'], 'curl User-Agents');
  const httpsConns = new Set(r.http.filter((l) => l.includes('"scheme":"https"')).map((l) => (JSON.parse(l) as { client_ip: string; client_port: number }).client_port + '@' + (JSON.parse(l) as { client_ip: string }).client_ip));
  const flows = r.tls.filter((l) => l.startsWith('{"event":"flow"'));
  t.ok(flows.length >= httpsConns.size, `no TLS event lost: ${flows.length} flows for ${httpsConns.size} HTTPS connections`);
});
