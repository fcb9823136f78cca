// The web bundle (web/dist, built by scripts/build-web.mjs): files with a
// content hash in their name are cached for a year (immutable); index.html
// and the rest are revalidated (no-cache) so a new build shows at once.
// Text files are compressed once (brotli 11, gzip 9) and kept in memory
// with their mtime. Paths outside the bundle are refused; an unknown page
// path gets index.html (the client-side router draws it).
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { compress, isCompressible } from './compress.js';
import type { Reply } from './exchange.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** name-<hash>.ext or name.<hash>.ext, hash of 8+ characters (esbuild's [name]-[hash]) */
const HASHED = /[.-][A-Za-z0-9_]{8,}\.[a-z0-9]+$/;

const HTML_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Cached {
  mtimeMs: number;
  reply: Reply;
}

export class StaticFiles {
  private readonly root: string;
  private readonly cache = new Map<string, Cached>();

  constructor(webDir: string) {
    this.root = resolve(webDir);
  }

  /** The answer for a GET of `urlPath`, or undefined when it is not a file of the bundle. */
  async file(urlPath: string): Promise<Reply | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const path = normalize(join(this.root, decoded === '/' ? 'index.html' : decoded));
    if (path !== this.root && !path.startsWith(this.root + sep)) return undefined;
    let info;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const hit = this.cache.get(path);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit.reply;
    const body = await readFile(path);
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const html = type.startsWith('text/html');
    const headers: Record<string, string> = {
      'Cache-Control': HASHED.test(path) && !html ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(html ? { 'Content-Security-Policy': HTML_CSP } : {}),
    };
    const reply: Reply = { kind: 'reply', body, contentType: type, headers };
    if (isCompressible(type) && body.length >= 256) {
      reply.compress = true;
      reply.encoded = { br: await compress(body, 'br', true), gzip: await compress(body, 'gzip', true) };
    } else {
      reply.compress = false;
    }
    this.cache.set(path, { mtimeMs: info.mtimeMs, reply });
    return reply;
  }

  /** index.html for a client-side route, or a short page saying the bundle is missing. */
  async index(): Promise<Reply> {
    const index = await this.file('/index.html');
    if (index) return index;
    return {
      kind: 'reply',
      status: '503 Service Unavailable',
      contentType: 'text/html; charset=utf-8',
      headers: { 'Cache-Control': 'no-store' },
      body: '<!doctype html><title>ja4 dashboard</title><p>The web bundle is not built: run <code>make build-web</code>. The API is up under /api/.</p>',
    };
  }
}

/** Deep links whose parameter may contain dots (an IPv4 address, a campaign id): pages, not files. (added by the web helper) */
const PARAM_PAGES = /^\/(?:ip|ja4|cluster)\/[^/]+\/?$/;

/** A path the client-side router draws (no file extension in its last segment). */
export function isPagePath(path: string): boolean {
  if (PARAM_PAGES.test(path)) return true;
  const last = path.split('/').pop() ?? '';
  return !last.includes('.');
}
