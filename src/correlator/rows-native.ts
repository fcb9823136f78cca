// Native-block encoding of the three tables the correlator writes: what
// `ja4 run` inserts into ClickHouse (native-columns.ts says why). The same
// values as the JSONEachRow (rows.ts) and RowBinary (rows-binary.ts)
// encoders (test/correlator-rowbinary.test.ts loads all three into the
// engine and compares the stored rows).
//
// http_logs_ingest and http_requests are written in C++ from the records'
// columns kept there (native-requests.ts, native/core/request_blocks.h):
// this encoder only lists, per row, which record, which connection's TLS
// columns (handed over once per connection) and which status. tls_events
// (one row per connection) is written here, column by column.
//
// A block names its columns, so their order is free; the insert still lists
// them (the *_COLUMNS lists, shared with RowBinary) so that a column a later
// migration adds takes its DEFAULT. Each table's block holds exactly the
// columns of its list: a mismatch throws at the first take() (and in tests).
import type { FlowEvent } from '../capture/tls-event.js';
import { loadAddon } from '../native/addon.js';
import { NativeColumn, StringArrayColumn, ValueColumn, writeNativeBlock } from './native-columns.js';
import type { NativeHttpRecord, NativeRequests } from './native-requests.js';
import type { NativeFlow } from './native-tls-events.js';
import { RowBinaryWriter } from './row-binary-writer.js';
import { EMPTY_BODY, type ConnectionEnds, type CorrelationStatus, type EncodedRows, type RowEncoder } from './row-encoder.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from './rows-binary.js';
import { ja4xList } from './tls-event-input.js';

const DATETIME64 = "DateTime64(6, 'UTC')";

/** The string fingerprint columns after alpn, in the order a NativeTls holds them. */
const FINGERPRINTS = ['ja4', 'ja4_r', 'ja4_o', 'ja3', 'ja4s', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s'] as const;

/**
 * A connection's TLS columns, encoded once (String bytes) into one buffer
 * and copied into the columns for each of its requests (keep-alive: many
 * requests, one handshake) and for its tls_events row.
 */
export interface NativeTls {
  /**
   * As the native store takes them (request_blocks.h TlsEntry): the flow's
   * sni, server address and port, TTL and ja4x count, then tls_version,
   * alpn, FINGERPRINTS' values and the ja4x strings, back to back. Written
   * by the native TLS event parser (tls_event_line.h), or by
   * encodeNativeTls for an event the JavaScript reader read.
   */
  bytes: Uint8Array;
  /** the native store's id of these columns: NOT_STORED until the first row uses them, UNSEEN for unseenTls */
  entry: number;
}

const NOT_STORED = -2;
const UNSEEN = -1;
const RELEASED = -3;

/** A request whose handshake was not seen: the native store takes its tls_version from the record. */
const UNSEEN_TLS: NativeTls = Object.freeze({ bytes: new Uint8Array(0), entry: UNSEEN });

/** A connection's TLS columns from their bytes (not in the native store until a row uses them). */
export const nativeTlsOf = (bytes: Uint8Array): NativeTls => ({ bytes, entry: NOT_STORED });

/** A flow event's TLS columns, as the native parser writes them (tls_event_line.cc), through `w`. */
export function encodeNativeTls(e: FlowEvent, w: RowBinaryWriter): NativeTls {
  const ja4x = ja4xList(e);
  w.string(e.tls_server_name ?? '');
  w.ipv6(e.dst);
  w.uint16(e.dst_port);
  w.uint8(e.client_ttl ?? 0);
  w.uint32(ja4x.length);
  w.string(e.tls_version ?? '');
  w.string(e.alpn ?? '');
  for (const k of FINGERPRINTS) w.string(e[k] ?? '');
  for (const s of ja4x) w.string(s);
  return nativeTlsOf(w.take());
}

/** The end of the String (LEB128 length, then the bytes) at bytes[at]. */
function stringEnd(bytes: Uint8Array, at: number): number {
  let len = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return at + len;
    shift += 7;
  }
}

const STATUS_CODES: Record<CorrelationStatus, number> = { matched: 0, no_tls: 1, tls_not_seen: 2 };

/** `a` in an array twice its size (the rest zero). */
function doubled<A extends Int32Array | Uint8Array>(a: A): A {
  const next = new (a.constructor as new (n: number) => A)(a.length * 2);
  next.set(a);
  return next;
}

/** Growable typed columns of the ingest rows: record id, TLS entry, status. */
class IngestRows {
  n = 0;
  records = new Int32Array(4096);
  tls = new Int32Array(4096);
  status = new Uint8Array(4096);

  push(record: number, tls: number, status: number): void {
    if (this.n === this.records.length) {
      this.records = doubled(this.records);
      this.tls = doubled(this.tls);
      this.status = doubled(this.status);
    }
    this.records[this.n] = record;
    this.tls[this.n] = tls;
    this.status[this.n++] = status;
  }
}

/** The native store's block columns must be the inserts' lists: checked once per process. */
let columnsChecked = false;
function checkStoreColumns(): void {
  if (columnsChecked) return;
  const { ingest, requests } = loadAddon().RequestStore.columns();
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((n, i) => n === b[i]);
  if (!same(ingest, INGEST_COLUMNS)) throw new Error(`native http_logs_ingest block columns ${ingest.join(',')} are not the insert's ${INGEST_COLUMNS.join(',')}`);
  if (!same(requests, REQUEST_COLUMNS)) throw new Error(`native http_requests block columns ${requests.join(',')} are not the insert's ${REQUEST_COLUMNS.join(',')}`);
  columnsChecked = true;
}

/** tls_version, alpn and FINGERPRINTS: the string columns of a NativeTls. */
const TLS_STRINGS = 2 + FINGERPRINTS.length;

/** One table's columns and the block they make. */
class NativeTable {
  rows = 0;
  private readonly byName = new Map<string, NativeColumn>();
  private ordered: NativeColumn[] | undefined;
  private readonly out = new RowBinaryWriter(256 << 10);

  constructor(
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  value(name: string, type: string): ValueColumn {
    return this.add(new ValueColumn(name, type));
  }

  array(name: string): StringArrayColumn {
    return this.add(new StringArrayColumn(name));
  }

  /** The block of the rows since the last take (empty when none): a view of the table's memory when `reuse`, else a copy. */
  take(reuse: boolean): Buffer {
    if (this.rows === 0) return EMPTY_BODY;
    writeNativeBlock(this.out, this.rows, (this.ordered ??= this.order()));
    this.rows = 0;
    return reuse ? this.out.view() : this.out.take();
  }

  private add<C extends NativeColumn>(c: C): C {
    this.byName.set(c.name, c);
    return c;
  }

  private order(): NativeColumn[] {
    const missing = this.columns.filter((n) => !this.byName.has(n));
    const extra = [...this.byName.keys()].filter((n) => !this.columns.includes(n));
    if (missing.length > 0 || extra.length > 0) throw new Error(`Native ${this.table} block: columns missing ${missing.join(', ') || '-'}, not in the insert ${extra.join(', ') || '-'}`);
    return this.columns.map((n) => this.byName.get(n)!);
  }
}

/** Value columns from `{ name: type }`, added to the table in that order. */
function valueColumns<K extends string>(t: NativeTable, spec: Record<K, string>): Record<K, ValueColumn> {
  const out = {} as Record<K, ValueColumn>;
  for (const name of Object.keys(spec) as K[]) out[name] = t.value(name, spec[name]);
  return out;
}

/** tls_version, alpn, ja4 .. ja4l_s, ja4x, client_ttl: a connection's columns in http_logs_ingest and tls_events. */
class TlsColumns {
  /** in NativeTls order */
  private readonly strings: ValueColumn[];
  private readonly ja4x: StringArrayColumn;
  private readonly ttl: ValueColumn;

  constructor(t: NativeTable) {
    this.strings = ['tls_version', 'alpn', ...FINGERPRINTS].map((n) => t.value(n, 'String'));
    this.ja4x = t.array('ja4x');
    this.ttl = t.value('client_ttl', 'UInt8');
  }

  /** The connection's columns, read from its bytes (NativeTls); the sni's end, for tls_events. */
  append(tls: NativeTls): number {
    const { bytes } = tls;
    // after the sni: the server address (16 bytes) and port (2), the TTL (1), the ja4x count (4), the Strings
    const sniEnd = stringEnd(bytes, 0);
    const ttl = bytes[sniEnd + 18]!;
    const ja4xCount = new DataView(bytes.buffer, bytes.byteOffset + sniEnd + 19, 4).getUint32(0, true);
    let at = sniEnd + 23;
    for (let i = 0; i < TLS_STRINGS; i++) {
      const end = stringEnd(bytes, at);
      this.strings[i]!.bytes(bytes, at, end);
      at = end;
    }
    this.ja4x.encoded(ja4xCount, bytes, at, bytes.length);
    this.ttl.uint8(ttl);
    return sniEnd;
  }
}

/** client_ip, client_port and the server's address and port (Apache's local one in http_requests): every table has them. */
class EndpointColumns {
  private readonly clientIp: ValueColumn;
  private readonly clientPort: ValueColumn;
  private readonly serverIp: ValueColumn;
  private readonly serverPort: ValueColumn;

  constructor(t: NativeTable, server: 'server' | 'local') {
    this.clientIp = t.value('client_ip', 'IPv6');
    this.clientPort = t.value('client_port', 'UInt16');
    this.serverIp = t.value(`${server}_ip`, 'IPv6');
    this.serverPort = t.value(`${server}_port`, 'UInt16');
  }

  append(clientIp: string, clientPort: number, serverIp: string, serverPort: number): void {
    this.clientIp.ipv6(clientIp);
    this.clientPort.uint16(clientPort);
    this.serverIp.ipv6(serverIp);
    this.serverPort.uint16(serverPort);
  }
}

class TlsEventTable {
  readonly t = new NativeTable('tls_events', TLS_EVENT_COLUMNS);
  readonly v = valueColumns(this.t, { ts: DATETIME64, last_ts: DATETIME64, transport: 'String', sni: 'String', closed: 'Bool' });
  readonly endpoints = new EndpointColumns(this.t, 'server');
  readonly tls = new TlsColumns(this.t);
}

export class NativeRowEncoder implements RowEncoder<NativeTls, Buffer, NativeHttpRecord, NativeFlow> {
  readonly format = 'Native' as const;
  private readonly tlsT = new TlsEventTable();
  private readonly rows = new IngestRows();
  private requestIds = new Int32Array(4096);
  private requestCount = 0;

  /**
   * `requests`: the store the batch's records were parsed into.
   * `reuseBuffers`: the tls_events block is a view of the encoder's buffer,
   * valid until the next take() (the worker copies it into its result at
   * once); otherwise a copy.
   */
  constructor(
    private readonly requests: NativeRequests,
    private readonly reuseBuffers = false,
  ) {
    checkStoreColumns();
  }

  /** encoded when the event was read (native-tls-events.ts) */
  connectionTls(e: NativeFlow): NativeTls {
    return e.tls;
  }

  unseenTls(): NativeTls {
    return UNSEEN_TLS;
  }

  // the row's sni and server end follow rowSni and rowServer* (row-encoder.ts)
  // in C++, from the record and the connection's stored columns
  ingest(r: NativeHttpRecord, tls: NativeTls, _conn: ConnectionEnds | undefined, status: CorrelationStatus): void {
    let entry = tls.entry;
    if (entry === NOT_STORED) {
      entry = this.requests.store.addTls(tls.bytes);
      if (entry < 0) throw new Error('native store refused a connection\'s TLS columns');
      tls.entry = entry;
    }
    this.rows.push(r.id, entry, STATUS_CODES[status]);
  }

  request(r: NativeHttpRecord): void {
    if (this.requestCount === this.requestIds.length) this.requestIds = doubled(this.requestIds);
    this.requestIds[this.requestCount++] = r.id;
  }

  releaseTls(tls: NativeTls): void {
    if (tls.entry >= 0) this.requests.store.releaseTls(tls.entry);
    if (tls.entry !== UNSEEN) tls.entry = RELEASED;
  }

  tlsEvent(e: NativeFlow): void {
    const c = this.tlsT;
    const v = c.v;
    v.ts.uint64(e.first_ts_us);
    v.last_ts.uint64(e.last_ts_us);
    v.transport.string(e.transport);
    c.endpoints.append(e.src, e.src_port, e.dst, e.dst_port);
    const sniEnd = c.tls.append(e.tls);
    v.sni.bytes(e.tls.bytes, 0, sniEnd);
    v.closed.bool(e.closed);
    c.t.rows++;
  }

  take(): EncodedRows<Buffer> {
    const store = this.requests.store;
    const rows = this.rows;
    // http_requests first: the ingest block releases its records
    const requests = this.requestCount > 0 ? store.requestsBlock(this.requestIds, this.requestCount) : EMPTY_BODY;
    const out: EncodedRows<Buffer> = {
      format: this.format,
      ingestRows: rows.n,
      requestRows: this.requestCount,
      tlsEventRows: this.tlsT.t.rows,
      ingest: store.ingestBlock(rows.records, rows.tls, rows.status, rows.n),
      requests,
      tlsEvents: this.tlsT.t.take(this.reuseBuffers),
    };
    rows.n = 0;
    this.requestCount = 0;
    return out;
  }
}
