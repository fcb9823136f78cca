// JSONEachRow encoding of the three tables the correlator writes (the jsonl
// and stdout outputs, tools and tests; `ja4 run` inserts RowBinary into the
// database: rows-binary.ts). Column lists: sql/0002 (ja4_logs.http_requests,
// ja4_logs.tls_events) and sql/0005 (ja4_logs.http_logs_ingest). Timestamps
// go as integer microseconds (DateTime64(6) accepts them); unknown IPv6
// columns as '::'.
import type { FlowEvent } from '../capture/tls-event.js';
import { tlsVersionOf, type HttpRecord } from './http-record.js';
import { ConnectionJa4h } from './ja4h.js';
import { requestId, rowServerIp, rowServerPort, rowSni, type ConnectionEnds, type CorrelationStatus, type EncodedRows, type RowEncoder } from './row-encoder.js';
import { ja4xList } from './tls-event-input.js';

export { CORRELATION_STATUSES, requestId, type CorrelationStatus } from './row-encoder.js';

const q = JSON.stringify;

/**
 * The TLS columns of http_logs_ingest for one connection, encoded once and
 * reused for each of its requests (keep-alive: many requests, one handshake).
 */
export function tlsColumns(e: FlowEvent): string {
  const ja4x = ja4xList(e);
  return (
    `"tls_version":${q(e.tls_version ?? '')},"alpn":${q(e.alpn ?? '')},"ja4":${q(e.ja4 ?? '')},"ja4_r":${q(e.ja4_r ?? '')},` +
    `"ja4_o":${q(e.ja4_o ?? '')},"ja3":${q(e.ja3 ?? '')},"ja4s":${q(e.ja4s ?? '')},"ja4t":${q(e.ja4t ?? '')},"ja4ts":${q(e.ja4ts ?? '')},` +
    `"ja4l_c":${q(e.ja4l_c ?? '')},"ja4l_s":${q(e.ja4l_s ?? '')},"ja4x":${ja4x.length === 0 ? '[]' : q(ja4x)},"client_ttl":${e.client_ttl ?? 0}`
  );
}

export const NO_TLS_COLUMNS =
  '"tls_version":"","alpn":"","ja4":"","ja4_r":"","ja4_o":"","ja3":"","ja4s":"","ja4t":"","ja4ts":"","ja4l_c":"","ja4l_s":"","ja4x":[],"client_ttl":0';

/**
 * One ja4_logs.http_logs_ingest row. JSON.stringify of one object literal
 * (V8's fast path) measured 3x faster than concatenating per-field
 * JSON.stringify calls; the connection's TLS columns, encoded once, are
 * spliced in before the closing brace.
 */
export function ingestRow(
  r: HttpRecord,
  ja4h: string,
  tls: string,
  sni: string,
  serverIp: string,
  serverPort: number,
  status: CorrelationStatus,
): string {
  const json = JSON.stringify({
    ts: r.ts_us,
    request_id: requestId(r),
    conn_id: r.conn,
    request_seq: r.req_n,
    client_ip: r.client_ip,
    client_port: r.client_port,
    server_ip: serverIp || '::',
    server_port: serverPort,
    duration_us: r.dur_us,
    ...requestFields(r),
    ja4h,
    tls_cipher: r.tls?.cipher ?? '',
    sni,
    correlation_status: status,
    truncated: r.truncated,
  });
  return `${json.slice(0, -1)},${tls}}\n`;
}

/** The request, response and header columns both row shapes carry, in their column order. */
function requestFields(r: HttpRecord) {
  return {
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    uri: r.uri,
    protocol: r.proto,
    status: r.status,
    bytes_in: r.bytes_in,
    bytes_out: r.bytes_out,
    header_names: r.header_order,
    headers: r.headers,
    cookie_names: r.cookies,
  };
}

/** One ja4_logs.http_requests row (the HTTP half as received). */
export function httpRequestRow(r: HttpRecord): string {
  return `${JSON.stringify({
    ts: r.ts_us,
    duration_us: r.dur_us,
    client_ip: r.client_ip,
    client_port: r.client_port,
    local_ip: r.local_ip || '::',
    local_port: r.local_port,
    conn_id: r.conn,
    request_seq: r.req_n,
    unique_id: r.unique_id,
    ...requestFields(r),
    tls_protocol: r.tls?.protocol ?? '',
    tls_cipher: r.tls?.cipher ?? '',
    tls_sni: r.tls?.sni ?? '',
    truncated: r.truncated,
  })}\n`;
}

/** One ja4_logs.tls_events row (the TLS half as received). */
export function tlsEventRow(e: FlowEvent): string {
  return (
    `{"ts":${e.first_ts_us},"last_ts":${e.last_ts_us},"transport":${q(e.transport)},"client_ip":${q(e.src)},"client_port":${e.src_port},` +
    `"server_ip":${q(e.dst)},"server_port":${e.dst_port},"sni":${q(e.tls_server_name ?? '')},"alpn":${q(e.alpn ?? '')},` +
    `"tls_version":${q(e.tls_version ?? '')},"ja4":${q(e.ja4 ?? '')},"ja4_r":${q(e.ja4_r ?? '')},"ja4_o":${q(e.ja4_o ?? '')},` +
    `"ja3":${q(e.ja3 ?? '')},"ja4s":${q(e.ja4s ?? '')},"ja4t":${q(e.ja4t ?? '')},"ja4ts":${q(e.ja4ts ?? '')},` +
    `"ja4l_c":${q(e.ja4l_c ?? '')},"ja4l_s":${q(e.ja4l_s ?? '')},"ja4x":${q(ja4xList(e))},"client_ttl":${e.client_ttl ?? 0},"closed":${e.closed === true}}\n`
  );
}

/** Rows as JSON lines, one string per table and batch. */
export class JsonRowEncoder implements RowEncoder<string, string> {
  readonly format = 'JSONEachRow' as const;
  private ingestLines: string[] = [];
  private requestLines: string[] = [];
  private tlsLines: string[] = [];
  private readonly ja4h = new ConnectionJa4h();

  connectionTls(e: FlowEvent): string {
    return tlsColumns(e);
  }

  unseenTls(r: HttpRecord): string {
    const version = tlsVersionOf(r);
    return version === '' ? NO_TLS_COLUMNS : NO_TLS_COLUMNS.replace('"tls_version":""', `"tls_version":${q(version)}`);
  }

  ingest(r: HttpRecord, tls: string, conn: ConnectionEnds | undefined, status: CorrelationStatus): void {
    this.ingestLines.push(ingestRow(r, this.ja4h.of(r), tls, rowSni(r, conn), rowServerIp(r, conn), rowServerPort(r, conn), status));
  }

  releaseTls(): void {}

  request(r: HttpRecord): void {
    this.requestLines.push(httpRequestRow(r));
  }

  tlsEvent(e: FlowEvent): void {
    this.tlsLines.push(tlsEventRow(e));
  }

  take(): EncodedRows<string> {
    const out: EncodedRows<string> = {
      format: this.format,
      ingest: this.ingestLines.join(''),
      requests: this.requestLines.join(''),
      tlsEvents: this.tlsLines.join(''),
      ingestRows: this.ingestLines.length,
      requestRows: this.requestLines.length,
      tlsEventRows: this.tlsLines.length,
    };
    this.ingestLines = [];
    this.requestLines = [];
    this.tlsLines = [];
    return out;
  }
}
