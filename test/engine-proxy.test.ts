// TLS behind a proxy handshake on the same TCP connection (SOCKS4, SOCKS4a,
// SOCKS5 with and without username/password, HTTP CONNECT): the engine
// skips the proxy messages on both sides and fingerprints the ClientHello
// and ServerHello that follow exactly as on a direct connection. Proxy
// messages split across segments, or sent together with the ClientHello,
// are handled; a refused CONNECT or a stream that only looks like SOCKS
// is not fingerprinted and breaks nothing. Crafted captures; expected
// fingerprints computed from the hello specs in test/helpers.
import t from 'tap';
import { join } from 'node:path';
import { PcapWriter, TcpConversation } from '../src/capture/pcap-writer.js';
import { clientHello, serverHello, tlsRecords } from './helpers/tls-messages.js';
import { expectedJa3, expectedJa4, expectedJa4h, expectedJa4s } from './helpers/expected-fingerprints.js';
import { CHROME_HELLO, CLIENT, SERVER, T0, TLS13_SERVER_HELLO, anomalies, readWithStats, scratchDir } from './helpers/captures.js';

const CH_RECORD = tlsRecords(clientHello(CHROME_HELLO));
const SH_RECORD = tlsRecords(serverHello(TLS13_SERVER_HELLO));
const JA4 = expectedJa4(CHROME_HELLO);
const JA3 = expectedJa3(CHROME_HELLO);
const JA4S = expectedJa4s(TLS13_SERVER_HELLO);
const PROXY = { ip: SERVER.ip, port: 1080 };

const bytes = (...parts: (number[] | string | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

interface Exchange {
  name: string;
  /** client -> proxy messages, each a separate write, before the ClientHello */
  client: Buffer[];
  /** proxy -> client answers, interleaved: answer[i] follows client[i] */
  server: Buffer[];
  port?: number;
}

const SOCKS4 = bytes([4, 1, 0x01, 0xbb, 198, 51, 100, 7], 'alice', [0]);
const SOCKS4A = bytes([4, 1, 0x01, 0xbb, 0, 0, 0, 1], [0], 'www.example.com', [0]);
const SOCKS4_OK = bytes([0, 0x5a, 0x01, 0xbb, 198, 51, 100, 7]);
const S5_GREETING = bytes([5, 2, 0, 2]);
const S5_REQUEST_V4 = bytes([5, 1, 0, 1, 198, 51, 100, 7, 0x01, 0xbb]);
const S5_REQUEST_DOMAIN = bytes([5, 1, 0, 3, 15], 'www.example.com', [0x01, 0xbb]);
const S5_REQUEST_V6 = bytes([5, 1, 0, 4], Buffer.alloc(16, 0x20), [0x01, 0xbb]);
const S5_REPLY = bytes([5, 0, 0, 1, 10, 0, 0, 1, 0x9c, 0x40]);
const CONNECT = bytes('CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\nUser-Agent: curl/8.5.0\r\nProxy-Connection: Keep-Alive\r\n\r\n');
const CONNECT_OK = bytes('HTTP/1.1 200 Connection established\r\n\r\n');

const exchanges: Exchange[] = [
  { name: 'SOCKS4', client: [SOCKS4], server: [SOCKS4_OK] },
  { name: 'SOCKS4a', client: [SOCKS4A], server: [SOCKS4_OK] },
  { name: 'SOCKS5, no auth, IPv4', client: [bytes([5, 1, 0]), S5_REQUEST_V4], server: [bytes([5, 0]), S5_REPLY] },
  {
    name: 'SOCKS5, username/password, domain name',
    client: [S5_GREETING, bytes([1, 5], 'alice', [6], 'secret'), S5_REQUEST_DOMAIN],
    server: [bytes([5, 2]), bytes([1, 0]), S5_REPLY],
  },
  { name: 'SOCKS5, IPv6', client: [bytes([5, 1, 0]), S5_REQUEST_V6], server: [bytes([5, 0]), bytes([5, 0, 0, 4], Buffer.alloc(16, 1), [0, 80])] },
  { name: 'HTTP CONNECT', client: [CONNECT], server: [CONNECT_OK], port: 3128 },
];

function write(dir: string, name: string, script: (c: TcpConversation) => void): string {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.pcap`);
  const w = new PcapWriter(file);
  const c = new TcpConversation(w, CLIENT, { ...PROXY }, T0);
  script(c);
  w.close();
  return file;
}

t.test('TLS after each proxy handshake is fingerprinted as on a direct connection', async (t) => {
  const dir = scratchDir(t);
  for (const ex of exchanges) {
    for (const mode of ['segments', 'one byte at a time', 'request and ClientHello together'] as const) {
      const file = write(dir, `${ex.name}-${mode}`, (c) => {
        c.handshake();
        ex.client.forEach((msg, i) => {
          const last = i === ex.client.length - 1;
          if (mode === 'request and ClientHello together' && last) {
            // SOCKS clients may send optimistically; the answer comes after.
            c.send(true, Buffer.concat([msg, CH_RECORD]));
            c.send(false, ex.server[i]!);
            return;
          }
          c.send(true, msg, mode === 'one byte at a time' ? 1 : 1460);
          c.send(false, ex.server[i]!, mode === 'one byte at a time' ? 1 : 1460);
        });
        if (mode !== 'request and ClientHello together') c.send(true, CH_RECORD);
        c.send(false, SH_RECORD);
        c.close();
      });
      const { records, stats } = await readWithStats(file);
      t.equal(records.length, 1, `${ex.name} (${mode}): one record`);
      const r = records[0]!;
      t.same(
        { ja4: r.ja4, ja3: r.ja3, ja4s: r.ja4s, sni: r.tls_server_name, src: r.src, dst_port: r.dst_port },
        { ja4: JA4.ja4, ja3: JA3.ja3, ja4s: JA4S.ja4s, sni: CHROME_HELLO.sni, src: CLIENT.ip, dst_port: PROXY.port },
        `${ex.name} (${mode}): JA4, JA3 and JA4S of the tunneled hellos`,
      );
      t.equal(stats.proxy_handshakes, 1, `${ex.name} (${mode}): proxy_handshakes = 1`);
      const a = anomalies(stats);
      t.same(a.actual, a.expected, `${ex.name} (${mode}): no anomaly counted`);
      if (ex.name === 'HTTP CONNECT') {
        t.same(
          r.http?.map((h) => [h.method, h.path, h.ja4h]),
          [['CONNECT', 'www.example.com:443', expectedJa4h({ method: 'CONNECT', target: 'www.example.com:443', version: 'HTTP/1.1', headers: [['Host', 'www.example.com:443'], ['User-Agent', 'curl/8.5.0'], ['Proxy-Connection', 'Keep-Alive']] }).ja4h]],
          'the CONNECT request itself has its JA4H',
        );
      }
    }
  }
});

t.test('a refused CONNECT and SOCKS look-alikes are not fingerprinted and break nothing', async (t) => {
  const dir = scratchDir(t);
  let file = write(dir, 'refused', (c) => {
    c.handshake();
    c.send(true, CONNECT);
    c.send(false, bytes('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n'));
    c.close();
  });
  let res = await readWithStats(file);
  t.equal(res.records.length, 1);
  t.equal(res.records[0]!.ja4, undefined, 'no JA4');
  t.equal(res.records[0]!.http?.[0]?.method, 'CONNECT', 'the CONNECT request is still reported');

  // 0x05 then garbage: not a SOCKS5 greeting (no methods), not TLS.
  file = write(dir, 'lookalike', (c) => {
    c.handshake();
    c.send(true, bytes([5, 0, 1, 2, 3, 4, 5, 6, 7, 8]));
    c.send(false, bytes([0x16, 3, 3, 0, 1, 0]));
    c.close();
  });
  res = await readWithStats(file);
  t.equal(res.records[0]?.ja4, undefined);
  t.equal(res.stats.proxy_handshakes, 0);

  // SOCKS4 with a user id that never ends: given up at 255 bytes, not buffered forever.
  file = write(dir, 'endless-userid', (c) => {
    c.handshake();
    c.send(true, bytes([4, 1, 0, 80, 1, 2, 3, 4], Buffer.alloc(4000, 0x41)));
    c.send(true, CH_RECORD);
    c.close();
  });
  res = await readWithStats(file);
  t.equal(res.records[0]?.ja4, undefined, 'not fingerprinted');
  t.equal(res.stats.proxy_handshakes, 0);

  // A SOCKS5 reply the proxy got wrong: the server side is not fingerprinted, the client side is.
  file = write(dir, 'bad-reply', (c) => {
    c.handshake();
    c.send(true, bytes([5, 1, 0]));
    c.send(false, bytes([5, 0]));
    c.send(true, S5_REQUEST_V4);
    c.send(false, bytes([5, 0, 0, 9, 1, 2, 3, 4, 5, 6]));
    c.send(true, CH_RECORD);
    c.close();
  });
  res = await readWithStats(file);
  t.equal(res.records[0]?.ja4, JA4.ja4, 'client hello still fingerprinted');
  t.equal(res.records[0]?.ja4s, undefined, 'no server hello');
});
