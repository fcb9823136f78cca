// RowBinary encoding of the three tables the correlator writes: what
// `ja4 run` inserts into ClickHouse. The same values as the JSONEachRow
// encoder (rows.ts), column by column (test/correlator-rowbinary.test.ts
// loads both into the engine and compares the stored rows); written into
// one growing buffer per table, so a row costs no JSON string, and the
// engine reads it for about half the CPU of JSON (docs/correlator.md).
//
// RowBinary is positional: every insert names its columns (the *_COLUMNS
// lists below, in sql/0002 and sql/0005 order), so a column a later
// migration adds with a DEFAULT takes its default instead of shifting the
// bytes; raw tables' received_at is filled by the engine that way.
import type { FlowEvent } from '../capture/tls-event.js';
import { tlsVersionOf, type HttpRecord } from './http-record.js';
import { ConnectionJa4h } from './ja4h.js';
import { RowBinaryWriter } from './row-binary-writer.js';
import { requestId, rowServerIp, rowServerPort, rowSni, type ConnectionEnds, type CorrelationStatus, type EncodedRows, type RowEncoder } from './row-encoder.js';
import { ja4xList } from './tls-event-input.js';

export const INGEST_COLUMNS: readonly string[] = [
  'ts', 'request_id', 'conn_id', 'request_seq', 'client_ip', 'client_port', 'server_ip', 'server_port', 'duration_us',
  'method', 'scheme', 'host', 'uri', 'protocol', 'status', 'bytes_in', 'bytes_out', 'header_names', 'headers', 'cookie_names',
  'ja4h', 'tls_version', 'tls_cipher', 'sni', 'alpn', 'ja4', 'ja4_r', 'ja4_o', 'ja3', 'ja4s', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s', 'ja4x',
  'client_ttl', 'correlation_status', 'truncated',
];

export const REQUEST_COLUMNS: readonly string[] = [
  'ts', 'duration_us', 'client_ip', 'client_port', 'local_ip', 'local_port', 'conn_id', 'request_seq', 'unique_id',
  'method', 'scheme', 'host', 'uri', 'protocol', 'status', 'bytes_in', 'bytes_out', 'header_names', 'headers', 'cookie_names',
  'tls_protocol', 'tls_cipher', 'tls_sni', 'truncated',
];

export const TLS_EVENT_COLUMNS: readonly string[] = [
  'ts', 'last_ts', 'transport', 'client_ip', 'client_port', 'server_ip', 'server_port', 'sni', 'alpn', 'tls_version',
  'ja4', 'ja4_r', 'ja4_o', 'ja3', 'ja4s', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s', 'ja4x', 'client_ttl', 'closed',
];

/**
 * A connection's TLS columns of http_logs_ingest, encoded once. They are
 * not contiguous in the row (tls_cipher and sni, which the request may
 * supply, sit between): `version` is tls_version, `rest` alpn..client_ttl.
 */
export interface BinaryTls {
  version: Uint8Array;
  rest: Uint8Array;
}

/** The fingerprint columns, in the order http_logs_ingest's TLS block and tls_events both have them (ja4 .. client_ttl). */
function writeFingerprints(w: RowBinaryWriter, e: FlowEvent): void {
  w.string(e.ja4 ?? '');
  w.string(e.ja4_r ?? '');
  w.string(e.ja4_o ?? '');
  w.string(e.ja3 ?? '');
  w.string(e.ja4s ?? '');
  w.string(e.ja4t ?? '');
  w.string(e.ja4ts ?? '');
  w.string(e.ja4l_c ?? '');
  w.string(e.ja4l_s ?? '');
  w.stringArray(ja4xList(e));
  w.uint8(e.client_ttl ?? 0);
}

export class BinaryRowEncoder implements RowEncoder<BinaryTls, Buffer> {
  readonly format = 'RowBinary' as const;
  private readonly ingestOut = new RowBinaryWriter();
  private readonly requestOut = new RowBinaryWriter();
  private readonly tlsOut = new RowBinaryWriter(64 << 10);
  /** scratch for the per-connection columns */
  private readonly scratch = new RowBinaryWriter(4096);
  /**
   * The method .. cookie_names block of the last record, encoded once for
   * both of its rows (http_requests when it arrives, http_logs_ingest then
   * or after its wait): `fieldsOf` is the record it belongs to.
   */
  private readonly fields = new RowBinaryWriter(16 << 10);
  private fieldsOf: HttpRecord | undefined;
  private fieldsBytes: Buffer = Buffer.alloc(0);
  private readonly unseen = new Map<string, BinaryTls>();
  private readonly statusBytes = new Map<string, Uint8Array>();
  private ingestRows = 0;
  private requestRows = 0;
  private tlsEventRows = 0;
  private readonly ja4h = new ConnectionJa4h();

  /**
   * `reuseBuffers`: take() returns views of the encoder's buffers, valid
   * until the next row (the worker copies them into its result at once);
   * otherwise copies.
   */
  constructor(private readonly reuseBuffers = false) {}

  connectionTls(e: FlowEvent): BinaryTls {
    const w = this.scratch;
    w.string(e.tls_version ?? '');
    const version = w.take();
    w.string(e.alpn ?? '');
    writeFingerprints(w, e);
    return { version, rest: w.take() };
  }

  unseenTls(r: HttpRecord): BinaryTls {
    const version = tlsVersionOf(r);
    let t = this.unseen.get(version);
    if (!t) {
      const w = this.scratch;
      w.string(version);
      const v = w.take();
      for (let i = 0; i < 10; i++) w.string(''); // alpn .. ja4l_s
      w.varint(0); // ja4x
      w.uint8(0); // client_ttl
      t = { version: v, rest: w.take() };
      this.unseen.set(version, t);
    }
    return t;
  }

  ingest(r: HttpRecord, tls: BinaryTls, conn: ConnectionEnds | undefined, status: CorrelationStatus): void {
    const w = this.ingestOut;
    w.uint64(r.ts_us);
    w.string(requestId(r));
    w.string(r.conn);
    w.uint32(r.req_n);
    w.ipv6(r.client_ip);
    w.uint16(r.client_port);
    w.ipv6(rowServerIp(r, conn));
    w.uint16(rowServerPort(r, conn));
    w.uint32(r.dur_us);
    w.bytes(this.requestFields(r));
    w.string(this.ja4h.of(r));
    w.bytes(tls.version);
    w.string(r.tls?.cipher ?? '');
    w.string(rowSni(r, conn));
    w.bytes(tls.rest);
    w.bytes(this.status(status));
    w.bool(r.truncated);
    this.ingestRows++;
  }

  releaseTls(): void {}

  request(r: HttpRecord): void {
    const w = this.requestOut;
    w.uint64(r.ts_us);
    w.uint32(r.dur_us);
    w.ipv6(r.client_ip);
    w.uint16(r.client_port);
    w.ipv6(r.local_ip);
    w.uint16(r.local_port);
    w.string(r.conn);
    w.uint32(r.req_n);
    w.string(r.unique_id);
    w.bytes(this.requestFields(r));
    w.string(r.tls?.protocol ?? '');
    w.string(r.tls?.cipher ?? '');
    w.string(r.tls?.sni ?? '');
    w.bool(r.truncated);
    this.requestRows++;
  }

  tlsEvent(e: FlowEvent): void {
    const w = this.tlsOut;
    w.uint64(e.first_ts_us);
    w.uint64(e.last_ts_us);
    w.string(e.transport);
    w.ipv6(e.src);
    w.uint16(e.src_port);
    w.ipv6(e.dst);
    w.uint16(e.dst_port);
    w.string(e.tls_server_name ?? '');
    w.string(e.alpn ?? '');
    w.string(e.tls_version ?? '');
    writeFingerprints(w, e);
    w.bool(e.closed === true);
    this.tlsEventRows++;
  }

  take(): EncodedRows<Buffer> {
    const take = (w: RowBinaryWriter): Buffer => (this.reuseBuffers ? w.view() : w.take());
    const out: EncodedRows<Buffer> = {
      format: this.format,
      ingest: take(this.ingestOut),
      requests: take(this.requestOut),
      tlsEvents: take(this.tlsOut),
      ingestRows: this.ingestRows,
      requestRows: this.requestRows,
      tlsEventRows: this.tlsEventRows,
    };
    this.ingestRows = 0;
    this.requestRows = 0;
    this.tlsEventRows = 0;
    return out;
  }

  /** method .. cookie_names: the columns both row shapes carry, in their order (a view, valid until the next record). */
  private requestFields(r: HttpRecord): Buffer {
    if (this.fieldsOf === r) return this.fieldsBytes;
    const w = this.fields;
    w.string(r.method);
    w.string(r.scheme);
    w.string(r.host);
    w.string(r.uri);
    w.string(r.proto);
    w.uint16(r.status);
    w.uint64(r.bytes_in);
    w.uint64(r.bytes_out);
    w.stringArray(r.header_order);
    w.stringMap(r.headers);
    w.stringArray(r.cookies);
    this.fieldsOf = r;
    this.fieldsBytes = w.view();
    return this.fieldsBytes;
  }

  private status(s: CorrelationStatus): Uint8Array {
    let b = this.statusBytes.get(s);
    if (!b) {
      this.scratch.string(s);
      b = this.scratch.take();
      this.statusBytes.set(s, b);
    }
    return b;
  }
}
