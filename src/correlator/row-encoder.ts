// What the correlator's rows are encoded into: the contract between the
// join (correlator.ts), which decides what each row holds, and an encoder,
// which owns how the three tables' bodies are written. Three encoders:
// JSONEachRow (rows.ts: the jsonl and stdout outputs, tools, tests), Native
// (rows-native.ts: what `ja4 run` inserts into ClickHouse) and RowBinary
// (rows-binary.ts: what it inserted before; spooled segments may hold it).
import type { FlowEvent } from '../capture/tls-event.js';
import type { HttpRecord, JoinRecord } from './http-record.js';
import type { JoinFlow } from './tls-event-input.js';

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

/** The body of a table with no rows in a step, in bytes (shared: nothing writes into it). */
export const EMPTY_BODY: Buffer = Buffer.alloc(0);

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

/** The ends of the connection a request joined, as its flow event gave them. */
export interface ConnectionEnds {
  /** '' when the handshake carried none */
  sni: string;
  serverIp: string;
  serverPort: number;
}

/**
 * Encodes rows as the correlator emits them. `Tls` is the encoder's form of
 * a connection's TLS columns, made once per connection and reused for each
 * of its requests (keep-alive: many requests, one handshake). `R` is the
 * request as the encoder takes it: a whole HttpRecord for the JavaScript
 * encoders, a handle on a natively parsed one for Native (rows-native.ts).
 * `F` is the flow event as it takes it: a whole FlowEvent, or for Native
 * one whose TLS columns were encoded when it was read (native-tls-events.ts).
 */
export interface RowEncoder<Tls, B extends RowBody, R extends JoinRecord = HttpRecord, F extends JoinFlow = FlowEvent> {
  readonly format: RowFormat;
  /** the TLS columns of a connection from its flow event */
  connectionTls(e: F): Tls;
  /** the TLS columns of a request whose handshake was not seen: only mod_ssl's version ('13'), or '' */
  unseenTls(r: R): Tls;
  /**
   * One ja4_logs.http_logs_ingest row: the request, the TLS columns of its
   * connection (or unseenTls), the connection's ends when it joined one.
   * The row's sni, server_ip and server_port follow rowSni and rowServer.
   */
  ingest(r: R, tls: Tls, conn: ConnectionEnds | undefined, status: CorrelationStatus): void;
  /** one ja4_logs.http_requests row (the HTTP half as received) */
  request(r: R): void;
  /** one ja4_logs.tls_events row (the TLS half as received) */
  tlsEvent(e: F): void;
  /** the connection of `tls` is gone: no row will use it again */
  releaseTls(tls: Tls): void;
  /** the rows encoded since the last take() */
  take(): EncodedRows<B>;
}

/** A row's sni: the handshake's, else mod_ssl's. */
export function rowSni(r: HttpRecord, conn: ConnectionEnds | undefined): string {
  return conn !== undefined && conn.sni !== '' ? conn.sni : (r.tls?.sni ?? '');
}

/** A row's server address: Apache's local one, else the connection's ('' when neither knows). */
export function rowServerIp(r: HttpRecord, conn: ConnectionEnds | undefined): string {
  return r.local_ip !== '' || conn === undefined ? r.local_ip : conn.serverIp;
}

/** A row's server port: Apache's local one, else the connection's (0 when neither knows). */
export function rowServerPort(r: HttpRecord, conn: ConnectionEnds | undefined): number {
  return r.local_port !== 0 || conn === undefined ? r.local_port : conn.serverPort;
}

/** mod_unique_id's id when Apache has it, else one built from the connection id and the request's number on it. */
export function requestId(r: HttpRecord): string {
  return r.unique_id !== '' ? r.unique_id : `${r.conn}:${r.req_n}`;
}
