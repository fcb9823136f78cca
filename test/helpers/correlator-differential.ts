// The correlator's native paths (Native format: mod_reqin_log records and
// TLS events parsed in C++) against the JavaScript path (JSON.parse,
// toHttpRecord, toTlsInput, the JSONEachRow encoder) on the same input:
// the tests of both native readers (test/correlator-native-requests.test.ts,
// test/correlator-native-tls.test.ts) run the same batches through each and
// compare what they dropped, how they joined, and the rows of the three
// tables, read back into the same forms.
import type { Test } from 'tap';
import { BatchCorrelator, type BatchCorrelatorOptions } from '../../src/correlator/batch-correlator.js';
import type { NativeRequests } from '../../src/correlator/native-requests.js';
import type { NativeTlsEvents } from '../../src/correlator/native-tls-events.js';
import { RowBinaryWriter } from '../../src/correlator/row-binary-writer.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from '../../src/correlator/rows-binary.js';
import { rowsOf } from './correlator-records.js';
import { nativeRows, type Cell } from './native-block.js';

const IP_COLUMNS = new Set(['client_ip', 'server_ip', 'local_ip']);

const wellFormed = (s: string): string => (s as string & { toWellFormed(): string }).toWellFormed();

/** A JSONEachRow row in the forms the Native reader gives (IPv6 as 16 bytes of hex, text as UTF-8 decodes it back). */
function comparable(row: Record<string, unknown>, columns: readonly string[]): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const c of columns) {
    const v = row[c];
    if (IP_COLUMNS.has(c)) {
      const w = new RowBinaryWriter(16);
      w.ipv6(v === '::' ? '' : (v as string));
      out[c] = w.take().toString('hex');
    } else if (typeof v === 'string') out[c] = wellFormed(v);
    else if (Array.isArray(v)) out[c] = v.map((s: string) => wellFormed(s));
    else if (v !== null && typeof v === 'object') out[c] = Object.entries(v as Record<string, string>).map(([k, x]): [string, string] => [wellFormed(k), wellFormed(x)]);
    else out[c] = v as Cell;
  }
  return out;
}

export interface Outcome {
  drops: { http: Record<string, number>; tls: Record<string, number> };
  correlator: unknown;
  ingest: Record<string, Cell>[];
  requests: Record<string, Cell>[];
  tlsEvents: Record<string, Cell>[];
  /** the Native correlator's readers */
  native?: NativeRequests;
  nativeTls?: NativeTlsEvents;
}

/** The TLS batches, then the HTTP batches, through one correlator of `format` (raw tables on unless `options` says). */
export function run(format: 'JSONEachRow' | 'Native', tls: Buffer[], http: Buffer[], options: BatchCorrelatorOptions = {}): Outcome {
  const bc = new BatchCorrelator<typeof format>({ clock: 'event', rawTables: true, ...options, format } as BatchCorrelatorOptions<typeof format>);
  const ingest: Record<string, Cell>[] = [];
  const requests: Record<string, Cell>[] = [];
  const tlsEvents: Record<string, Cell>[] = [];
  const collect = (out: { ingest: string | Buffer; requests: string | Buffer; tlsEvents: string | Buffer }): void => {
    if (format === 'Native') {
      ingest.push(...nativeRows(out.ingest as Buffer));
      requests.push(...nativeRows(out.requests as Buffer));
      tlsEvents.push(...nativeRows(out.tlsEvents as Buffer));
    } else {
      ingest.push(...rowsOf(out.ingest as string).map((r) => comparable(r, INGEST_COLUMNS)));
      requests.push(...rowsOf(out.requests as string).map((r) => comparable(r, REQUEST_COLUMNS)));
      tlsEvents.push(...rowsOf(out.tlsEvents as string).map((r) => comparable(r, TLS_EVENT_COLUMNS)));
    }
  };
  for (const b of tls) collect(bc.process(undefined, b, 0));
  for (const b of http) collect(bc.process(b, undefined, 0));
  collect(bc.flush());
  const s = bc.stats();
  const inner = bc as unknown as { native?: NativeRequests; nativeTls?: NativeTlsEvents };
  return { drops: s.drops, correlator: s.correlator, ingest, requests, tlsEvents, native: inner.native, nativeTls: inner.nativeTls };
}

/** `b` decided every line as `a` did and wrote the same rows. */
export function same(t: Test, a: Outcome, b: Outcome, what: string): void {
  t.same(b.drops, a.drops, `${what}: the same lines dropped, for the same reasons`);
  t.same(b.correlator, a.correlator, `${what}: the same joins`);
  t.equal(b.ingest.length, a.ingest.length, `${what}: as many http_logs_ingest rows`);
  t.same(b.ingest, a.ingest, `${what}: the same http_logs_ingest rows`);
  t.same(b.requests, a.requests, `${what}: the same http_requests rows`);
  t.equal(b.tlsEvents.length, a.tlsEvents.length, `${what}: as many tls_events rows`);
  t.same(b.tlsEvents, a.tlsEvents, `${what}: the same tls_events rows`);
}

/** A seeded generator of integers below n (the same mutations on every run). */
export function seeded(seed: number): (n: number) => number {
  return (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
}

/** JSON's syntax, digits, a control byte, non-ASCII, lone surrogates, a character JavaScript lowercases to ASCII (U+212A). */
const ALPHABET = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '1', '9', '.', 'e', '-', 'n', 'u', ' ', '\u0000', '\u007f', '\u00e9', '\ud800', '\udc00', '\u212a', 'A'];

/** `count` copies of lines from `base`, each with 1 to 3 characters of ALPHABET written over or into it. */
export function mutations(base: readonly string[], count: number, rnd: (n: number) => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = base[rnd(base.length)]!;
    const edits = 1 + rnd(3);
    for (let k = 0; k < edits; k++) {
      const at = rnd(s.length);
      const c = ALPHABET[rnd(ALPHABET.length)]!;
      s = rnd(2) === 0 ? s.slice(0, at) + c + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at);
    }
    out.push(s);
  }
  return out;
}

/** The lines as one batch, with `n` bytes made invalid UTF-8 where the text had a character. */
export function withInvalidBytes(lines: readonly string[], n: number, rnd: (n: number) => number): Buffer {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  for (let i = 0; i < n; i++) bytes[rnd(bytes.length)] = [0xff, 0xc0, 0xed, 0xf4, 0x80][rnd(5)]!;
  return bytes;
}
