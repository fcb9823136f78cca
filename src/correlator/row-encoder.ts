// What the correlator's rows are encoded into: the contract between the
// join (correlator.ts), which decides what each row holds, and an encoder,
// which owns how the three tables' bodies are written. Three encoders:
// JSONEachRow (rows.ts: the jsonl and stdout outputs, tools, tests), Native
// (rows-native.ts: what `ja4 run` inserts into ClickHouse) and RowBinary
// (rows-binary.ts: what it inserted before; spooled segments may hold it).
import type { FlowEvent } from '../capture/tls-event.js';
import type { HttpRecord } from './http-record.js';

/** The insert formats the correlator writes. */
export type RowFormat = 'JSONEachRow' | 'RowBinary' | 'Native';

export const ROW_FORMATS: readonly RowFormat[] = ['JSONEachRow', 'RowBinary', 'Native'];

/** The binary formats: bodies are bytes, and the insert names the columns they hold. */
export const isBinaryFormat = (f: RowFormat): f is 'RowBinary' | 'Native' => f !== 'JSONEachRow';

/** What correlation decided for a request (http_logs.correlation_status). */
export type CorrelationStatus =
  /** its connection's TLS event was found */
  | 'matched'
  /** plain HTTP: no TLS expected (a flow event, when seen, still gives JA4T/JA4L) */
  | 'no_tls'
  /** over TLS, but no TLS event arrived for its connection within the wait window */
  | 'tls_not_seen';

export const CORRELATION_STATUSES: readonly CorrelationStatus[] = ['matched', 'no_tls', 'tls_not_seen'];

/** A body per table: JSON text (JSONEachRow) or bytes (RowBinary, Native). */
export type RowBody = string | Buffer;

/** One correlation step's output for the three tables. */
export interface EncodedRows<B extends RowBody = RowBody> {
  format: RowFormat;
  /** ja4_logs.http_logs_ingest */
  ingest: B;
  /** ja4_logs.http_requests */
  requests: B;
  /** ja4_logs.tls_events */
  tlsEvents: B;
  ingestRows: number;
  requestRows: number;
  tlsEventRows: number;
}

/**
 * Encodes rows as the correlator emits them. `Tls` is the encoder's form of
 * a connection's TLS columns, made once per connection and reused for each
 * of its requests (keep-alive: many requests, one handshake).
 */
export interface RowEncoder<Tls, B extends RowBody> {
  readonly format: RowFormat;
  /** the TLS columns of a connection from its flow event */
  connectionTls(e: FlowEvent): Tls;
  /** the TLS columns of a request whose handshake was not seen: mod_ssl's version ('13'), or '' */
  unseenTls(version: string): Tls;
  /** one ja4_logs.http_logs_ingest row */
  ingest(r: HttpRecord, ja4h: string, tls: Tls, sni: string, serverIp: string, serverPort: number, status: CorrelationStatus): void;
  /** one ja4_logs.http_requests row (the HTTP half as received) */
  request(r: HttpRecord): void;
  /** one ja4_logs.tls_events row (the TLS half as received) */
  tlsEvent(e: FlowEvent): void;
  /** the rows encoded since the last take() */
  take(): EncodedRows<B>;
}

/** mod_unique_id's id when Apache has it, else one built from the connection id and the request's number on it. */
export function requestId(r: HttpRecord): string {
  return r.unique_id !== '' ? r.unique_id : `${r.conn}:${r.req_n}`;
}
