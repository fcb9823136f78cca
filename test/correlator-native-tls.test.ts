// The correlator's native TLS event path (Native format: flow and close
// events parsed in C++, a flow's TLS columns written there) against the
// JavaScript path (JSON.parse, toTlsInput, the JSONEachRow encoder) on the
// same input: hostile edits of flow and close events, seeded random
// mutations of them, and events the JavaScript reader accepts but the
// native parser leaves to it (ports written 443.0, duplicate keys, a null
// time, lone surrogates, IPv6 zones). Both must drop the same events for
// the same reasons, join the same requests to the same connections, and
// write the same http_logs_ingest and tls_events rows.
import t from 'tap';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import type { NativeRequests } from '../src/correlator/native-requests.js';
import { closeEvent, flowEvent, httpRecord, lines, T0_US } from './helpers/correlator-records.js';
import { mutations, run, same, seeded, withInvalidBytes } from './helpers/correlator-differential.js';

const S = 1_000_000;
const PORTS = 12;

/** Flow events on ports 50000..50011 (some closed), close events for four of them. */
function baseEvents(): string[] {
  const out: string[] = [];
  for (let k = 0; k < PORTS; k++) out.push(JSON.stringify(flowEvent({ first: T0_US + k * 100, port: 50000 + k, ja4: `ja4_${k}` })));
  for (const k of [1, 4, 7, 10]) out.push(JSON.stringify(closeEvent({ first: T0_US + k * 100, port: 50000 + k, last: T0_US + 2 * S, reason: k === 7 ? 'idle' : 'fin' })));
  return out;
}

/** Two requests per port, after the events, and one for a port no event names. */
function requests(): Buffer {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 2 * PORTS; i++) out.push(httpRecord({ ts: T0_US + S + i * 1000, port: 50000 + (i % PORTS), n: 1 + Math.floor(i / PORTS), uri: `/p/${i}` }));
  out.push(httpRecord({ ts: T0_US + S, port: 59999 }));
  return lines(...out);
}

const batch = (ls: readonly string[]): Buffer => Buffer.from(ls.map((l) => `${l}\n`).join(''));

t.test('plain events: every one parsed natively, the same joins and rows as the JavaScript path', async (t) => {
  const tls = [batch(baseEvents())];
  const js = run('JSONEachRow', tls, [requests()]);
  const native = run('Native', tls, [requests()]);
  same(t, js, native, 'plain');
  t.equal(native.nativeTls!.slowLines, 0, 'no event left to the JavaScript reader');
  t.equal(js.tlsEvents.length, PORTS, 'a tls_events row per flow');
  t.equal(js.ingest.filter((r) => r.correlation_status === 'matched').length, 2 * PORTS, 'every request on a port with a flow joined it');
  t.same(new Set(js.ingest.map((r) => r.ja4)), new Set(['', ...Array.from({ length: PORTS }, (_, k) => `ja4_${k}`)]));
});

// Each edit applies to one event's JSON text (flows are lines 0..11, closes
// 12..15); the JavaScript reader accepts some (the native parser then
// leaves them to it) and drops others.
const CERTS = '"tls_certs":[{"x509":[{"ja4x":"a373a9f83c6b_a373a9f83c6b_795797892f9c","ja4x_r":"r"}]}]';
const EDITS: [number, string, string][] = [
  [0, '"src_port":50000', '"src_port":50000.0'],
  [1, '"src_port":50001', '"src_port":5.0001e4'],
  [2, '"src_port":50002', '"src_port":70000'],
  [3, '"dst_port":443', '"dst_port":"443"'],
  [4, '"dst_port":443', '"dst_port":443,"dst_port":444'],
  [5, '"event":"flow",', ''],
  [6, '"event":"flow"', '"event":"FLOW"'],
  [7, '"event":"flow"', '"event":null'],
  [8, '"transport":"tcp"', '"transport":"udp"'],
  [9, '"transport":"tcp"', '"transport":"sctp"'],
  [10, '"transport":"tcp",', ''],
  [11, '"src":"203.0.113.7"', '"src":"::FFFF:203.0.113.7"'],
  [0, '"src":"203.0.113.7"', '"src":"2001:DB8::7"'],
  [1, '"src":"203.0.113.7"', '"src":"fe80::7%eth0"'],
  [2, '"src":"203.0.113.7"', '"src":"203.0.113.07"'],
  [3, '"src":"203.0.113.7"', '"src":"::ffff:0:1.2.3.4"'],
  [4, '"dst":"192.0.2.10"', '"dst":"::ffff:192.0.2.10"'],
  [5, '"dst":"192.0.2.10"', '"dst":""'],
  [6, '"src":"203.0.113.7"', '"src":"::1\\u0000junk"'], // found by review: inet_pton stopped at the NUL
  [7, '"dst":"192.0.2.10"', '"dst":"2001:db8::1\\u0000"'],
  [14, '"src":"203.0.113.7"', '"src":"::f\\u0000ff:1.2.3.4"'],
  [6, '"first_ts_us":', '"first_ts_us":null,"x":'],
  [7, '"last_ts_us":', '"y":'],
  [8, '"client_ttl":64', '"client_ttl":64.0'],
  [9, '"client_ttl":64', '"client_ttl":300'],
  [10, '"client_ttl":64', '"client_ttl":null'],
  [11, '"client_ttl":64', '"client_ttl":0'],
  [0, '"tls_server_name":"www.example.org"', '"tls_server_name":null'],
  [1, '"tls_server_name":"www.example.org"', '"tls_server_name":"\\ud800.example"'],
  [2, '"tls_server_name":"www.example.org"', '"tls_server_name":"caf\\u00e9.example"'],
  [3, '"tls_server_name":"www.example.org"', '"tls_server_name":"b\u00fccher.example"'],
  [4, '"tls_server_name":"www.example.org"', '"tls_server_name":5'],
  [5, '"alpn":"h2"', '"alpn":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"'],
  [6, '"ja4_ro":"rawo"', '"ja4_ro":null'],
  [7, '"ja4_ro":"rawo"', '"ja4_ro":"rawo","sensor":"s1"'],
  [8, '"ja4_ro":"rawo"', '"ja4_ro":"rawo","sensor":7'],
  [9, '"closed":false', '"closed":true'],
  [10, '"closed":false', '"closed":1'],
  [11, '"closed":false', '"closed":"true"'],
  [0, CERTS, '"tls_certs":[]'],
  [1, CERTS, '"tls_certs":null'],
  [2, CERTS, '"tls_certs":[null]'],
  [3, CERTS, '"tls_certs":[[1,2]]'],
  [4, CERTS, '"tls_certs":[{"x509":null},{"x509":{"ja4x":"z"}}]'],
  [5, CERTS, '"tls_certs":[{"x509":[1,"s",null,[],{"ja4x":5},{"ja4x":"b"},{"ja4x":"c","ja4x":"d"}]}]'],
  [6, CERTS, '"tls_certs":[{"x509":[{"ja4x":"a"}],"x509":[{"ja4x":"b"}]}]'],
  [7, CERTS, '"tls_certs":[{"x509":[{"ja4x":"a"},{"ja4x":"b"}]},{"x509":[{"ja4x":"\\u00e9"},{"ja4x":""}],"other":[{"ja4x":"no"}]}]'],
  [8, CERTS, '"tls_certs":{"x509":[]}'],
  [9, CERTS, '"tls_certs":[5]'],
  [10, CERTS, '"tls_certs":[{"x509":[{"ja4x":"a","sub":{"a":[[[{"b":-1.5e-3}]]]}}]}]'],
  [11, '"packets":6', '"packets":[[[[{"a":[1e5,-0.5,true,null]}]]]],"packets":7'],
  [0, '"packets":6', '"packets":01'],
  [1, '"ja4":"ja4_1"', '"ja4":"ja4_1","ja4":"ja4_x"'],
  [12, '"reason":"fin"', '"reason":"FIN"'],
  [13, '"reason":"fin"', '"reason":5'],
  [14, '"reason":"idle"', '"reason":"evicted"'],
  [15, ',"reason":"fin"', ''],
  [12, '"src_port":50001', '"src_port":50001.0'],
  [13, '"sensor":', '"sensor":null,"s":'],
];

t.test('hostile edits: the native path decides every event as the JavaScript path does', async (t) => {
  const base = baseEvents();
  // close events name no sensor: give them one to edit
  base[13] = base[13]!.replace('"reason"', '"sensor":"s","reason"');
  const edited = EDITS.map(([i, from, to], n) => {
    t.ok(base[i]!.includes(from), `edit ${n} applies`);
    return base[i]!.replace(from, to);
  });
  edited.push('', '\r', '[1]', '{}', '{"src":1', 'not json', `\ufeff${base[0]}`, `${base[1]} \r`, `${base[2]}x`);
  // the edited events first, then the plain ones (duplicates of some: counted as such)
  const tls = [batch(edited), batch(base)];
  const js = run('JSONEachRow', tls, [requests()]);
  const native = run('Native', tls, [requests()]);
  same(t, js, native, 'edits');
  const n = native.nativeTls!;
  // the edits the parser must leave to the JavaScript reader, and the junk lines (a change here is a change of what the parser takes)
  t.equal(n.slowLines, 43, `events left to the JavaScript reader (${n.slowLines} of ${edited.length})`);
  t.ok(js.drops.tls.schema_invalid! > 0 && js.drops.tls.not_json! > 0, 'both kinds of drop covered');
  t.ok(js.tlsEvents.some((r) => (r.ja4x as string[]).length === 4), 'a flow with four ja4x values written');
});

t.test('seeded random mutations of events: the same decisions and rows', async (t) => {
  const rnd = seeded(7);
  const tls = [withInvalidBytes(mutations(baseEvents(), 3000, rnd), 200, rnd)];
  const js = run('JSONEachRow', tls, [requests()]);
  const native = run('Native', tls, [requests()]);
  same(t, js, native, 'mutations');
  const d = js.drops.tls;
  t.ok(js.tlsEvents.length > 500 && d.not_json! > 500, `a mix of accepted (${js.tlsEvents.length} flows) and dropped events (${JSON.stringify(d)})`);
});

t.test('oversized events are counted as the JavaScript path counts them', async (t) => {
  const big = JSON.stringify(flowEvent({ first: T0_US, port: 50000, ja4: 'a'.repeat(3000) }));
  const wide = JSON.stringify(flowEvent({ first: T0_US, port: 50001, ja4: '\u00e9'.repeat(1200) })); // 2400 bytes in UTF-8
  const tls = [batch([big, wide])];
  const js = run('JSONEachRow', tls, [requests()], { maxLineBytes: 2048 });
  const native = run('Native', tls, [requests()], { maxLineBytes: 2048 });
  same(t, js, native, 'oversized');
  t.equal(native.drops.tls.oversized, 2);
});

t.test("a flow's TLS columns are stored once its first request uses them, and freed when it leaves", async (t) => {
  const bc = new BatchCorrelator({ clock: 'event', format: 'Native', windowMs: 10_000, idleTimeoutMs: 10_000, rawTables: false });
  const store = (bc as unknown as { native: NativeRequests }).native.store;
  bc.process(undefined, batch(baseEvents()), 0);
  t.equal(store.stats().tls, 0, 'flows without a request yet: nothing stored');
  bc.process(requests(), undefined, 0);
  t.equal(store.stats().tls, PORTS, 'each connection with requests: its columns, once');
  // an hour later every connection is past its window and leaves at the sweep
  bc.process(lines(httpRecord({ ts: T0_US + 3600 * S, port: 60000 })), undefined, 0);
  bc.process(lines(httpRecord({ ts: T0_US + 3602 * S, port: 60001 })), undefined, 0);
  bc.flush();
  t.same(store.stats(), { records: 0, tls: 0 }, 'nothing left');
});
