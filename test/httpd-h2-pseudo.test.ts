// The HTTP/2 pseudo-header order parser of mod_reqin_log
// (native/httpd/h2_pseudo.c, driven by h2_pseudo_cli): a client's byte
// stream from the preface on, fed whole, byte by byte and in 7-byte pieces,
// gives each stream's pseudo fields in the order sent. Inputs: what Node's
// and curl's HTTP/2 clients send (captured here on a plain TCP server), and
// frames built here: padding and priority fields, CONTINUATION, names from
// the HPACK dynamic table, trailer sections, other frame types, the ring of
// remembered streams, and invalid streams, which stop the parser.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { ensureBuilt, h2PseudoCli } from './httpd/apache.js';

ensureBuilt([h2PseudoCli]); // plain cc and libnghttp2: needs no apxs

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** RFC 9113 section 4.1: a frame. */
function frame(type: number, flags: number, stream: number, payload: Buffer | number[]): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, p]);
}
const SETTINGS = frame(4, 0, 0, []);
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const headers = (stream: number, block: Buffer | number[], flags = END_STREAM | END_HEADERS) => frame(1, flags, stream, block);

/** RFC 7541 section 6.2.2: literal without indexing, indexed name. */
const lit = (index: number, value: string) => Buffer.concat([Buffer.from([index, value.length]), Buffer.from(value)]);
/** Section 6.2.2 with a literal name. */
const litName = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
// Section 6.1 indexed fields, appendix A: 2 :method GET, 4 :path /, 6 :scheme http
const GET = 0x82, SLASH = 0x84, HTTP = 0x86;

/** The CLI's lines for input fed in pieces of `piece` bytes (0: whole). */
function run(input: Buffer, piece = 0): string {
  const r = spawnSync(h2PseudoCli, piece ? [String(piece)] : [], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`h2_pseudo_cli: ${r.stderr}`);
  return r.stdout.trim();
}

/** Same answer however the bytes are cut. */
function check(t: Test, input: Buffer, want: string, what: string) {
  for (const piece of [0, 1, 7]) t.equal(run(input, piece), want, `${what} (pieces of ${piece || 'all'})`);
}

/** What a client sends to a TCP server that answers nothing, for 500 ms. */
function capture(start: (port: number) => () => void): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let stop = () => {};
    const srv = net.createServer((s) => {
      s.on('data', (d) => chunks.push(d));
      setTimeout(() => {
        s.destroy();
        srv.close();
        stop();
        resolve(Buffer.concat(chunks));
      }, 500);
    });
    srv.listen(0, '127.0.0.1', () => {
      stop = start((srv.address() as net.AddressInfo).port);
    });
  });
}

t.test("Node's client: two streams, the second with names from the dynamic table", async (t) => {
  const bytes = await capture((port) => {
    const c = http2.connect(`http://127.0.0.1:${port}`);
    c.on('error', () => {});
    for (const p of ['/1', '/2']) {
      const r = c.request({ ':path': p, 'user-agent': 'x' });
      r.on('error', () => {});
      r.end();
    }
    return () => c.destroy();
  });
  t.ok(bytes.subarray(0, 24).equals(PREFACE), 'starts with the preface');
  check(t, bytes, '1 p,m,a,s\n3 p,m,a,s', 'Node puts the given :path first');
});

t.test("curl's client, prior knowledge", async (t) => {
  const bytes = await capture((port) => {
    const p = spawn('curl', ['-s', '--http2-prior-knowledge', '-m', '2', '-H', 'x-a: 1', `http://127.0.0.1:${port}/a`], { stdio: 'ignore' });
    return () => p.kill();
  });
  // curl's SETTINGS and WINDOW_UPDATE come before its HEADERS: skipped
  check(t, bytes, '1 m,p,s,a', 'curl: :method :path :scheme :authority');
});

t.test('frames built here', async (t) => {
  const block = Buffer.concat([lit(1, 'example.org'), Buffer.from([HTTP]), lit(4, '/x'), Buffer.from([GET])]);
  // HEADERS with Pad Length, Stream Dependency and Weight, the block cut in
  // two by a CONTINUATION, then padding
  const padded = headers(1, Buffer.concat([Buffer.from([3, 0x80, 0, 0, 0, 16]), block.subarray(0, 4), Buffer.alloc(3)]), END_STREAM | PADDED | PRIORITY);
  check(t, Buffer.concat([PREFACE, SETTINGS, padded, frame(9, END_HEADERS, 1, block.subarray(4))]), '1 a,s,p,m', 'padding, priority, CONTINUATION');

  // Section 6.2.1: literal with incremental indexing (0x41: name of entry
  // 1, :authority) adds entry 62; 0xbe (62) refers to it
  const dyn = Buffer.concat([PREFACE, SETTINGS,
    headers(1, Buffer.concat([Buffer.from([GET, SLASH, HTTP, 0x41, 1]), Buffer.from('h')])),
    headers(3, [0xbe, SLASH, GET, HTTP])]);
  check(t, dyn, '1 m,p,s,a\n3 a,p,m,s', 'an index into the dynamic table');

  // other frames (DATA, PING, WINDOW_UPDATE, PRIORITY, RST_STREAM) are skipped
  const others = Buffer.concat([PREFACE, SETTINGS, frame(8, 0, 0, [0, 0, 1, 0]), frame(6, 0, 0, Buffer.alloc(8)),
    headers(1, [GET, SLASH, HTTP], END_HEADERS), frame(0, 0, 1, Buffer.from('body')), frame(0, END_STREAM, 1, []),
    frame(2, 0, 3, [0, 0, 0, 1, 20]), frame(3, 0, 5, [0, 0, 0, 8]), headers(5, [SLASH, GET])]);
  check(t, others, '1 m,p,s\n5 p,m', 'other frames skipped');

  // a trailer section (a second block on an opened stream) is decoded but
  // does not replace the stream's order
  const trailers = Buffer.concat([PREFACE, SETTINGS, headers(1, [GET, SLASH], END_HEADERS), headers(3, [SLASH, GET]),
    headers(1, litName('x-t', '1')), headers(1, [SLASH])]);
  check(t, trailers, '1 m,p\n3 p,m', 'trailers keep the order');

  // unknown pseudo names are '?'; at most 8 letters kept
  const many = Buffer.concat([PREFACE, SETTINGS, headers(1, Buffer.concat([litName(':foo', 'x'), Buffer.from([GET, SLASH, HTTP, GET, SLASH, HTTP, GET, SLASH, HTTP]), lit(1, 'h')]))]);
  check(t, many, '1 ?,m,p,s,m,p,s,m', 'unknown names, at most 8');

  // :protocol (RFC 8441) after the others, regular fields do not count
  const proto = Buffer.concat([PREFACE, SETTINGS, headers(1, Buffer.concat([Buffer.from([0x02, 7]), Buffer.from('CONNECT'), litName(':protocol', 'websocket'), Buffer.from([HTTP, SLASH]), lit(1, 'h'), litName('x', 'y')]))]);
  check(t, proto, '1 m,t,s,p,a', ':protocol');
});

t.test('the newest 128 streams are remembered', async (t) => {
  const frames = [PREFACE, SETTINGS];
  for (let s = 1; s <= 399; s += 2) frames.push(headers(s, [GET, SLASH, HTTP]));
  const lines = run(Buffer.concat(frames)).split('\n');
  t.equal(lines.length, 128);
  t.equal(lines[0], `${399 - 2 * 127} m,p,s`, 'the oldest remembered');
  t.equal(lines[127], '399 m,p,s');
});

t.test('invalid streams stop the parser', async (t) => {
  const ok = headers(1, [GET, SLASH]);
  const cases: Array<[string, Buffer, string]> = [
    ['no preface', Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n')]), 'stopped: no connection preface'],
    ['no SETTINGS first', Buffer.concat([PREFACE, ok]), 'stopped: no SETTINGS frame after the preface'],
    ['HPACK index 0', Buffer.concat([PREFACE, SETTINGS, ok, headers(3, [0x80])]), '1 m,p\nstopped: HPACK decoding failed'],
    ['HPACK index beyond the tables', Buffer.concat([PREFACE, SETTINGS, headers(3, [0xff, 0x10])]), 'stopped: HPACK decoding failed'],
    ['table size update above 4096', Buffer.concat([PREFACE, SETTINGS, headers(3, [0x3f, 0xe2, 0x3f, GET])]), 'stopped: HPACK decoding failed'],
    ['header block interrupted', Buffer.concat([PREFACE, SETTINGS, headers(1, [GET], 0), frame(0, 0, 1, [1])]), 'stopped: header block interrupted'],
    ['CONTINUATION on another stream', Buffer.concat([PREFACE, SETTINGS, headers(1, [GET], 0), frame(9, END_HEADERS, 3, [SLASH])]), 'stopped: header block interrupted'],
    ['CONTINUATION alone', Buffer.concat([PREFACE, SETTINGS, frame(9, END_HEADERS, 1, [SLASH])]), 'stopped: CONTINUATION outside a header block'],
    ['HEADERS on stream 0', Buffer.concat([PREFACE, SETTINGS, headers(0, [GET])]), 'stopped: HEADERS on stream 0'],
    ['padding too long', Buffer.concat([PREFACE, SETTINGS, headers(1, [5, GET], END_HEADERS | PADDED)]), 'stopped: HEADERS padding longer than the frame'],
    ['priority fields cut', Buffer.concat([PREFACE, SETTINGS, headers(1, [0, 0], END_HEADERS | PRIORITY)]), 'stopped: HEADERS shorter than its fields'],
  ];
  for (const [what, input, want] of cases) {
    // the bytes after the error are ignored
    check(t, Buffer.concat([input, headers(5, [GET])]), want, what);
  }
});
