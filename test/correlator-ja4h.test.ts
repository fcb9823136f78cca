// JA4H computed by the correlator from a mod_reqin_log record versus JA4H
// computed by the native engine from the same request on the wire. The
// requests are written into a capture (PcapWriter) and read by the real
// engine; the record is what mod_reqin_log logs for that request (header
// names in wire order, the Accept-Language value, cookie names only).
// Without cookies the four forms are equal; with cookies sections a, b and
// c are equal and d (cookie values, never logged) is defined as c.
import t from 'tap';
import { join } from 'node:path';
import { PcapWriter, TCP_ACK, TCP_PSH, TcpConversation } from '../src/capture/pcap-writer.js';
import { ja4hCached, ja4hForms, ja4hOf, type Ja4hInput } from '../src/correlator/ja4h.js';
import { httpRequestBytes, type HttpRequestSpec } from './helpers/expected-fingerprints.js';
import { CLIENT, T0, readWithStats, scratchDir } from './helpers/captures.js';
import { repoRoot } from './helpers/paths.js';

const REQUESTS: HttpRequestSpec[] = [
  {
    method: 'GET',
    target: '/index.html',
    version: 'HTTP/1.1',
    headers: [['Host', 'shop.example'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)'], ['Accept', 'text/html'], ['Accept-Language', 'en-US,en;q=0.9'], ['Connection', 'keep-alive']],
  },
  {
    method: 'POST',
    target: '/api/items?x=1',
    version: 'HTTP/1.1',
    headers: [['Host', 'shop.example'], ['User-Agent', 'curl/8.5.0'], ['Content-Type', 'application/json'], ['Cookie', 'zeta=9; alpha=1; mid=5; alpha2=0'], ['Content-Length', '0'], ['Accept-Language', 'de-CH,de;q=0.9'], ['Referer', 'http://shop.example/cart']],
  },
  {
    method: 'HEAD',
    target: '/',
    version: 'HTTP/1.0',
    headers: [['host', 'x'], ['X-Custom', 'a'], ['ACCEPT-LANGUAGE', 'FR'], ['x-custom', 'b']],
  },
  {
    method: 'DELETE',
    target: '/r/1',
    version: 'HTTP/1.1',
    headers: [['Host', 'x'], ['Referer', 'http://x/'], ['Cookie', 'a=1'], ['Accept', '*/*']],
  },
];

/** What mod_reqin_log logs for the request (docs/mod_reqin_log.md). */
function logged(req: HttpRequestSpec) {
  const headers: Record<string, string> = {};
  for (const [n, v] of req.headers) if (n.toLowerCase() === 'accept-language') headers['accept-language'] = v;
  const cookies = req.headers.filter(([n]) => n.toLowerCase() === 'cookie').flatMap(([, v]) => v.split('; ').map((c) => c.slice(0, c.indexOf('='))));
  return { method: req.method, proto: req.version, header_order: req.headers.map(([n]) => n), headers, cookies };
}

t.test('the correlator and the native engine agree on JA4H for the same requests', async (t) => {
  const file = join(scratchDir(t), 'http.pcap');
  const w = new PcapWriter(file);
  const c = new TcpConversation(w, CLIENT, { ip: '198.51.100.80', port: 80 }, T0);
  c.handshake();
  for (const req of REQUESTS) {
    c.packet(true, TCP_ACK | TCP_PSH, httpRequestBytes(req));
    c.send(false, Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
  }
  c.close();
  w.close();
  const { records } = await readWithStats(file);
  const engine = records.flatMap((r) => r.http ?? []);
  t.equal(engine.length, REQUESTS.length, 'the engine saw every request');
  REQUESTS.forEach((req, i) => {
    const native = engine[i]!;
    const ours = ja4hForms(logged(req));
    const hasCookies = ours.ja4h.split('_')[2] !== '000000000000';
    if (!hasCookies) {
      t.same(ours, { ja4h: native.ja4h, ja4h_r: native.ja4h_r, ja4h_o: native.ja4h_o, ja4h_ro: native.ja4h_ro }, `${req.method}: all four forms equal`);
    } else {
      const abc = (s: string): string => s.split('_').slice(0, 3).join('_');
      t.same([abc(ours.ja4h), abc(ours.ja4h_r), abc(ours.ja4h_o), abc(ours.ja4h_ro)], [abc(native.ja4h), abc(native.ja4h_r), abc(native.ja4h_o), abc(native.ja4h_ro)], `${req.method}: sections a, b, c equal`);
      t.equal(ours.ja4h.split('_')[3], ours.ja4h.split('_')[2], `${req.method}: d = c (cookie values are not logged)`);
      t.not(native.ja4h.split('_')[3], ours.ja4h.split('_')[3], `${req.method}: the engine's d hashes the values`);
    }
  });
  t.equal(engine[0]!.ja4h, 'ge11nn05enus_107daf92ca44_000000000000_000000000000', 'the golden value of the first request');
  // the exact values, so a change on either side shows
  t.same(
    REQUESTS.map((r) => ja4hForms(logged(r)).ja4h),
    engine.map((h, i) => (i === 1 || i === 3 ? `${h.ja4h.split('_').slice(0, 3).join('_')}_${h.ja4h.split('_')[2]}` : h.ja4h)),
  );
});

t.test('the sample capture\'s cleartext requests (curl on loopback): sections a, b, c as the engine computed them', async (t) => {
  const { records } = await readWithStats(join(repoRoot, 'samples', 'loopback-clients.pcapng'));
  const http = records.flatMap((r) => r.http ?? []);
  t.ok(http.length >= 2, `${http.length} requests`);
  for (const h of http) {
    // the engine's raw original-order form gives the header names and cookie names as sent
    const [a, names, cookieNames] = h.ja4h_ro.split('_') as [string, string, string];
    const header_order = [...names.split(','), ...(a[4] === 'c' ? ['Cookie'] : []), ...(a[5] === 'r' ? ['Referer'] : [])];
    const lang = a.slice(8, 12);
    const record = {
      method: h.method,
      proto: h.version,
      header_order,
      // the value is not in the capture's record; one with the same first four characters
      headers: (lang === '0000' ? {} : { 'accept-language': `${lang.slice(0, 2)}-${lang.slice(2)}` }) as Record<string, string>,
      cookies: cookieNames === '' ? [] : cookieNames.split(','),
    };
    const ours = ja4hForms(record);
    t.equal(ours.ja4h.split('_').slice(0, 3).join('_'), h.ja4h.split('_').slice(0, 3).join('_'), `${h.method} ${h.path}: ${h.ja4h}`);
  }
});

t.test('the JA4H memo tells apart layouts a separator join confused', async (t) => {
  const base = { method: 'GET', proto: 'HTTP/1.1', cookies: [] as string[], headers: {} as Record<string, string> };
  const pairs: [Ja4hInput, Ja4hInput][] = [
    [{ ...base, header_order: ['a\u0001b'] }, { ...base, header_order: ['a', 'b'] }],
    [{ ...base, header_order: [''] }, { ...base, header_order: [] }],
    [{ ...base, header_order: ['Accept-Language'], headers: { 'accept-language': '\u0002' } }, { ...base, header_order: ['Accept-Language'] }],
  ];
  for (const [first, second] of pairs) {
    ja4hCached(first); // memoised first
    t.equal(ja4hCached(second), ja4hOf(second), `${JSON.stringify(second.header_order)} after ${JSON.stringify(first.header_order)}`);
  }
});
