// The correlator's native request path (Native format: records parsed in
// C++, blocks written there) against the JavaScript path (JSON.parse,
// toHttpRecord, the JSONEachRow encoder) on the same input: hostile edits
// of real records, seeded random mutations of them, and records the
// JavaScript reader accepts but the native parser leaves to it (numbers
// written 1.0, duplicate keys, lone surrogates, IPv6 zones, integer-like
// header names, non-ASCII header names). Both must drop the same lines for
// the same reasons, join the same way, and write the same rows.
import t from 'tap';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import type { NativeRequests } from '../src/correlator/native-requests.js';
import { flowEvent, httpRecord, lines, T0_US } from './helpers/correlator-records.js';
import { mutations, run as runBoth, same, seeded, withInvalidBytes } from './helpers/correlator-differential.js';

/** The same TLS batch and HTTP batches through one correlator of `format`. */
const run = (format: 'JSONEachRow' | 'Native', tls: Buffer, http: Buffer[], options = {}) => runBoth(format, [tls], http, options);

const S = 1_000_000;

/** Records on 8 connections: TLS seen for ports 50000-50005, not for 50006; 50007 plain HTTP. */
function baseRecords(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 24; i++) {
    const port = 50000 + (i % 8);
    out.push(httpRecord({ ts: T0_US + S + i * 1000, port, n: 1 + Math.floor(i / 8), scheme: port === 50007 ? 'http' : 'https', uri: `/p/${i}?q=${i}` }));
  }
  return out;
}

function tlsBatch(): Buffer {
  return lines(...[0, 1, 2, 3, 4, 5].map((k) => flowEvent({ first: T0_US + k * 100, port: 50000 + k, ja4: k % 2 ? 'ja4_b' : 'ja4_a' })));
}

t.test('plain records: every one parsed natively, the same rows as the JavaScript path', async (t) => {
  const http = [lines(...baseRecords())];
  const js = run('JSONEachRow', tlsBatch(), http);
  const native = run('Native', tlsBatch(), http);
  same(t, js, native, 'plain');
  t.equal(native.native!.slowLines, 0, 'no line left to the JavaScript reader');
  t.equal(js.ingest.length, 24);
  t.same(new Set(js.ingest.map((r) => r.correlation_status)), new Set(['matched', 'tls_not_seen', 'no_tls']), 'all three statuses covered');
  t.same(native.native!.store.stats(), { records: 0, tls: 6 }, 'records released with their rows; the six live connections keep their columns');
});

// Each edit is applied to one record's JSON text; the JavaScript reader
// accepts some (the native parser then leaves them to it) and drops others.
const EDITS: [string, string][] = [
  ['"status":200', '"status":200.0'],
  ['"status":200', '"status":2e2'],
  ['"status":200', '"status":-0'],
  ['"status":200', '"status":0200'],
  ['"status":200', '"status":70000'],
  ['"status":200', '"status":"200"'],
  ['"dur_us":480', '"dur_us":480,"dur_us":481'],
  ['"uri":"/p/', '"uri":"\\ud800/p/'],
  ['"uri":"/p/', '"uri":"\\ud83d\\ude00\\u00e9\\n\\"\\\\\\/p/'],
  ['"uri":"/p/', '"uri":"\u00ff\u4e2d/p/'],
  ['"uri":"/p/', '"uri":"\t/p/'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"::FFFF:203.0.113.7"'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"::ffff:203.0.113.7"'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"2001:DB8::7"'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"fe80::7%eth0"'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"203.0.113.07"'],
  ['"local_ip":"192.0.2.10"', '"local_ip":null'],
  ['"local_ip":"192.0.2.10"', '"local_ip":""'],
  ['"conn":"c-', '"conn":"caf\\u00e9-'],
  ['"accept":"text/html"', '"123":"x","accept":"text/html"'],
  ['"accept":"text/html"', '"accept":"text/html","accept":"y"'],
  ['"Accept-Language"', '"Accept-\u212aanguage"'],
  ['"Cookie"', '"Co\u212aie"'],
  ['"cookies":["sid","theme"]', '"cookies":["z\u00e9","a"]'],
  ['"accept-language":"en-US,en;q=0.9"', '"accept-language":"\u00e9n-US"'],
  ['"method":"GET"', '"method":"G\u00c9T"'],
  ['"method":"GET"', '"method":null'],
  ['"truncated":[]', '"truncated":["uri"]'],
  ['"truncated":[]', '"truncated":null'],
  ['"tls":{', '"tls":{"sni":"dup",'],
  ['"tls":{', '"tls":{"extra":[1,{"a":null}],'],
  ['"v":1,', '"v":[[[[[[1]]]]]],'],
  ['"v":1,', ''],
  ['"headers":{', '"headers":null,"x":{'],
  ['"ts_us":', '"ts_us":1e3,"y":'],
  ['"client_ip":"203.0.113.7"', '"client_ip":"::1\\u0000junk"'], // found by review (session 11): inet_pton stopped at the NUL
];

t.test('hostile edits: the native path decides every line as the JavaScript path does', async (t) => {
  const base = baseRecords().map((r) => JSON.stringify(r));
  const edited: string[] = [];
  EDITS.forEach(([from, to], i) => {
    const line = base[i % base.length]!;
    t.ok(line.includes(from), `edit ${i} applies`);
    edited.push(line.replace(from, to));
  });
  edited.push('', '\r', '[1]', '{}', '{"ts_us":1', 'not json', `\ufeff${base[0]}`, `${base[1]} \r`, `${base[2]}x`);
  // found by review: each once on the native parser's path, once left to the
  // JavaScript reader (a 200.0 status) and re-written canonically
  const both = (line: string): string[] => [line, line.replace('"status":200', '"status":200.0')];
  edited.push(
    // not IPv4-mapped: "::ffff:" then an IPv6 tail (cut at 7 it was no address)
    ...both(base[3]!.replace('"client_ip":"203.0.113.7"', '"client_ip":"::ffff:0:1.2.3.4"')),
    // an IPv6 zone (left to the JavaScript reader) and an upper-case mapped prefix (taken natively): normalized alike
    ...both(base[3]!.replace('"client_ip":"203.0.113.7"', '"client_ip":"fe80::1%eth0"')),
    ...both(base[3]!.replace('"client_ip":"203.0.113.7"', '"client_ip":"::FFFF:203.0.113.7"')),
    // a header named __proto__ (through an object it set the prototype)
    ...both(base[4]!.replace('"accept":"text/html"', '"__proto__":"p","accept":"text/html"')),
    // two names that differ only in a lone surrogate (made well-formed, they were one)
    ...both(base[5]!.replace('"accept":"text/html"', '"x\\ud800":"1","x\\ud801":"2","accept":"text/html"')),
  );
  const http = [Buffer.from(edited.map((l) => `${l}\n`).join('')), lines(...baseRecords())];
  const js = run('JSONEachRow', tlsBatch(), http);
  const native = run('Native', tlsBatch(), http);
  same(t, js, native, 'edits');
  const n = native.native!;
  // the edits the parser must leave to the JavaScript reader, and the junk lines (a change here is a change of what the parser takes)
  t.equal(n.slowLines, 35, `lines left to the JavaScript reader (${n.slowLines})`);
  t.ok(js.drops.http.schema_invalid! > 0 && js.drops.http.not_json! > 0, 'both kinds of drop covered');
  t.same(n.store.stats().records, 0, 'no record left behind');
});

t.test('seeded random mutations of records: the same decisions and rows', async (t) => {
  const base = baseRecords().map((r) => JSON.stringify(r));
  const rnd = seeded(42);
  // raw bytes too: invalid UTF-8 where the text had a character
  const bytes = withInvalidBytes(mutations(base, 3000, rnd), 200, rnd);
  const http = [bytes, lines(...baseRecords())];
  const js = run('JSONEachRow', tlsBatch(), http);
  const native = run('Native', tlsBatch(), http);
  same(t, js, native, 'mutations');
  const d = js.drops;
  t.ok(js.ingest.length > 500 && (d.http.not_json ?? 0) > 500, `a mix of accepted (${js.ingest.length} rows) and dropped lines (${JSON.stringify(d.http)})`);
  t.same(native.native!.store.stats().records, 0, 'no record left behind');
});

t.test('oversized lines are counted as the JavaScript path counts them', async (t) => {
  const big = JSON.stringify(httpRecord({ ts: T0_US + S, uri: `/${'a'.repeat(3000)}` }));
  const wide = JSON.stringify(httpRecord({ ts: T0_US + S, uri: `/${'\u00e9'.repeat(1200)}` })); // 1200 UTF-16 units, 2400 bytes
  const http = [Buffer.from(`${big}\n${wide}\n`)];
  const js = run('JSONEachRow', tlsBatch(), http, { maxLineBytes: 2048 });
  const native = run('Native', tlsBatch(), http, { maxLineBytes: 2048 });
  same(t, js, native, 'oversized');
  t.equal(native.drops.http.oversized, 2);
});

t.test('live clock: a record far from now is dropped and its native record released', async (t) => {
  const bc = new BatchCorrelator({ clock: 'wall', format: 'Native' });
  const now = T0_US + 10 * S;
  bc.process(lines(httpRecord({ ts: now - 30 * 86_400 * S }), httpRecord({ ts: now, port: 50001 })), undefined, now);
  bc.flush();
  t.equal(bc.stats().drops.http.schema_invalid, 1);
  t.equal((bc as unknown as { native: NativeRequests }).native.store.stats().records, 0);
});

t.test("connections' TLS columns are freed when the connections leave", async (t) => {
  const bc = new BatchCorrelator({ clock: 'event', format: 'Native', windowMs: 10_000, idleTimeoutMs: 10_000, rawTables: false });
  const store = (bc as unknown as { native: NativeRequests }).native.store;
  bc.process(lines(...baseRecords()), tlsBatch(), 0);
  t.equal(store.stats().tls, 6, 'six connections had rows');
  // an hour later: every connection is past its window and leaves at the sweep
  bc.process(lines(httpRecord({ ts: T0_US + 3600 * S, port: 60000 })), undefined, 0);
  bc.process(lines(httpRecord({ ts: T0_US + 3602 * S, port: 60001 })), undefined, 0);
  bc.flush();
  t.equal(store.stats().tls, 0, 'no TLS columns left');
  t.equal(store.stats().records, 0, 'no records left');
});
