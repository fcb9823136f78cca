// `ja4 run --metrics-listen HOST:PORT`: GET /healthz (200 "ok" while the
// pipeline runs and the writer is not stuck; 503 with the reason otherwise)
// and GET /metrics (Prometheus text format 0.0.4: every stage's counters as
// ja4_<stage>_<name>). Rendering reads counters only: a scrape never waits on
// the pipeline's work.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Stage } from './stage.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthSource {
  stages(): readonly Stage[];
  /** undefined when healthy, else why not */
  unhealthy(): string | undefined;
}

const sanitize = (s: string): string => s.replace(/[^a-zA-Z0-9_]/g, '_');

// Names that only grow; the rest are gauges.
const GAUGES = new Set(['connections', 'pending', 'backlog_bytes', 'spool_segments', 'spool_bytes', 'writer_spooling', 'writer_last_write_ms']);

export function renderMetrics(stages: readonly Stage[]): string {
  const lines: string[] = [];
  for (const stage of stages) {
    let stats: Record<string, number>;
    try {
      stats = stage.stats();
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(stats)) {
      if (!Number.isFinite(v)) continue;
      const name = `ja4_${sanitize(stage.name)}_${sanitize(k)}`;
      const type = GAUGES.has(k) ? 'gauge' : 'counter';
      lines.push(`# TYPE ${name} ${type}`, `${name} ${v}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`--metrics-listen must be HOST:PORT (e.g. 127.0.0.1:9464), got "${value}"`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export async function startHealthServer(listen: { host: string; port: number }, source: HealthSource): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const why = source.unhealthy();
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' }).end(why ? `unhealthy: ${why}\n` : 'ok\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(source.stages()));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: /healthz, /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
