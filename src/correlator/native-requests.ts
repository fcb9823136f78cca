// The correlator's native request path, for `ja4 run`'s Native inserts:
// mod_reqin_log lines are parsed in C++ (native/core/reqin_record.h)
// straight into the bytes of their columns, which stay there until the
// block is written (native/core/request_blocks.h). JavaScript gets only
// what the join reads (time, addresses, connection id) and decides which
// connection each request joined; no per-field object, string or column
// write per request on this side. JSON.parse and the JavaScript column
// writers were two thirds of the correlator worker's CPU (docs/correlator.md).
//
// A line the native parser refuses is not lost: it is read by the
// JavaScript reader (JSON.parse, toHttpRecord), which counts it by reason
// as before, or accepts it and hands it back re-written in the canonical
// form the parser takes, with the JA4H it computed (parse_canonical). So
// every line is decided by the same rules as the JavaScript path, and
// test/correlator-native-requests.test.ts compares the two on hostile input.
import { loadAddon, type NativeRequestStore } from '../native/addon.js';
import { toHttpRecord, type HttpRecord, type JoinRecord } from './http-record.js';
import { forEachJsonLine, type DropCounters } from './input-lines.js';
import { ja4hCached } from './ja4h.js';

/** A request whose columns are in the native store, under `id`. */
export interface NativeHttpRecord extends JoinRecord {
  readonly id: number;
}

// parse()'s numbers per line (native/binding/request_store_binding.cc)
const LINE_ID = 0;
const LINE_TS = 1;
const LINE_CLIENT_PORT = 2;
const LINE_LOCAL_PORT = 3;
const LINE_TLS = 4;
const LINE_START = 5;
const LINE_END = 6;
const LINE_STRIDE = 7;

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

/** Lone surrogates as U+FFFD: what the UTF-8 encoder writes for them anyway, and what the native parser takes. */
function wellFormed(s: string): string {
  const w = s as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}

/**
 * A record the JavaScript reader accepted, as one canonical mod_reqin_log
 * line (the fields the columns hold). The headers are written pair by pair,
 * in the order the JavaScript encoders write them: through an object, a
 * "__proto__" name would set the prototype, and two names that differ only
 * in a lone surrogate would become one.
 */
export function canonicalLine(r: HttpRecord): Buffer {
  let headers = '';
  for (const k of Object.keys(r.headers)) headers += `${headers === '' ? '' : ','}${JSON.stringify(wellFormed(k))}:${JSON.stringify(wellFormed(r.headers[k]!))}`;
  const text = JSON.stringify({
    ts_us: r.ts_us,
    dur_us: r.dur_us,
    conn: r.conn,
    req_n: r.req_n,
    client_ip: r.client_ip,
    client_port: r.client_port,
    local_ip: r.local_ip,
    local_port: r.local_port,
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    uri: r.uri,
    proto: r.proto,
    status: r.status,
    bytes_in: r.bytes_in,
    bytes_out: r.bytes_out,
    unique_id: r.unique_id,
    tls: r.tls ?? null,
    header_order: r.header_order,
    cookies: r.cookies,
    truncated: r.truncated ? ['*'] : [],
  }, (_k, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v));
  return Buffer.from(`${text.slice(0, -1)},"headers":{${headers}}}`, 'utf8');
}

export class NativeRequests {
  readonly store: NativeRequestStore = new (loadAddon().RequestStore)();
  /** lines the native parser left to the JavaScript reader (accepted or not) */
  slowLines = 0;

  /**
   * Calls `onRecord` for each record of `batch` (newline-separated lines),
   * in line order; rejected lines are counted in `drops` by reason, as
   * forEachJsonLine counts them.
   */
  forEach(batch: Buffer, maxLineBytes: number, drops: DropCounters, onRecord: (r: NativeHttpRecord) => void): void {
    const [lines, text, ends] = this.store.parse(batch, maxLineBytes);
    let t = 0;
    let at = 0;
    for (let i = 0; i < lines.length; i += LINE_STRIDE) {
      const id = lines[i + LINE_ID]!;
      if (id < 0) {
        this.slowLines++;
        this.readSlowly(batch.subarray(lines[i + LINE_START], lines[i + LINE_END]), maxLineBytes, drops, onRecord);
        continue;
      }
      const ipEnd = ends[t]!;
      const localEnd = ends[t + 1]!;
      const connEnd = ends[t + 2]!;
      t += 3;
      onRecord({
        id,
        ts_us: lines[i + LINE_TS]!,
        conn: text.slice(localEnd, connEnd),
        client_ip: text.slice(at, ipEnd),
        client_port: lines[i + LINE_CLIENT_PORT]!,
        local_ip: text.slice(ipEnd, localEnd),
        local_port: lines[i + LINE_LOCAL_PORT]!,
        tls_request: lines[i + LINE_TLS] === 1,
      });
      at = connEnd;
    }
  }

  /** A record that will have no row. */
  release(r: NativeHttpRecord): void {
    this.store.release(r.id);
  }

  /** One refused line through the JavaScript reader, and back into the store when it is a record. */
  private readSlowly(line: Buffer, maxLineBytes: number, drops: DropCounters, onRecord: (r: NativeHttpRecord) => void): void {
    forEachJsonLine(line, maxLineBytes, drops, (o) => {
      const r = toHttpRecord(o);
      const id = r ? this.store.parseCanonical(canonicalLine(r), ja4hCached(r)) : -1;
      // a record the JavaScript reader took and the parser still refuses
      // (an IPv6 text node:net accepts and inet_pton does not) is counted
      // with the invalid ones: it could not be stored as one either
      if (!r || id < 0) {
        drops.schema_invalid++;
        return;
      }
      onRecord({
        id,
        ts_us: r.ts_us,
        conn: r.conn,
        client_ip: r.client_ip,
        client_port: r.client_port,
        local_ip: r.local_ip,
        local_port: r.local_port,
        tls_request: r.tls_request,
      });
    });
  }
}
