// Cleartext HTTP/1.x: every request of a keep-alive connection gets its own
// JA4H (bodies skipped by Content-Length, even across segments), header
// values with invalid UTF-8 or control bytes come out as valid JSON, and
// streams that are not HTTP count nothing and yield no http entries.
// Expected JA4H strings are computed in helpers/expected-fingerprints.ts.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { PcapWriter, TCP_ACK, TCP_PSH, TcpConversation } from '../src/capture/pcap-writer.js';
import { loadAddon } from '../src/native/addon.js';
import { openReplay } from '../src/capture/replay.js';
import { expectedJa4h, httpRequestBytes, type HttpRequestSpec } from './helpers/expected-fingerprints.js';
import { CLIENT, T0, anomalies, readWithStats, scratchDir } from './helpers/captures.js';

const WEB = { ip: '198.51.100.80', port: 80 };
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

function capture(dir: string, name: string, script: (c: TcpConversation) => void): string {
  const file = join(dir, name);
  const w = new PcapWriter(file);
  script(new TcpConversation(w, CLIENT, WEB, T0));
  w.close();
  return file;
}

const BODY = Buffer.from('{"name":"widget","qty":12}\n');

const POST: HttpRequestSpec = {
  method: 'POST',
  target: '/api/items?x=1',
  version: 'HTTP/1.1',
  headers: [
    ['Host', 'shop.example'],
    ['User-Agent', 'curl/8.5.0'],
    ['Content-Type', 'application/json'],
    ['Cookie', 'zeta=9; alpha=1; mid=5; alpha2=0'],
    ['Content-Length', String(BODY.length)],
    ['Accept-Language', 'de-CH,de;q=0.9'],
    ['Referer', 'http://shop.example/cart'],
  ],
  body: BODY,
};

const GET: HttpRequestSpec = {
  method: 'GET',
  target: '/index.html',
  version: 'HTTP/1.1',
  headers: [
    ['Host', 'shop.example'],
    ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['Accept', 'text/html'],
    ['Accept-Language', 'en-US,en;q=0.9'],
    ['Connection', 'keep-alive'],
  ],
};

t.test('expected JA4H sanity: the prefixes follow the spec fields', async (t) => {
  t.equal(expectedJa4h(POST).ja4h.slice(0, 12), 'po11cr05dech');
  t.equal(expectedJa4h(GET).ja4h.slice(0, 12), 'ge11nn05enus');
  t.equal(expectedJa4h(POST).ja4h_r.split('_')[2], 'alpha,alpha2,mid,zeta', 'cookie names sorted');
  t.equal(expectedJa4h(POST).ja4h_ro.split('_')[2], 'zeta,alpha,mid,alpha2', 'cookie names in wire order');
});

t.test('keep-alive: two requests, body between them split across segments, give two JA4H entries', async (t) => {
  const dir = scratchDir(t);
  const post = httpRequestBytes(POST);
  const get = httpRequestBytes(GET);
  const bodyStart = post.length - BODY.length;
  const file = capture(dir, 'keepalive.pcap', (c) => {
    c.handshake();
    // head + 10 body bytes | 17 body bytes + the whole GET
    c.packet(true, TCP_ACK | TCP_PSH, post.subarray(0, bodyStart + 10));
    c.packet(true, TCP_ACK | TCP_PSH, Buffer.concat([post.subarray(bodyStart + 10), get]));
    c.send(false, RESPONSE);
    c.send(false, RESPONSE);
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records.length, 1);
  const r = records[0]!;
  t.same(
    r.http,
    [
      { ...expectedJa4h(POST), method: 'POST', path: '/api/items?x=1', version: 'HTTP/1.1', host: 'shop.example', user_agent: 'curl/8.5.0' },
      { ...expectedJa4h(GET), method: 'GET', path: '/index.html', version: 'HTTP/1.1', host: 'shop.example', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
    ],
  );
  t.same([r.src, r.src_port, r.dst, r.dst_port, r.closed, r.ja4 ?? null], [CLIENT.ip, CLIENT.port, WEB.ip, WEB.port, true, null]);
  t.equal(stats.http_requests, 2);
  const a = anomalies(stats);
  t.same(a.actual, a.expected, 'HTTP responses and bodies count nothing bad');
});

t.test('a body that arrives in its own segments is skipped, the next request still parsed', async (t) => {
  const dir = scratchDir(t);
  const post = httpRequestBytes(POST);
  const head = post.subarray(0, post.length - BODY.length);
  const file = capture(dir, 'body-segments.pcap', (c) => {
    c.handshake();
    c.send(true, head);
    c.send(true, BODY, 5); // six segments of body
    c.send(true, httpRequestBytes(GET));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.same(records[0]?.http?.map((h) => h.ja4h), [expectedJa4h(POST).ja4h, expectedJa4h(GET).ja4h]);
  t.equal(stats.http_requests, 2);
  t.equal(stats.malformed_http, 0);
});

t.test('invalid UTF-8 and control bytes in a request come out as valid JSON with U+FFFD', async (t) => {
  const dir = scratchDir(t);
  const ua = Buffer.concat([
    Buffer.from('Mozilla/5.0 '),
    Buffer.from([0xff, 0xfe]), // never valid in UTF-8
    Buffer.from(' x'),
    Buffer.from([0x00, 0x01, 0x7f, 0x1b]), // control bytes
    Buffer.from('[31m '),
    Buffer.from([0xc3, 0xa9]), // é, valid
    Buffer.from(' '),
    Buffer.from([0x80]), // lone continuation byte
    Buffer.from(' '),
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from(' '),
    Buffer.from([0xe2, 0x82]), // truncated 3-byte sequence
    Buffer.from(' "q" \\ end'),
  ]);
  const request = Buffer.concat([
    Buffer.from('GET /caf'),
    Buffer.from([0xe9]), // latin-1 é in the path
    Buffer.from(' HTTP/1.1\r\nHost: h.example\r\nUser-Agent: '),
    ua,
    Buffer.from('\r\nX-Ctl\u0001Name: 1\r\n\r\n'),
  ]);
  const file = capture(dir, 'bad-utf8.pcap', (c) => {
    c.handshake();
    c.send(true, request);
    c.close();
  });
  const expectedUa = 'Mozilla/5.0 \uFFFD\uFFFD x\u0000\u0001\u007f\u001b[31m é \uFFFD \uFFFD\uFFFD \uFFFD\uFFFD "q" \\ end';

  // The native batch itself must be valid UTF-8 JSON (Buffer#toString would
  // silently repair it, so decode strictly here).
  const native = new (loadAddon().PcapReader)(file, {});
  let text = '';
  for (;;) {
    const res = await native.read();
    text += new TextDecoder('utf-8', { fatal: true }).decode(res.records);
    if (res.done) break;
  }
  native.close();
  const lines = text.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1);
  t.match(lines[0]!, /^[\x20-\x7e\u00e9]*$/, 'only printable ASCII (and the valid é) in the JSON text');
  const rec = JSON.parse(lines[0]!) as { http: { user_agent: string; path: string; ja4h: string; ja4h_r: string }[] };
  t.equal(rec.http[0]!.user_agent, expectedUa);
  t.equal(rec.http[0]!.path, '/caf\uFFFD');
  t.equal(rec.http[0]!.ja4h_r, 'ge11nn030000_Host,User-Agent,X-Ctl\u0001Name__');
  t.equal(
    rec.http[0]!.ja4h,
    expectedJa4h({ method: 'GET', target: '/', version: 'HTTP/1.1', headers: [['Host', ''], ['User-Agent', ''], ['X-Ctl\u0001Name', '']] }).ja4h,
  );

  const { records, stats } = await readWithStats(file);
  t.equal(records[0]?.http?.[0]?.user_agent, expectedUa, 'same through PcapReader');
  t.equal(stats.http_requests, 1);
  t.equal(stats.malformed_http, 0);
});

t.test('a garbage client stream counts nothing bad and yields no http', async (t) => {
  const dir = scratchDir(t);
  // Deterministic bytes that are neither TLS (0x16), SSH nor an HTTP method.
  const garbage = Buffer.alloc(700);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 167 + 13) & 0xff;
  garbage[0] = 0x00;
  const file = capture(dir, 'garbage.pcap', (c) => {
    c.handshake();
    c.send(true, garbage, 300);
    c.send(false, garbage.subarray(100, 400));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.same(
    records.map((r) => [r.src, r.dst_port, r.closed, r.http ?? null, r.ja4 ?? null, r.ja4s ?? null, r.ja4ssh ?? null]),
    [[CLIENT.ip, WEB.port, true, null, null, null, null]],
  );
  t.equal(stats.http_requests, 0);
  t.equal(stats.tls_client_hellos, 0);
  const a = anomalies(stats);
  t.same(a.actual, a.expected, 'no anomaly counted');
});

t.test('lowercase method is not HTTP: no http entry, nothing malformed', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'lower.pcap', (c) => {
    c.handshake();
    c.send(true, Buffer.from('get / HTTP/1.1\r\nHost: a\r\n\r\n'));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records[0]?.http, undefined);
  t.equal(stats.http_requests, 0);
  t.equal(stats.malformed_http, 0);
});

t.test('a request line without an HTTP version counts malformed_http once and stops that side', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'no-version.pcap', (c) => {
    c.handshake();
    c.send(true, Buffer.from('GET /\r\n\r\n'));
    c.send(true, httpRequestBytes(GET));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.equal(records[0]?.http, undefined);
  t.equal(stats.malformed_http, 1);
  t.equal(stats.http_requests, 0);
});

t.test('maxHttpPerFlow caps the kept entries, http_requests counts them all', async (t) => {
  const dir = scratchDir(t);
  const reqs: HttpRequestSpec[] = ['/a', '/b', '/c'].map((target, i) => ({
    method: 'GET',
    target,
    version: i === 1 ? 'HTTP/1.0' : 'HTTP/1.1',
    headers: [['Host', 'x'], ...(i === 2 ? ([['Accept-Language', 'fr']] as [string, string][]) : [])],
  }));
  const file = capture(dir, 'cap.pcap', (c) => {
    c.handshake();
    c.send(true, Buffer.concat(reqs.map(httpRequestBytes)));
    c.close();
  });
  const { records, stats } = await readWithStats(file, { maxHttpPerFlow: 2 });
  t.same(records[0]?.http?.map((h) => [h.path, h.ja4h]), [
    ['/a', expectedJa4h(reqs[0]!).ja4h],
    ['/b', expectedJa4h(reqs[1]!).ja4h],
  ]);
  t.equal(expectedJa4h(reqs[1]!).ja4h.slice(0, 12), 'ge10nn010000');
  t.equal(stats.http_requests, 3);
});

t.test('a chunked request is fingerprinted; requests after it on the connection are not parsed', async (t) => {
  const dir = scratchDir(t);
  const chunked: HttpRequestSpec = {
    method: 'PUT',
    target: '/up',
    version: 'HTTP/1.1',
    headers: [['Host', 'x'], ['Transfer-Encoding', 'chunked']],
    body: Buffer.from('5\r\nhello\r\n0\r\n\r\n'),
  };
  const file = capture(dir, 'chunked.pcap', (c) => {
    c.handshake();
    c.send(true, Buffer.concat([httpRequestBytes(chunked), httpRequestBytes(GET)]));
    c.close();
  });
  const { records, stats } = await readWithStats(file);
  t.same(records[0]?.http?.map((h) => h.ja4h), [expectedJa4h(chunked).ja4h]);
  t.equal(stats.http_requests, 1);
  t.equal(stats.malformed_http, 0);
});

t.test('a request line split before its first space is still recognised as HTTP', async (t) => {
  const dir = scratchDir(t);
  for (const cut of [2, 3]) {
    const req = httpRequestBytes(GET);
    const file = capture(dir, `split-${cut}.pcap`, (c) => {
      c.handshake();
      c.send(true, req.subarray(0, cut));
      c.send(true, req.subarray(cut));
      c.close();
    });
    const { records, stats } = await readWithStats(file);
    t.same(records[0]?.http?.map((h) => h.ja4h), [expectedJa4h(GET).ja4h], `cut after ${cut} bytes: JA4H`);
    t.equal(stats.http_requests, 1, `cut after ${cut} bytes: counted`);
  }
  // Cut right after the space: recognised.
  const req = httpRequestBytes(GET);
  const file = capture(dir, 'split-4.pcap', (c) => {
    c.handshake();
    c.send(true, req.subarray(0, 4));
    c.send(true, req.subarray(4));
    c.close();
  });
  const { records } = await readWithStats(file);
  t.same(records[0]?.http?.map((h) => h.ja4h), [expectedJa4h(GET).ja4h], 'cut after "GET ": JA4H');
});

t.test('with close events (live capture, replay): a keep-alive HTTP flow is reported at its first request, with its TCP fingerprints, then its close', async (t) => {
  const dir = scratchDir(t);
  const file = capture(dir, 'live-keepalive.pcap', (c) => {
    c.handshake();
    c.send(true, httpRequestBytes(GET));
    c.send(false, RESPONSE);
    c.send(true, httpRequestBytes(POST));
    c.send(false, RESPONSE);
    c.close();
  });
  const lines: Record<string, unknown>[] = [];
  const session = openReplay({ files: [file], max: true }, (b) => {
    for (const l of b.data.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  await session.finished;
  t.same(lines.map((l) => l.event), ['flow', 'close'], 'one flow record, then the close');
  const [flow, close] = lines as [Record<string, any>, Record<string, any>];
  t.same(flow.http.map((h: { ja4h: string }) => h.ja4h), [expectedJa4h(GET).ja4h], 'the first request only');
  t.match(flow, { src: CLIENT.ip, src_port: CLIENT.port, dst_port: WEB.port, ja4t: /^\d+_[\d-]+_\d+_\d+$/, ja4ts: /^\d+_[\d-]+_\d+_\d+$/, ja4l_c: /^\d+_\d+$/ });
  t.ok(flow.last_ts_us < close.last_ts_us, 'reported before the connection went on');
  t.equal(close.reason, 'fin');
  // `ja4 pcap` (no close events) still lists every request at the end
  const { records } = await readWithStats(file);
  t.same(records[0]?.http?.map((h) => h.ja4h), [expectedJa4h(GET).ja4h, expectedJa4h(POST).ja4h]);
});

t.test('replay: a missing file and a file that is not a capture are refused with their reason', async (t) => {
  const dir = scratchDir(t);
  const missing = join(dir, 'nope.pcap');
  t.throws(() => openReplay({ files: [missing] }, () => {}), { code: 'ENOENT', message: `${missing}: No such file or directory` });
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a capture at all, just text\n');
  t.throws(() => openReplay({ files: [text] }, () => {}), { code: 'EFORMAT', message: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a pcap or pcapng capture \\(`) });
});
