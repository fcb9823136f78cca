// The /metrics endpoint: a small node:http server a service starts next to
// its work (metrics.host and metrics.port.<service> in config.yaml). Only
// GET and HEAD of /metrics (and /healthz for a service that has a health
// check); rendering is synchronous and cheap, so a scrape
// never waits on the service's own work.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTENT_TYPE, type MetricsRegistry } from './registry.js';

export interface MetricsServerOptions {
  registry: MetricsRegistry;
  /** default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port (tests) */
  port: number;
  /** also serve GET /healthz: 200 "ok" when this returns undefined, else 503 with the reason */
  health?: () => string | undefined;
}

export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new RangeError(`metrics port must be an integer from 0 to 65535, got ${opts.port}`);
  const host = opts.host === undefined || opts.host === '' ? '127.0.0.1' : opts.host.replace(/^\[(.*)\]$/, '$1');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && opts.health && (req.method === 'GET' || req.method === 'HEAD')) {
      let why: string | undefined;
      try {
        why = opts.health();
      } catch (err) {
        why = `health check failed: ${(err as Error).message}`;
      }
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(why ? `unhealthy: ${why}\n` : 'ok\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = opts.registry.render();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics rendering failed: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Keep-alive scrapes reuse one connection; idle ones do not hold the process.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
