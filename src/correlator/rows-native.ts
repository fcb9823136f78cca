// Native-block encoding of the three tables the correlator writes: what
// `ja4 run` inserts into ClickHouse (native-columns.ts says why). The same
// values as the JSONEachRow (rows.ts) and RowBinary (rows-binary.ts)
// encoders (test/correlator-rowbinary.test.ts loads all three into the engine
// and compares the stored rows). Each row appends to every column of its
// table; take() emits one block per table with the rows since the last one.
//
// A block names its columns, so their order is free; the insert still lists
// them (the *_COLUMNS lists, shared with RowBinary) so that a column a later
// migration adds takes its DEFAULT. Each table's block holds exactly the
// columns of its list: a mismatch throws at the first take() (and in tests).
import type { FlowEvent } from '../capture/tls-event.js';
import type { HttpRecord } from './http-record.js';
import { NativeColumn, StringArrayColumn, StringMapColumn, ValueColumn, writeNativeBlock } from './native-columns.js';
import { RowBinaryWriter } from './row-binary-writer.js';
import { requestId, type CorrelationStatus, type EncodedRows, type RowEncoder } from './row-encoder.js';
import { INGEST_COLUMNS, REQUEST_COLUMNS, TLS_EVENT_COLUMNS } from './rows-binary.js';
import { ja4xList } from './tls-event-input.js';

const DATETIME64 = "DateTime64(6, 'UTC')";
const EMPTY = Buffer.alloc(0);

/** The string fingerprint columns after alpn, in the order a NativeTls holds them. */
const FINGERPRINTS = ['ja4', 'ja4_r', 'ja4_o', 'ja3', 'ja4s', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s'] as const;

/**
 * A connection's TLS columns, encoded once (String bytes) into one buffer
 * and copied into the columns for each of its requests (keep-alive: many
 * requests, one handshake) and for its tls_events row.
 */
export interface NativeTls {
  /** tls_version, alpn, FINGERPRINTS' values, then the ja4x strings, back to back */
  bytes: Uint8Array;
  /** where each string column's value ends in `bytes` (tls_version, alpn, FINGERPRINTS) */
  ends: number[];
  ja4xCount: number;
  ttl: number;
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

  map(name: string): StringMapColumn {
    return this.add(new StringMapColumn(name));
  }

  /** The block of the rows since the last take (empty when none): a view of the table's memory when `reuse`, else a copy. */
  take(reuse: boolean): Buffer {
    if (this.rows === 0) return EMPTY;
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

/** method .. cookie_names: the columns both http_logs_ingest and http_requests carry. */
class RequestFieldColumns {
  private readonly v: Record<'method' | 'scheme' | 'host' | 'uri' | 'protocol' | 'status' | 'bytes_in' | 'bytes_out', ValueColumn>;
  private readonly headerNames: StringArrayColumn;
  private readonly headers: StringMapColumn;
  private readonly cookieNames: StringArrayColumn;

  constructor(t: NativeTable) {
    this.v = valueColumns(t, { method: 'String', scheme: 'String', host: 'String', uri: 'String', protocol: 'String', status: 'UInt16', bytes_in: 'UInt64', bytes_out: 'UInt64' });
    this.headerNames = t.array('header_names');
    this.headers = t.map('headers');
    this.cookieNames = t.array('cookie_names');
  }

  append(r: HttpRecord): void {
    const v = this.v;
    v.method.string(r.method);
    v.scheme.string(r.scheme);
    v.host.string(r.host);
    v.uri.string(r.uri);
    v.protocol.string(r.proto);
    v.status.uint16(r.status);
    v.bytes_in.uint64(r.bytes_in);
    v.bytes_out.uint64(r.bytes_out);
    this.headerNames.strings(r.header_order);
    this.headers.map(r.headers);
    this.cookieNames.strings(r.cookies);
  }
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

  append(tls: NativeTls): void {
    const { bytes, ends } = tls;
    let at = 0;
    for (let i = 0; i < TLS_STRINGS; i++) {
      const end = ends[i]!;
      this.strings[i]!.bytes(bytes, at, end);
      at = end;
    }
    this.ja4x.encoded(tls.ja4xCount, bytes, at, bytes.length);
    this.ttl.uint8(tls.ttl);
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

class IngestTable {
  readonly t = new NativeTable('http_logs_ingest', INGEST_COLUMNS);
  readonly v = valueColumns(this.t, {
    ts: DATETIME64, request_id: 'String', conn_id: 'String', request_seq: 'UInt32', duration_us: 'UInt32', ja4h: 'String', tls_cipher: 'String', sni: 'String', correlation_status: 'String', truncated: 'Bool',
  });
  readonly endpoints = new EndpointColumns(this.t, 'server');
  readonly fields = new RequestFieldColumns(this.t);
  readonly tls = new TlsColumns(this.t);
}

class RequestTable {
  readonly t = new NativeTable('http_requests', REQUEST_COLUMNS);
  readonly v = valueColumns(this.t, {
    ts: DATETIME64, duration_us: 'UInt32', conn_id: 'String', request_seq: 'UInt32', unique_id: 'String', tls_protocol: 'String', tls_cipher: 'String', tls_sni: 'String', truncated: 'Bool',
  });
  readonly endpoints = new EndpointColumns(this.t, 'local');
  readonly fields = new RequestFieldColumns(this.t);
}

class TlsEventTable {
  readonly t = new NativeTable('tls_events', TLS_EVENT_COLUMNS);
  readonly v = valueColumns(this.t, { ts: DATETIME64, last_ts: DATETIME64, transport: 'String', sni: 'String', closed: 'Bool' });
  readonly endpoints = new EndpointColumns(this.t, 'server');
  readonly tls = new TlsColumns(this.t);
}

export class NativeRowEncoder implements RowEncoder<NativeTls, Buffer> {
  readonly format = 'Native' as const;
  private readonly ingestT = new IngestTable();
  private readonly requestT = new RequestTable();
  private readonly tlsT = new TlsEventTable();
  private readonly scratch = new RowBinaryWriter(4096);
  private readonly unseen = new Map<string, NativeTls>();
  /** the correlator asks for a flow's tls_events row, then for its connection's columns: encoded once for both */
  private lastEvent: FlowEvent | undefined;
  private lastTls: NativeTls | undefined;

  /**
   * `reuseBuffers`: take() returns views of the encoder's buffers, valid
   * until the next take() (the worker copies them into its result at once);
   * otherwise copies.
   */
  constructor(private readonly reuseBuffers = false) {}

  connectionTls(e: FlowEvent): NativeTls {
    if (this.lastEvent === e) return this.lastTls!;
    const w = this.scratch;
    const ends: number[] = [];
    w.string(e.tls_version ?? '');
    ends.push(w.length);
    w.string(e.alpn ?? '');
    ends.push(w.length);
    for (const k of FINGERPRINTS) {
      w.string(e[k] ?? '');
      ends.push(w.length);
    }
    const ja4x = ja4xList(e);
    for (const s of ja4x) w.string(s);
    const tls: NativeTls = { bytes: w.take(), ends, ja4xCount: ja4x.length, ttl: e.client_ttl ?? 0 };
    this.lastEvent = e;
    this.lastTls = tls;
    return tls;
  }

  unseenTls(version: string): NativeTls {
    let t = this.unseen.get(version);
    if (!t) {
      const w = this.scratch;
      w.string(version);
      const ends = [w.length];
      for (let i = 1; i < TLS_STRINGS; i++) {
        w.string('');
        ends.push(w.length);
      }
      t = { bytes: w.take(), ends, ja4xCount: 0, ttl: 0 };
      this.unseen.set(version, t);
    }
    return t;
  }

  ingest(r: HttpRecord, ja4h: string, tls: NativeTls, sni: string, serverIp: string, serverPort: number, status: CorrelationStatus): void {
    const c = this.ingestT;
    const v = c.v;
    v.ts.uint64(r.ts_us);
    v.request_id.string(requestId(r));
    v.conn_id.string(r.conn);
    v.request_seq.uint32(r.req_n);
    c.endpoints.append(r.client_ip, r.client_port, serverIp, serverPort);
    v.duration_us.uint32(r.dur_us);
    c.fields.append(r);
    v.ja4h.string(ja4h);
    c.tls.append(tls);
    v.tls_cipher.string(r.tls?.cipher ?? '');
    v.sni.string(sni);
    v.correlation_status.string(status);
    v.truncated.bool(r.truncated);
    c.t.rows++;
  }

  request(r: HttpRecord): void {
    const c = this.requestT;
    const v = c.v;
    v.ts.uint64(r.ts_us);
    v.duration_us.uint32(r.dur_us);
    c.endpoints.append(r.client_ip, r.client_port, r.local_ip, r.local_port);
    v.conn_id.string(r.conn);
    v.request_seq.uint32(r.req_n);
    v.unique_id.string(r.unique_id);
    c.fields.append(r);
    v.tls_protocol.string(r.tls?.protocol ?? '');
    v.tls_cipher.string(r.tls?.cipher ?? '');
    v.tls_sni.string(r.tls?.sni ?? '');
    v.truncated.bool(r.truncated);
    c.t.rows++;
  }

  tlsEvent(e: FlowEvent): void {
    // what may throw first: a row is written whole or not at all
    const tls = this.connectionTls(e);
    const c = this.tlsT;
    const v = c.v;
    v.ts.uint64(e.first_ts_us);
    v.last_ts.uint64(e.last_ts_us);
    v.transport.string(e.transport);
    c.endpoints.append(e.src, e.src_port, e.dst, e.dst_port);
    v.sni.string(e.tls_server_name ?? '');
    c.tls.append(tls);
    v.closed.bool(e.closed === true);
    c.t.rows++;
  }

  take(): EncodedRows<Buffer> {
    const out: EncodedRows<Buffer> = {
      format: this.format,
      ingestRows: this.ingestT.t.rows,
      requestRows: this.requestT.t.rows,
      tlsEventRows: this.tlsT.t.rows,
      ingest: this.ingestT.t.take(this.reuseBuffers),
      requests: this.requestT.t.take(this.reuseBuffers),
      tlsEvents: this.tlsT.t.take(this.reuseBuffers),
    };
    // the last flow's columns are not kept referenced past its batch
    this.lastEvent = undefined;
    this.lastTls = undefined;
    return out;
  }
}
