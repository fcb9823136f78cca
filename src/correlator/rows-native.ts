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

/** method .. cookie_names: the columns both http_logs_ingest and http_requests carry. */
class RequestFieldColumns {
  private readonly method: ValueColumn;
  private readonly scheme: ValueColumn;
  private readonly host: ValueColumn;
  private readonly uri: ValueColumn;
  private readonly protocol: ValueColumn;
  private readonly status: ValueColumn;
  private readonly bytesIn: ValueColumn;
  private readonly bytesOut: ValueColumn;
  private readonly headerNames: StringArrayColumn;
  private readonly headers: StringMapColumn;
  private readonly cookieNames: StringArrayColumn;

  constructor(t: NativeTable) {
    this.method = t.value('method', 'String');
    this.scheme = t.value('scheme', 'String');
    this.host = t.value('host', 'String');
    this.uri = t.value('uri', 'String');
    this.protocol = t.value('protocol', 'String');
    this.status = t.value('status', 'UInt16');
    this.bytesIn = t.value('bytes_in', 'UInt64');
    this.bytesOut = t.value('bytes_out', 'UInt64');
    this.headerNames = t.array('header_names');
    this.headers = t.map('headers');
    this.cookieNames = t.array('cookie_names');
  }

  append(r: HttpRecord): void {
    this.method.string(r.method);
    this.scheme.string(r.scheme);
    this.host.string(r.host);
    this.uri.string(r.uri);
    this.protocol.string(r.proto);
    this.status.uint16(r.status);
    this.bytesIn.uint64(r.bytes_in);
    this.bytesOut.uint64(r.bytes_out);
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
  readonly ts = this.t.value('ts', DATETIME64);
  readonly requestId = this.t.value('request_id', 'String');
  readonly connId = this.t.value('conn_id', 'String');
  readonly requestSeq = this.t.value('request_seq', 'UInt32');
  readonly endpoints = new EndpointColumns(this.t, 'server');
  readonly duration = this.t.value('duration_us', 'UInt32');
  readonly fields = new RequestFieldColumns(this.t);
  readonly ja4h = this.t.value('ja4h', 'String');
  readonly tls = new TlsColumns(this.t);
  readonly tlsCipher = this.t.value('tls_cipher', 'String');
  readonly sni = this.t.value('sni', 'String');
  readonly status = this.t.value('correlation_status', 'String');
  readonly truncated = this.t.value('truncated', 'Bool');
}

class RequestTable {
  readonly t = new NativeTable('http_requests', REQUEST_COLUMNS);
  readonly ts = this.t.value('ts', DATETIME64);
  readonly duration = this.t.value('duration_us', 'UInt32');
  readonly endpoints = new EndpointColumns(this.t, 'local');
  readonly connId = this.t.value('conn_id', 'String');
  readonly requestSeq = this.t.value('request_seq', 'UInt32');
  readonly uniqueId = this.t.value('unique_id', 'String');
  readonly fields = new RequestFieldColumns(this.t);
  readonly tlsProtocol = this.t.value('tls_protocol', 'String');
  readonly tlsCipher = this.t.value('tls_cipher', 'String');
  readonly tlsSni = this.t.value('tls_sni', 'String');
  readonly truncated = this.t.value('truncated', 'Bool');
}

class TlsEventTable {
  readonly t = new NativeTable('tls_events', TLS_EVENT_COLUMNS);
  readonly ts = this.t.value('ts', DATETIME64);
  readonly lastTs = this.t.value('last_ts', DATETIME64);
  readonly transport = this.t.value('transport', 'String');
  readonly endpoints = new EndpointColumns(this.t, 'server');
  readonly sni = this.t.value('sni', 'String');
  readonly tls = new TlsColumns(this.t);
  readonly closed = this.t.value('closed', 'Bool');
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
    c.ts.uint64(r.ts_us);
    c.requestId.string(requestId(r));
    c.connId.string(r.conn);
    c.requestSeq.uint32(r.req_n);
    c.endpoints.append(r.client_ip, r.client_port, serverIp, serverPort);
    c.duration.uint32(r.dur_us);
    c.fields.append(r);
    c.ja4h.string(ja4h);
    c.tls.append(tls);
    c.tlsCipher.string(r.tls?.cipher ?? '');
    c.sni.string(sni);
    c.status.string(status);
    c.truncated.bool(r.truncated);
    c.t.rows++;
  }

  request(r: HttpRecord): void {
    const c = this.requestT;
    c.ts.uint64(r.ts_us);
    c.duration.uint32(r.dur_us);
    c.endpoints.append(r.client_ip, r.client_port, r.local_ip, r.local_port);
    c.connId.string(r.conn);
    c.requestSeq.uint32(r.req_n);
    c.uniqueId.string(r.unique_id);
    c.fields.append(r);
    c.tlsProtocol.string(r.tls?.protocol ?? '');
    c.tlsCipher.string(r.tls?.cipher ?? '');
    c.tlsSni.string(r.tls?.sni ?? '');
    c.truncated.bool(r.truncated);
    c.t.rows++;
  }

  tlsEvent(e: FlowEvent): void {
    const c = this.tlsT;
    c.ts.uint64(e.first_ts_us);
    c.lastTs.uint64(e.last_ts_us);
    c.transport.string(e.transport);
    c.endpoints.append(e.src, e.src_port, e.dst, e.dst_port);
    c.sni.string(e.tls_server_name ?? '');
    c.tls.append(this.connectionTls(e));
    c.closed.bool(e.closed === true);
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
