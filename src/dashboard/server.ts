// startDashboard(): the uWebSockets.js server of the SOC dashboard: the
// JSON API under /api/, the WebSocket feed at /ws, and the web bundle
// (web/dist) for every other path. One process, main thread, sharing the
// Storage of whoever starts it (`ja4 dashboard` or `ja4 run`).
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Storage } from '../storage/index.js';
import { createLogger, type Logger } from '../config/logger.js';
import { StorageError } from '../storage/index.js';
import type { Detection, Role } from './api-types.js';
import { AuditUnavailableError } from './audit.js';
import { LoginRateLimiter, DEFAULT_RATE_LIMIT, type RateLimitOptions } from './auth/rate-limit.js';
import { SessionStore, DEFAULT_SESSION_OPTIONS, csrfMatches, sessionCookieName, type SessionOptions } from './auth/sessions.js';
import { UserStore, sha256 } from './auth/user-store.js';
import type { DashboardDeps, PipelineReport } from './deps.js';
import { DETECTION_COLUMNS } from './detection-rows.js';
import { HttpError, statusLine } from './http/errors.js';
import { Exchange, forwardedHttps, isReply, json, parseCookies, readRequestHead, type Reply, type Request } from './http/exchange.js';
import { chTime } from './http/params.js';
import { StaticFiles, isPagePath } from './http/static-files.js';
import { startPublisher, type PublisherOptions } from './publisher.js';
import { Router, roleAtLeast, type Principal } from './router.js';
import { DEFAULT_MAX_QUERY_MEMORY_BYTES, isMemoryLimit, scopedReads, select } from './sql.js';
import { loadUws, type ServerKind } from './uws.js';
import { Hub, type HubOptions } from './ws/hub.js';
import * as auditRoutes from './routes/audit.js';
import * as authRoutes from './routes/auth.js';
import * as campaignRoutes from './routes/campaigns.js';
import * as classificationRoutes from './routes/classifications.js';
import * as detectionRoutes from './routes/detections.js';
import * as ipRoutes from './routes/ip.js';
import * as ja4Routes from './routes/ja4.js';
import * as logRoutes from './routes/logs.js';
import * as modelRoutes from './routes/model.js';
import * as overviewRoutes from './routes/overview.js';
import * as pipelineRoutes from './routes/pipeline.js';
import * as userRoutes from './routes/users.js';

export const DEFAULT_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');
export const DEFAULT_LISTEN = '0.0.0.0:8000';

export interface DashboardOptions {
  /** HOST:PORT, :PORT or PORT (port 0: any free port) */
  listen?: string;
  webDir?: string;
  /** client address and scheme from X-Forwarded-For/-Proto (behind a reverse proxy) */
  trustProxy?: boolean;
  /** Secure cookie attribute: 'auto' (when the request came over TLS through a trusted proxy), or forced */
  secureCookies?: 'auto' | boolean;
  /** scrypt cost of hashes made by the API (tests lower it) */
  scryptCost?: number;
  /** how often wall tokens and users are re-read (revocations and user changes made elsewhere), ms; default 30,000 */
  authRefreshMs?: number;
  sessions?: Partial<SessionOptions>;
  rateLimit?: Partial<RateLimitOptions>;
  hub?: Partial<HubOptions>;
  /** false: no database polling (the caller publishes) */
  publisher?: Partial<PublisherOptions> | false;
  pipelineReport?: () => PipelineReport;
  modelDir?: string;
  /** max_memory_usage of every dashboard read, bytes (dashboard.max_query_memory_mb); default 2 GiB */
  maxQueryMemoryBytes?: number;
  /** the service's logger (default: JSON lines on stderr as ja4-dashboard) */
  log?: Logger;
  /** every answered request: route pattern ("static": web bundle, "unmatched": no API route), status code, seconds (the /metrics hook) */
  observe?: (route: string, code: number, seconds: number) => void;
}

export interface Dashboard {
  port: number;
  url: string;
  kind: ServerKind;
  hub: Hub;
  /** publish on topics (e.g. 'health', 'kpis'); returns the seq */
  publish(topic: string | string[], data: unknown): number;
  /** a detection on detections, ja4:<fp> and ip:<ip> */
  publishDetection(d: Detection): number;
  /** one detections poll now (tests, or after a write) */
  pollDetections(): Promise<number>;
  stop(): Promise<void>;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen must be HOST:PORT, :PORT or PORT (port 0 to 65535), got "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** Same-origin check: the Origin's host:port must be the Host header. */
export function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const MUTATIONS = new Set(['POST', 'PATCH', 'DELETE', 'PUT']);

export async function startDashboard(shared: Storage, opts: DashboardOptions = {}): Promise<Dashboard> {
  const maxQueryMemory = opts.maxQueryMemoryBytes ?? DEFAULT_MAX_QUERY_MEMORY_BYTES;
  if (!Number.isSafeInteger(maxQueryMemory) || maxQueryMemory < 1) throw new Error(`maxQueryMemoryBytes must be a positive integer, got ${maxQueryMemory}`);
  // every read below (routes, live-feed resync, publisher) has the memory cap, and its settings scoped to itself
  const storage = scopedReads(shared, { max_memory_usage: String(maxQueryMemory) });
  const { uws, kind } = loadUws();
  const log = opts.log ?? createLogger({ service: 'ja4-dashboard' });
  const { host, port } = parseListen(opts.listen ?? DEFAULT_LISTEN);
  if (kind === 'ws-fallback') log.warn('uWebSockets.js has no binary for this platform/Node; running on its pure-JS fallback (ws), slower');

  // logins and token checks are small fixed reads, outside the cap: a low cap must not lock everyone out
  const users = new UserStore(shared, opts.scryptCost);
  const sessions = new SessionStore({ ...DEFAULT_SESSION_OPTIONS, ...opts.sessions });
  const limiter = new LoginRateLimiter({ ...DEFAULT_RATE_LIMIT, ...opts.rateLimit });
  const anomalies = storage.tables.read('mlDetectedAnomalies');
  const hub = new Hub(
    opts.hub,
    (sinceTs, filter, limit) =>
      select<Detection>(
        storage,
        `SELECT ${DETECTION_COLUMNS} FROM ${anomalies} AS det
         WHERE detected_at > {since:DateTime64(3, 'UTC')}
           AND ({all:Bool} OR ja4 IN {ja4s:Array(String)} OR det.client_ip IN arrayMap(x -> toIPv6(x), {ips:Array(String)}))
         ORDER BY detected_at LIMIT {limit:UInt32}`,
        { since: chTime(new Date(sinceTs)), all: filter.all, ja4s: filter.ja4s, ips: filter.ips, limit },
      ),
    log,
    kind,
  );
  const report = opts.pipelineReport ?? (() => ({}));
  const deps: DashboardDeps = {
    storage,
    users,
    sessions,
    limiter,
    hub,
    log,
    kind,
    bootId: hub.bootId,
    secureCookies: opts.secureCookies ?? 'auto',
    pipelineReport: report,
    modelDir: opts.modelDir,
    health: () => pipelineRoutes.pipelineHealth(storage, hub, report()),
  };

  const router = new Router();
  for (const mod of [authRoutes, overviewRoutes, detectionRoutes, ja4Routes, ipRoutes, campaignRoutes, logRoutes, modelRoutes, pipelineRoutes, auditRoutes, classificationRoutes, userRoutes]) {
    mod.register(router, deps);
  }

  // wall tokens: hashes cached, refreshed every 30 s and on an unknown token (at most once a second,
  // so random tokens cannot make every request a query); a revocation takes effect within 30 s
  let tokens = await users.tokenHashes();
  let tokensAt = Date.now();
  const refreshTokens = async (): Promise<void> => {
    tokensAt = Date.now();
    tokens = await users.tokenHashes();
    hub.recheckNow(); // a revoked token's WebSockets close now, not at the next sweep
  };
  sessions.onEnded = () => hub.recheckNow();
  // sessions re-checked against the users table on the same clock: with a ClickHouse server,
  // `ja4 user remove|passwd|role` runs in another process, whose changes updateUser never sees
  const reconcileSessions = async (): Promise<void> => {
    const since = Date.now();
    const { ended, roles } = sessions.reconcile(await users.sessionStates(), since);
    if (ended + roles > 0) log.info('sessions re-checked against the users table', { ended, role_changes: roles });
  };
  const refreshAuth = async (): Promise<void> => {
    await Promise.all([
      refreshTokens().catch((e: Error) => log.warn('API token refresh failed', { error: e.message })),
      reconcileSessions().catch((e: Error) => log.warn('session re-check failed', { error: e.message })),
    ]);
  };
  const tokenTimer = setInterval(() => void refreshAuth(), opts.authRefreshMs ?? 30_000);
  tokenTimer.unref();
  const tokenPrincipal = async (token: string): Promise<Principal | null> => {
    const h = sha256(token);
    if (!tokens.has(h) && Date.now() - tokensAt > 1000) await refreshTokens();
    const t = tokens.get(h);
    return t ? { name: `token:${t.name}`, role: t.role as Role, via: 'token', tokenHash: h } : null;
  };
  // an open WebSocket's principal, re-checked by the hub: a session ended (logout, password change,
  // removal, expiry) or a token revoked (gone from the cache at its next refresh) closes it
  const revalidate = (p: Principal): Role | null => {
    if (p.via === 'token') return (p.tokenHash && (tokens.get(p.tokenHash)?.role as Role | undefined)) || null;
    return sessions.peek(p.sessionId)?.role ?? null;
  };

  /** The session of a request's cookies: over HTTPS only the __Host- cookie (a plain one could have been planted: auth.ts, sessions.ts). */
  const sessionPrincipal = (cookies: Record<string, string>, secure: boolean): Principal | null => {
    const id = cookies[sessionCookieName(authRoutes.cookiesSecure(deps, secure))];
    const session = sessions.get(id);
    return session ? { name: session.user, role: session.role, via: 'session', session, sessionId: id } : null;
  };

  const authenticate = async (req: Request): Promise<Principal | null> => {
    const bearer = /^Bearer\s+(\S{1,200})$/i.exec(req.headers.authorization ?? '');
    if (bearer) return tokenPrincipal(bearer[1]!);
    return sessionPrincipal(req.cookies, req.secure);
  };

  const web = new StaticFiles(opts.webDir ?? DEFAULT_WEB_DIR);
  const exchangeOpts = { trustProxy: opts.trustProxy ?? false };

  const send = async (ex: Exchange, pattern: string, t0: number, reply: Reply): Promise<void> => {
    await ex.send(reply);
    opts.observe?.(pattern, Number.parseInt(reply.status ?? '200', 10), (performance.now() - t0) / 1000);
  };

  async function handleApi(ex: Exchange): Promise<void> {
    const req = ex.request;
    const t0 = performance.now();
    let pattern = 'unmatched';
    try {
      const { route, params } = router.match(req.method, req.path);
      pattern = route.path;
      req.params = params;
      req.body = await ex.readBody();
      const principal = await authenticate(req);
      if (route.role !== null) {
        if (!principal) throw new HttpError('unauthorized', 'log in first (or give a wall token)');
        if (!roleAtLeast(principal.role, route.role)) throw new HttpError('forbidden', `this needs the ${route.role} role; ${principal.name} is ${principal.role}`);
      }
      if (MUTATIONS.has(req.method)) {
        const origin = req.headers.origin;
        if (origin && !sameOrigin(origin, req.headers.host ?? '')) throw new HttpError('csrf', `cross-origin request from ${origin} refused`);
        if (route.role !== null && principal) {
          if (principal.via === 'token') throw new HttpError('forbidden', 'wall tokens are read-only');
          if (!principal.session || !csrfMatches(principal.session, req.headers['x-csrf-token'])) throw new HttpError('csrf', 'missing or wrong X-CSRF-Token header');
        }
      }
      const result = await route.handler({ req, principal });
      await send(ex, pattern, t0, isReply(result) ? result : json(result));
    } catch (err) {
      await send(ex, pattern, t0, errorReply(err, req, log));
    }
  }

  async function handleStatic(ex: Exchange): Promise<void> {
    const req = ex.request;
    const t0 = performance.now();
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError('method_not_allowed', `${req.method} is not allowed on ${req.path}`, undefined, { Allow: 'GET, HEAD' });
      const file = await web.file(req.path);
      if (file) return await send(ex, 'static', t0, file);
      if (isPagePath(req.path)) return await send(ex, 'static', t0, await web.index());
      throw new HttpError('not_found', `${req.path} not found`);
    } catch (err) {
      await send(ex, 'static', t0, errorReply(err, req, log));
    }
  }

  const app = uws.App();
  hub.attach(
    app,
    async (cookieHeader, token, forwardedProto) => {
      if (token) return tokenPrincipal(token);
      return sessionPrincipal(parseCookies(cookieHeader), forwardedHttps(forwardedProto, opts.trustProxy ?? false));
    },
    sameOrigin,
    revalidate,
  );
  app.any('/*', (res, req) => {
    const ex = new Exchange(res, readRequestHead(res, req, exchangeOpts));
    void (ex.request.path === '/api' || ex.request.path.startsWith('/api/') ? handleApi(ex) : handleStatic(ex));
  });

  const listenSocket = await new Promise<unknown>((resolveListen, reject) => {
    app.listen(host, port, (socket) => (socket ? resolveListen(socket) : reject(new Error(`--listen ${host}:${port}: cannot listen (address in use or not available)`))));
  });
  const boundPort = uws.us_socket_local_port(listenSocket as never);

  const publisher = opts.publisher === false ? undefined : startPublisher(storage, hub, deps.health, opts.publisher, log);

  let stopped = false;
  return {
    port: boundPort,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    kind,
    hub,
    publish: (topic, data) => hub.publish(Array.isArray(topic) ? topic : [topic], data),
    publishDetection: (d) => hub.publishDetection(d),
    pollDetections: async () => (publisher ? publisher.pollDetections() : 0),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      clearInterval(tokenTimer);
      await publisher?.stop();
      hub.close();
      uws.us_listen_socket_close(listenSocket as never);
      closeConnections(app, listenSocket);
    },
  };
}

/**
 * Ends the connections still open after the listen socket is closed (HTTP
 * keep-alive ones, an upgrade in progress), so that stop() leaves nothing
 * holding the event loop. uWS >= 20.30's App.close() does it (missing from
 * the package's types); the `ws` fallback's listen socket is its context,
 * whose Node http.Server can close every connection.
 */
function closeConnections(app: TemplatedApp, listenSocket: unknown): void {
  const native = app as TemplatedApp & { close?: () => void };
  if (typeof native.close === 'function') {
    native.close();
    return;
  }
  (listenSocket as { http?: { closeAllConnections?: () => void } | null }).http?.closeAllConnections?.();
}

/** Any error as an ApiError reply; unexpected ones are logged with the request id, not shown. */
function errorReply(err: unknown, req: Request, log: Logger) {
  if (err instanceof HttpError) {
    return json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, err.status, err.headers);
  }
  if (err instanceof AuditUnavailableError) {
    // nothing changed: the client is told so, the operator gets the cause
    log.error('change refused: its audit row could not be written', { method: req.method, path: req.path, request_id: req.requestId, action: err.records[0]?.action, error: err.message });
    return json(
      { error: { code: 'audit_unavailable', message: 'the change was not made because the audit trail could not be written; try again later', request_id: req.requestId } },
      statusLine('audit_unavailable'),
    );
  }
  if (isMemoryLimit(err)) {
    // the query was refused, nothing broke: a warning, and the client learns why (not a 500)
    log.warn('query refused for memory (dashboard.max_query_memory_mb)', { method: req.method, path: req.path, request_id: req.requestId, error: err instanceof Error ? err.message : String(err) });
    return json(
      { error: { code: 'query_too_large', message: 'the query needed more memory than the dashboard allows (dashboard.max_query_memory_mb); narrow the time range or the filters', request_id: req.requestId } },
      statusLine('query_too_large'),
    );
  }
  const unavailable = err instanceof StorageError && err.code !== 'ERR_STORAGE_QUERY';
  log.error('request failed', { method: req.method, path: req.path, request_id: req.requestId, error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
  const code = unavailable ? 'unavailable' : 'internal';
  return json(
    { error: { code, message: unavailable ? 'the database is not available' : 'internal error (see the server log)', request_id: req.requestId } },
    unavailable ? '503 Service Unavailable' : '500 Internal Server Error',
  );
}
