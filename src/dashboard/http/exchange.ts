// One HTTP exchange over uWebSockets.js. uWS hands the request object only
// for the synchronous part of the handler: everything we need from it
// (method, URL, headers, address) is copied first, the body is collected
// with onData, and the answer is written inside res.cork() unless the
// client went away meanwhile (onAborted).
import { randomUUID } from 'node:crypto';
import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse } from '@trufflesuite/uws-js-unofficial';
import { HttpError } from './errors.js';
import { MIN_COMPRESS_BYTES, compress, isCompressible, pickEncoding } from './compress.js';

export interface Request {
  /** upper case */
  method: string;
  path: string;
  query: URLSearchParams;
  /** lower-case names */
  headers: Record<string, string>;
  cookies: Record<string, string>;
  remoteIp: string;
  /** the request came over TLS (X-Forwarded-Proto: https from a trusted proxy) */
  secure: boolean;
  requestId: string;
  /** path parameters of the matched route, decoded */
  params: Record<string, string>;
  body: Buffer;
}

/** A full answer; a handler returning anything else answers it as JSON. */
export interface Reply {
  kind: 'reply';
  status?: string;
  headers?: Record<string, string>;
  contentType?: string;
  body: Buffer | string;
  /** compress when the client accepts it (default: for text types over 1 KiB) */
  compress?: boolean;
  /** already compressed body variants, e.g. static files cached at startup */
  encoded?: { br?: Buffer; gzip?: Buffer };
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Security headers on every answer (the WebSocket hub's refusals included). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export interface ExchangeOptions {
  /** take the client address and scheme from X-Forwarded-For / -Proto (behind a reverse proxy) */
  trustProxy: boolean;
}

export function parseCookies(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (name && !(name in out)) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

function normalizeIp(text: string): string {
  const t = text.trim();
  return t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
}

/**
 * Whether the browser's request came over HTTPS, as the trusted proxy says
 * (the last X-Forwarded-Proto entry: the one it appended). Never without
 * --trust-proxy: a client could send the header itself.
 */
export function forwardedHttps(forwardedProto: string | undefined, trustProxy: boolean): boolean {
  return trustProxy && lastEntry(forwardedProto)?.toLowerCase() === 'https';
}

/** The last non-empty entry of a comma-separated header, or undefined. */
function lastEntry(header: string | undefined): string | undefined {
  const entries = header?.split(',').map((e) => e.trim()).filter((e) => e !== '');
  return entries?.at(-1);
}

/** Everything synchronous from uWS's request object (valid only now). */
export function readRequestHead(res: UwsResponse, req: UwsRequest, opts: ExchangeOptions): Request {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  });
  let remoteIp = normalizeIp(Buffer.from(res.getRemoteAddressAsText()).toString());
  let secure = false;
  if (opts.trustProxy) {
    // the last entry: the one our proxy appended (Apache mod_proxy and nginx append to what the
    // client sent); the ones before it are the client's own words, e.g. a forged address
    const fwd = lastEntry(headers['x-forwarded-for']);
    if (fwd) remoteIp = normalizeIp(fwd);
    secure = forwardedHttps(headers['x-forwarded-proto'], true);
  }
  return {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    cookies: parseCookies(headers.cookie ?? ''),
    remoteIp,
    secure,
    requestId: randomUUID(),
    params: {},
    body: Buffer.alloc(0),
  };
}

export class Exchange {
  aborted = false;
  private done = false;

  constructor(
    readonly res: UwsResponse,
    readonly request: Request,
  ) {
    res.onAborted(() => {
      this.aborted = true;
    });
  }

  /** Collects the body (at most MAX_BODY_BYTES: 413 past it). */
  readBody(): Promise<Buffer> {
    const method = this.request.method;
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS') return Promise.resolve(Buffer.alloc(0));
    const declared = Number(this.request.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError('payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      this.res.onData((chunk, isLast) => {
        if (failed) return;
        size += chunk.byteLength;
        if (size > MAX_BODY_BYTES) {
          failed = true;
          reject(new HttpError('payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
          return;
        }
        // the ArrayBuffer is neutered after this callback: copy it
        chunks.push(Buffer.from(new Uint8Array(chunk)));
        if (isLast) resolve(Buffer.concat(chunks));
      });
    });
  }

  /** Writes the answer (compressed when worth it), once, unless aborted. */
  async send(reply: Reply): Promise<void> {
    if (this.done) return;
    const contentType = reply.contentType ?? 'application/json; charset=utf-8';
    let body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': contentType, ...reply.headers };
    const wantsCompression = reply.compress ?? (isCompressible(contentType) && body.length >= MIN_COMPRESS_BYTES);
    if (wantsCompression && this.request.method !== 'HEAD') {
      const encoding = pickEncoding(this.request.headers['accept-encoding'] ?? '');
      if (encoding !== 'identity') {
        body = reply.encoded?.[encoding] ?? (await compress(body, encoding));
        headers['Content-Encoding'] = encoding;
      }
      headers.Vary = 'Accept-Encoding';
    }
    if (this.aborted || this.done) return;
    this.done = true;
    this.res.cork(() => {
      this.res.writeStatus(reply.status ?? '200 OK');
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      if (this.request.method === 'HEAD') this.res.endWithoutBody(body.length);
      else this.res.end(body);
    });
  }
}

/** JSON answer. */
export function json(value: unknown, status = '200 OK', headers: Record<string, string> = {}): Reply {
  return { kind: 'reply', status, body: JSON.stringify(value), headers: { 'Cache-Control': 'no-store', ...headers } };
}

export function isReply(value: unknown): value is Reply {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'reply';
}
