// The simulator's output lines, byte-compatible with the real producers:
// mod_reqin_log's JSON record (native/httpd/record.c: same members, same
// order, same selection of header values) and the capture's flow and close
// events (src/capture/tls-event.ts: the engine's record, native/core/
// record_json.cc's field order, plus "event").
import type { Header } from './agents.js';

const SAFE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** A JSON string literal; most values are plain ASCII and skip JSON.stringify. */
export function jsonString(s: string): string {
  return SAFE.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * mod_reqin_log's default ReqinLogHeaders: "User-Agent Accept
 * Accept-Language Accept-Encoding Referer Sec-CH-UA* Sec-Fetch-* Connection"
 * (record.c, RL_DEFAULT_HEADERS), compared case-insensitively.
 */
export function isLoggedHeader(lowerName: string): boolean {
  switch (lowerName) {
    case 'user-agent':
    case 'accept':
    case 'accept-language':
    case 'accept-encoding':
    case 'referer':
    case 'connection':
      return true;
    default:
      return lowerName.startsWith('sec-ch-ua') || lowerName.startsWith('sec-fetch-');
  }
}

/**
 * mod_http2 hands Apache the regular fields with names camel-cased
 * ("user-agent" -> "User-Agent"), Host added last from :authority, cookie
 * crumbs merged (docs/mod_reqin_log.md, "HTTP/2: what mod_http2 exposes").
 * Connection-specific fields are not sent over h2 (RFC 9113 8.2.2).
 */
export function h2HeaderView(h1: readonly Header[]): Header[] {
  const out: Header[] = [];
  let host = '';
  for (const [n, v] of h1) {
    const l = n.toLowerCase();
    if (l === 'host') {
      host = v;
      continue;
    }
    if (l === 'connection' || l === 'keep-alive' || l === 'transfer-encoding' || l === 'upgrade' || l === 'content-length') continue;
    out.push([camelCase(l), v]);
  }
  out.push(['Host', host]);
  return out;
}

const camelCache = new Map<string, string>();
function camelCase(lower: string): string {
  let c = camelCache.get(lower);
  if (c === undefined) {
    c = lower.replace(/(^|-)([a-z])/g, (_m, d: string, ch: string) => d + ch.toUpperCase());
    if (camelCache.size < 10_000) camelCache.set(lower, c);
  }
  return c;
}

/** Cookie names of a Cookie value, as record.c extracts them (never the values). */
export function cookieNames(cookie: string): string[] {
  if (!cookie) return [];
  const out: string[] = [];
  for (const pair of cookie.split(';')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    if (name) out.push(name);
  }
  return out;
}

export interface HttpRecordFields {
  tsUs: number;
  durUs: number;
  conn: string;
  clientIp: string;
  clientPort: number;
  localIp: string;
  localPort: number;
  reqN: number;
  vhost: string;
  method: string;
  https: boolean;
  host: string;
  uri: string;
  h2: boolean;
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** mod_ssl's SSL_PROTOCOL, SSL_CIPHER, SSL_TLS_SNI (null: no SNI) */
  tls?: { protocol: string; cipher: string; sni: string | null };
  h2Stream?: number;
  /** headerFragment() of the header table as Apache holds it (h2: through h2HeaderView) */
  headersJson: string;
}

/** One mod_reqin_log record, newline not included. */
export function httpRecord(r: HttpRecordFields): string {
  let s = `{"v":1,"ts_us":${r.tsUs},"dur_us":${r.durUs},"conn":"${r.conn}","client_ip":"${r.clientIp}","client_port":${r.clientPort},"local_ip":"${r.localIp}","local_port":${r.localPort},"req_n":${r.reqN},"vhost":${jsonString(r.vhost)},"method":${jsonString(r.method)},"scheme":"${r.https ? 'https' : 'http'}","host":${jsonString(r.host)},"uri":${jsonString(r.uri)},"proto":"${r.h2 ? 'HTTP/2.0' : 'HTTP/1.1'}","status":${r.status},"bytes_in":${r.bytesIn},"bytes_out":${r.bytesOut}`;
  if (r.tls) s += `,"tls":{"protocol":"${r.tls.protocol}","cipher":"${r.tls.cipher}","sni":${r.tls.sni === null ? 'null' : jsonString(r.tls.sni)}}`;
  if (r.h2Stream !== undefined) s += `,"h2_stream":${r.h2Stream}`;
  return s + r.headersJson;
}

/**
 * `,"header_order":[...],"headers":{...},"cookies":[...],"truncated":[]}`:
 * the record's tail for a header table (the same for every request a
 * client sends with the same headers, so the scheduler caches it).
 */
export function headerFragment(headers: readonly Header[]): string {
  let order = '';
  let values = '';
  let cookies = '';
  // headers_in merges repeated names; record.c writes each selected name once.
  const seen: string[] = [];
  for (const [name, value] of headers) {
    const n = jsonString(name);
    order += order ? `,${n}` : n;
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      for (const c of cookieNames(value)) cookies += cookies ? `,${jsonString(c)}` : jsonString(c);
    } else if (isLoggedHeader(lower) && !seen.includes(lower)) {
      seen.push(lower);
      values += `${values ? ',' : ''}${jsonString(lower)}:${jsonString(value)}`;
    }
  }
  return `,"header_order":[${order}],"headers":{${values}},"cookies":[${cookies}],"truncated":[]}`;
}

/** The HTTP/1.1 response head Apache writes for this status (Date, Server, and the entity headers). */
export function responseHeadBytes(status: number, body: number, keepAlive: boolean): number {
  let n = 17 + 37 + 16 + (status === 304 ? 0 : 20 + String(body).length + 40);
  n += keepAlive ? 46 : 19;
  if (status >= 300 && status < 400 && status !== 304) n += 40;
  return n;
}

export interface FlowEventFields {
  stream: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  firstTs: number;
  lastTs: number;
  packets: number;
  sni: string | null;
  /** catalog: `,"ja4":...` .. `,"ja3s_r":...` */
  fingerprintJson: string;
  ja4t: string;
  ja4ts: string;
  ja4lC: string;
  ja4lS: string;
  clientTtl: number;
  certsJson: string;
}

/** A "flow" event: the engine's record (native/core/record_json.cc order) with "event" first. */
export function flowEvent(f: FlowEventFields): string {
  const sni = f.sni === null ? '' : `,"tls_server_name":${jsonString(f.sni)}`;
  return `{"event":"flow","stream":${f.stream},"transport":"tcp","src":"${f.src}","dst":"${f.dst}","src_port":${f.srcPort},"dst_port":${f.dstPort},"first_ts_us":${f.firstTs},"last_ts_us":${f.lastTs},"packets":${f.packets},"closed":false${sni}${f.fingerprintJson},"ja4t":"${f.ja4t}","ja4ts":"${f.ja4ts}","ja4l_c":"${f.ja4lC}","ja4l_s":"${f.ja4lS}","client_ttl":${f.clientTtl}${f.certsJson}}`;
}

/** A "close" event (src/capture/tls-event.ts CloseEvent). */
export function closeEvent(stream: number, src: string, dst: string, srcPort: number, dstPort: number, firstTs: number, lastTs: number): string {
  return `{"event":"close","stream":${stream},"transport":"tcp","src":"${src}","dst":"${dst}","src_port":${srcPort},"dst_port":${dstPort},"first_ts_us":${firstTs},"last_ts_us":${lastTs},"reason":"fin"}`;
}
