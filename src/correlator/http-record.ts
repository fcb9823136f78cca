// mod_reqin_log records (docs/mod_reqin_log.md, native/httpd/record.c) as
// the correlator reads them. Validation is strict on what the join needs
// (time, client address, connection id) and on the type of every field it
// copies; a record failing it is counted as schema_invalid and dropped.
// Addresses are checked too: one malformed IP would make ClickHouse refuse
// the whole batch it travels in.
import { isIP, isIPv4 } from 'node:net';

/**
 * What the join (correlator.ts) reads of a request: a whole HttpRecord, or
 * the native path's handle on a record whose columns stay in C++
 * (native-requests.ts).
 */
export interface JoinRecord {
  ts_us: number;
  conn: string;
  client_ip: string;
  client_port: number;
  /** '' when not logged */
  local_ip: string;
  local_port: number;
  /** made over TLS (a tls object, or scheme https): a TLS event should exist for its connection */
  tls_request: boolean;
}

export interface HttpRecord extends JoinRecord {
  ts_us: number;
  dur_us: number;
  conn: string;
  req_n: number;
  client_ip: string;
  client_port: number;
  local_ip: string;
  local_port: number;
  vhost: string;
  method: string;
  scheme: string;
  host: string;
  uri: string;
  proto: string;
  status: number;
  bytes_in: number;
  bytes_out: number;
  unique_id: string;
  tls: { protocol: string; cipher: string; sni: string } | undefined;
  header_order: string[];
  headers: Record<string, string>;
  cookies: string[];
  truncated: boolean;
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : undefined;
}

function strArray(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  for (const s of v) if (typeof s !== 'string') return undefined;
  return v as string[];
}

function uint(v: unknown, max: number): number | undefined {
  if (v === undefined || v === null) return 0;
  return isInt(v, 0, max) ? v : undefined;
}

/**
 * IPv4 clients of a dual-stack listener arrive IPv4-mapped ("::ffff:1.2.3.4")
 * from Apache and plain from the capture: one spelling for the join key;
 * an IPv6 zone is dropped.
 * Only a dotted quad after the prefix is one: "::ffff:0:1.2.3.4" is another
 * IPv6 address (cut at 7 it was "0:1.2.3.4", no address at all).
 */
export function normalizeIp(ip: string): string {
  // "fe80::1%eth0" (node:net accepts it). RFC 4007, section 11:
  // "<address>%<zone_id> where ... <zone_id> is a string identifying the
  // zone of the address": a zone of the receiving host (one of its links),
  // not part of the client's address. The address alone is the join key and
  // the stored value: an IPv6 column has no zone, and the engine refuses
  // the text with one (a JSONEachRow insert failed whole on it; the binary
  // encoders dropped the zone).
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  ip = ip.toLowerCase(); // "::FFFF:1.2.3.4" too
  if (ip.length > 7 && ip.charCodeAt(0) === 58 && ip.startsWith('::ffff:')) {
    const v4 = ip.slice(7);
    if (isIPv4(v4)) return v4;
  }
  return ip;
}

const MAX_TS_US = 4_102_444_800_000_000; // 2100-01-01: beyond is a unit mistake, not a time

/** The record, or undefined when it is not a mod_reqin_log record we can use. */
export function toHttpRecord(o: Record<string, unknown>): HttpRecord | undefined {
  if (!isInt(o.ts_us, 1, MAX_TS_US)) return undefined;
  if (typeof o.client_ip !== 'string' || isIP(o.client_ip) === 0 || !isInt(o.client_port, 0, 65535)) return undefined;
  if (typeof o.conn !== 'string' || o.conn === '') return undefined;
  const req_n = uint(o.req_n, 0xffffffff);
  const dur_us = uint(o.dur_us, 0xffffffff);
  const local_port = uint(o.local_port, 65535);
  const status = uint(o.status, 65535);
  const bytes_in = uint(o.bytes_in, Number.MAX_SAFE_INTEGER);
  const bytes_out = uint(o.bytes_out, Number.MAX_SAFE_INTEGER);
  const local_ip = str(o.local_ip);
  const vhost = str(o.vhost);
  const method = str(o.method);
  const scheme = str(o.scheme);
  const host = str(o.host);
  const uri = str(o.uri);
  const proto = str(o.proto);
  const unique_id = str(o.unique_id);
  const header_order = strArray(o.header_order);
  const cookies = strArray(o.cookies);
  const truncatedList = strArray(o.truncated);
  if (
    req_n === undefined || dur_us === undefined || local_port === undefined || status === undefined || bytes_in === undefined || bytes_out === undefined ||
    local_ip === undefined || vhost === undefined || method === undefined || scheme === undefined || host === undefined || uri === undefined ||
    proto === undefined || unique_id === undefined || header_order === undefined || cookies === undefined || truncatedList === undefined
  ) {
    return undefined;
  }
  if (local_ip !== '' && isIP(local_ip) === 0) return undefined;
  let headers: Record<string, string> = {};
  if (o.headers !== undefined && o.headers !== null) {
    if (typeof o.headers !== 'object' || Array.isArray(o.headers)) return undefined;
    for (const v of Object.values(o.headers)) if (typeof v !== 'string') return undefined;
    headers = o.headers as Record<string, string>;
  }
  let tls: HttpRecord['tls'];
  if (o.tls !== undefined && o.tls !== null) {
    if (typeof o.tls !== 'object' || Array.isArray(o.tls)) return undefined;
    const t = o.tls as Record<string, unknown>;
    const protocol = str(t.protocol);
    const cipher = str(t.cipher);
    const sni = str(t.sni);
    if (protocol === undefined || cipher === undefined || sni === undefined) return undefined;
    tls = { protocol, cipher, sni };
  }
  return {
    ts_us: o.ts_us,
    dur_us,
    conn: o.conn,
    req_n,
    client_ip: normalizeIp(o.client_ip),
    client_port: o.client_port,
    local_ip: local_ip === '' ? '' : normalizeIp(local_ip),
    local_port,
    vhost,
    method,
    scheme,
    host,
    uri,
    proto,
    status,
    bytes_in,
    bytes_out,
    unique_id,
    tls,
    header_order,
    headers,
    cookies,
    truncated: truncatedList.length > 0,
    tls_request: tls !== undefined || scheme === 'https',
  };
}

// mod_ssl's SSL_PROTOCOL in the engine's two-digit form ("TLSv1.3" -> "13"),
// for requests whose handshake the capture did not see (native/core/reqin_record.cc
// tls_version_of does the same for the native path).
export function tlsVersionOf(r: HttpRecord): string {
  const p = r.tls?.protocol ?? '';
  const m = /^TLSv1(?:\.(\d))?$/.exec(p);
  if (m) return `1${m[1] ?? '0'}`;
  return p === 'SSLv3' ? 's3' : '';
}
