// The WebSocket feed (/ws): topics, sequence numbers, batching, resync and
// backpressure, on uWebSockets.js's native pub/sub.
//
// - publish() gives an item the next seq, keeps it in the ring (resyncs)
//   and queues it on each of its topics; a flush on the next tick of a
//   fixed frame clock (every batchMs) sends each topic's queue as one
//   `batch` frame through app.publish, so the fan-out to N subscribers
//   happens in C++, one JS call per topic. The clock is fixed, not "batchMs
//   after the first item": under load a subscriber then gets at most one
//   frame per topic per tick whatever the fan-out takes, and the frames a
//   1,000-client wall costs are known in advance (a send is one syscall
//   per subscriber; on loopback its cost is mostly the kernel's, so frames,
//   not bytes, set the server's CPU).
// - Detections go out as LiveDetection (the fields a ticker shows), not the
//   full row.
// - A client whose send buffer passes maxBufferedBytes is closed with 4008
//   (a sweep every sweepMs); uWS itself stops queueing for a socket at
//   twice that (maxBackpressure), so memory per client is bounded even
//   between sweeps. The client reconnects and resyncs from its last seq.
// - Resync: from the ring when the boot id matches and the ring still
//   holds everything after the client's seq; else from the database by
//   time (detections); kpis and health are state, so their latest value.
//
// Runs on the main thread (uWS calls back on it).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TemplatedApp, WebSocket, WebSocketBehavior } from '@trufflesuite/uws-js-unofficial';
import { FIXED_TOPICS, MAX_TOPICS_PER_CLIENT, WS_CLOSE_TOO_SLOW, WS_CLOSE_UNAUTHORIZED, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type Detection } from '../api-types.js';
import { JA4_PATTERN, ipValue } from '../http/params.js';
import { SECURITY_HEADERS } from '../http/exchange.js';
import type { Principal } from '../router.js';
import { Ring, type RingItem } from './ring.js';
import { liveDetection } from './live-detection.js';
import { silentLogger, type Logger } from '../../config/logger.js';

export interface HubOptions {
  /** items kept for resyncs */
  ringSize: number;
  ringBytes: number;
  /** a client with more unsent bytes than this is dropped */
  maxBufferedBytes: number;
  /** the frame clock's period: items published within one tick go out together at its end */
  batchMs: number;
  sweepMs: number;
  /** most events replayed in one resync */
  resyncLimit: number;
  /** how far back a database resync reads (an older since_ts is clamped, the answer truncated) */
  resyncMaxAgeMs: number;
  /** least time between two resyncs of one connection */
  resyncIntervalMs: number;
  /** how often open connections' sessions and tokens are re-checked (logout, revocation, expiry) */
  authCheckMs: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
  ringSize: 50_000,
  ringBytes: 32 * 1024 * 1024,
  maxBufferedBytes: 1024 * 1024,
  batchMs: 15,
  sweepMs: 250,
  resyncLimit: 5000,
  resyncMaxAgeMs: 3_600_000,
  resyncIntervalMs: 1000,
  authCheckMs: 500,
};

export interface ClientData {
  id: number;
  principal: Principal | null;
  topics: Set<string>;
  /** a resync is running (each may be a database query: one at a time) */
  resyncing: boolean;
  /** when the last resync began (performance.now()) */
  lastResyncAt: number;
}

/** Detections from the database after a time, for topics the ring cannot serve. */
export type DetectionsSince = (sinceTs: string, filter: { all: boolean; ja4s: string[]; ips: string[] }, limit: number) => Promise<Detection[]>;

/**
 * Sec-WebSocket-Protocol of an upgrade: the wall token offered as
 * `ja4.token.<token>`, and what to answer: `ja4.v1` when offered, else
 * nothing (the offered list is never echoed: it may hold the token).
 * A `?token=` in the URL is not read: URLs are logged by proxies.
 */
export function offeredProtocols(header: string): { token: string | null; answer: string } {
  const offered = header.split(',').map((p) => p.trim());
  const entry = offered.find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
  return { token: entry ? entry.slice(WS_TOKEN_PROTOCOL_PREFIX.length) || null : null, answer: offered.includes(WS_PROTOCOL) ? WS_PROTOCOL : '' };
}

/** Authenticates an upgrade (cookie header, or the wall token offered as a subprotocol); null: refused. */
export type UpgradeAuth = (cookieHeader: string, token: string | null, forwardedProto: string) => Promise<Principal | null>;

/** An open connection's principal re-checked: its role now, or null when its session or token is gone. */
export type Revalidate = (principal: Principal) => Principal['role'] | null;

const STATE_TOPICS = new Set(['kpis', 'health']);

/** A topic name as the server knows it, or undefined when not a valid one (ip: canonical form). */
export function normalizeTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic.length > 200) return undefined;
  if ((FIXED_TOPICS as readonly string[]).includes(topic)) return topic;
  if (topic.startsWith('ja4:') && JA4_PATTERN.test(topic.slice(4))) return topic;
  if (topic.startsWith('ip:')) {
    try {
      return `ip:${ipValue('topic', topic.slice(3))}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A fixed frame clock of period `periodMs` on the monotonic clock. next()
 * is the delay to the end of the current tick, never into a tick already
 * flushed: Node timers may fire up to a millisecond early, and an item
 * published right after such a flush must wait for the next tick, not make
 * a second frame in the same one.
 */
export class FrameClock {
  private lastTick = -1;
  constructor(private readonly periodMs: number) {}

  /** ms until the tick that the next flush belongs to ends; marks that tick as taken */
  next(nowMs = performance.now()): number {
    const tick = Math.max(Math.floor(nowMs / this.periodMs) + 1, this.lastTick + 1);
    this.lastTick = tick;
    return Math.max(1, tick * this.periodMs - nowMs);
  }
}

/** A batch frame (api-types ServerMessage 'batch'): events as {seq, data}, the topic and the last publish time once. */
function batchJson(topic: string, items: RingItem[]): string {
  let events = '';
  for (const item of items) events += `${events ? ',' : ''}{"seq":${item.seq},"data":${item.data}}`;
  return `{"type":"batch","topic":${JSON.stringify(topic)},"ts":"${items[items.length - 1]!.ts}","events":[${events}]}`;
}

function eventJson(topic: string, item: RingItem, replay = false): string {
  return `{"type":"event","topic":${JSON.stringify(topic)},"seq":${item.seq},"ts":"${item.ts}","data":${item.data}${replay ? ',"replay":true' : ''}}`;
}

export class Hub {
  readonly bootId = randomUUID();
  seq = 0;
  private readonly opts: HubOptions;
  private readonly ring: Ring;
  /** items queued per topic until the next flush; their JSON is built only for a topic someone follows */
  private readonly pending = new Map<string, RingItem[]>();
  private readonly latest = new Map<string, RingItem>();
  private readonly clients = new Set<WebSocket<ClientData>>();
  private app: TemplatedApp | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly clock: FrameClock;
  private sweepTimer: NodeJS.Timeout | undefined;
  private revalidate: Revalidate | undefined;
  private lastAuthCheck = 0;
  private nextClientId = 1;
  private counters = { published: 0, dropped_slow: 0, frames: 0, closed_unauthorized: 0 };
  /** the most unsent bytes one client had at a sweep (memory bound check) */
  private peakBuffered = 0;

  constructor(
    opts: Partial<HubOptions> = {},
    private readonly detectionsSince?: DetectionsSince,
    private readonly log: Logger = silentLogger(),
    private readonly kind: 'uws' | 'ws-fallback' = 'uws',
  ) {
    this.opts = { ...DEFAULT_HUB_OPTIONS, ...opts };
    this.ring = new Ring(this.opts.ringSize, this.opts.ringBytes);
    this.clock = new FrameClock(this.opts.batchMs);
  }

  stats(): { clients: number; dropped_slow: number; published: number } {
    return { clients: this.clients.size, dropped_slow: this.counters.dropped_slow, published: this.counters.published };
  }

  /** frames sent and the largest per-client send buffer seen (tests, bench) */
  transportStats(): { frames: number; peakBufferedBytes: number } {
    return { frames: this.counters.frames, peakBufferedBytes: this.peakBuffered };
  }

  subscribers(topic: string): number {
    return this.app?.numSubscribers(topic) ?? 0;
  }

  ringStats(): { size: number; bytes: number; oldestSeq: number | undefined } {
    return { size: this.ring.size, bytes: this.ring.byteSize, oldestSeq: this.ring.oldestSeq };
  }

  /** Queues an item on its topics; returns its seq. `data` must be JSON-serializable. */
  publish(topics: string[], data: unknown): number {
    const item: RingItem = { seq: ++this.seq, ts: new Date().toISOString(), topics, data: JSON.stringify(data) };
    this.counters.published++;
    this.ring.push(item);
    for (const topic of topics) {
      if (STATE_TOPICS.has(topic)) this.latest.set(topic, item);
      let queue = this.pending.get(topic);
      if (!queue) this.pending.set(topic, (queue = []));
      queue.push(item);
    }
    this.flushTimer ??= setTimeout(() => this.flush(), this.clock.next());
    return item.seq;
  }

  publishDetection(d: Detection): number {
    return this.publish(['detections', `ja4:${d.ja4}`, `ip:${d.client_ip}`], liveDetection(d));
  }

  /** Sends every topic's queue as one batch frame (skipping topics nobody follows). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const app = this.app;
    for (const [topic, items] of this.pending) {
      // most ja4:/ip: topics of a detection have no subscriber: no JSON for them
      if (app && app.numSubscribers(topic) > 0) {
        app.publish(topic, batchJson(topic, items), false, false);
        this.counters.frames++;
      }
    }
    this.pending.clear();
  }

  /** Closes the clients that fell too far behind, and (every authCheckMs) those whose session or token ended. */
  private sweep(): void {
    const now = performance.now();
    if (this.revalidate && now - this.lastAuthCheck >= this.opts.authCheckMs) {
      this.lastAuthCheck = now;
      this.recheckAuth(this.revalidate);
    }
    for (const ws of this.clients) {
      const buffered = ws.getBufferedAmount();
      if (buffered > this.peakBuffered) this.peakBuffered = buffered;
      if (buffered > this.opts.maxBufferedBytes) {
        this.counters.dropped_slow++;
        this.log.warn('websocket client dropped: too slow', { reason: 'too_slow', client: ws.getUserData().id, unsent_bytes: ws.getBufferedAmount() });
        ws.end(WS_CLOSE_TOO_SLOW, 'too slow');
      }
    }
  }

  /** Re-checks every open connection now (a session ended, the token cache was refreshed). */
  recheckNow(): void {
    if (this.revalidate) this.recheckAuth(this.revalidate);
  }

  /**
   * The principal is fixed at the upgrade, and pings keep a socket open
   * for ever: without this a logout, a removed user, a revoked wall token
   * or an expired session would keep the feed.
   */
  private recheckAuth(revalidate: Revalidate): void {
    for (const ws of this.clients) {
      const data = ws.getUserData();
      if (!data.principal) continue;
      const role = revalidate(data.principal);
      if (role) {
        data.principal.role = role;
        continue;
      }
      this.counters.closed_unauthorized++;
      this.log.info('websocket client closed: session or token ended', { reason: 'unauthorized', client: data.id, user: data.principal.name });
      this.clients.delete(ws);
      ws.end(WS_CLOSE_UNAUTHORIZED, 'session ended');
    }
  }

  /**
   * The /ws behaviour; `auth` checks the session cookie or wall token at
   * the upgrade, `revalidate` re-checks open connections every authCheckMs.
   */
  attach(app: TemplatedApp, auth: UpgradeAuth, allowedOrigin: (origin: string, host: string) => boolean, revalidate?: Revalidate): void {
    this.app = app;
    this.revalidate = revalidate;
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepMs);
    this.sweepTimer.unref();
    const behavior: WebSocketBehavior<ClientData> = {
      maxPayloadLength: 16 * 1024,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: this.opts.maxBufferedBytes * 2,
      upgrade: (res, req, context) => {
        const key = req.getHeader('sec-websocket-key');
        const { token, answer } = offeredProtocols(req.getHeader('sec-websocket-protocol'));
        const extensions = req.getHeader('sec-websocket-extensions');
        const cookie = req.getHeader('cookie');
        // which session cookie to read: behind a trusted TLS proxy, the __Host- one
        const forwardedProto = req.getHeader('x-forwarded-proto');
        const origin = req.getHeader('origin');
        const host = req.getHeader('host');
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        // a page of another site must not ride the user's cookie (cross-site WebSocket hijacking)
        const originOk = origin === '' || allowedOrigin(origin, host);
        const done = (principal: Principal | null): void => {
          if (aborted) return;
          res.cork(() => {
            if (!originOk) {
              res.writeStatus('403 Forbidden');
              for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.writeHeader(k, v);
              res.end('cross-origin WebSocket refused');
              return;
            }
            res.upgrade<ClientData>({ id: this.nextClientId++, principal, topics: new Set(), resyncing: false, lastResyncAt: -Infinity }, key, answer, extensions, context);
          });
        };
        auth(cookie, token, forwardedProto).then(done, () => done(null));
      },
      open: (ws) => {
        const data = ws.getUserData();
        if (!data.principal) {
          ws.end(WS_CLOSE_UNAUTHORIZED, 'unauthorized');
          return;
        }
        this.clients.add(ws);
        this.send(ws, { type: 'hello', boot_id: this.bootId, seq: this.seq, server: this.kind, user: { name: data.principal.name, role: data.principal.role } });
      },
      message: (ws, message) => {
        let msg: unknown;
        try {
          msg = JSON.parse(Buffer.from(message).toString('utf8'));
        } catch {
          this.send(ws, { type: 'error', code: 'bad_request', message: 'messages must be JSON objects' });
          return;
        }
        this.onMessage(ws, msg);
      },
      close: (ws) => {
        this.clients.delete(ws);
      },
    };
    app.ws('/ws', behavior);
  }

  private send(ws: WebSocket<ClientData>, msg: unknown): void {
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg), false, false);
  }

  private onMessage(ws: WebSocket<ClientData>, msg: unknown): void {
    if (msg === null || typeof msg !== 'object') {
      this.send(ws, { type: 'error', code: 'bad_request', message: 'messages must be JSON objects' });
      return;
    }
    const m = msg as Record<string, unknown>;
    const data = ws.getUserData();
    switch (m.type) {
      case 'subscribe':
      case 'unsubscribe': {
        if (!Array.isArray(m.topics) || m.topics.length > MAX_TOPICS_PER_CLIENT) {
          this.send(ws, { type: 'error', code: 'bad_request', message: `topics must be an array of at most ${MAX_TOPICS_PER_CLIENT} topics` });
          return;
        }
        const topics: string[] = [];
        for (const raw of m.topics) {
          const topic = normalizeTopic(raw);
          if (!topic) {
            this.send(ws, { type: 'error', code: 'bad_request', message: `unknown topic ${JSON.stringify(raw)}: detections, kpis, health, ja4:<fingerprint> or ip:<address>` });
            return;
          }
          topics.push(topic);
        }
        if (m.type === 'subscribe') {
          if (new Set([...data.topics, ...topics]).size > MAX_TOPICS_PER_CLIENT) {
            this.send(ws, { type: 'error', code: 'too_many_topics', message: `at most ${MAX_TOPICS_PER_CLIENT} topics per connection` });
            return;
          }
          for (const t of topics) {
            data.topics.add(t);
            ws.subscribe(t);
          }
          this.send(ws, { type: 'subscribed', topics });
          // state topics: the current value at once
          for (const t of topics) {
            const item = this.latest.get(t);
            if (item) this.send(ws, batchJson(t, [item]));
          }
        } else {
          for (const t of topics) {
            data.topics.delete(t);
            ws.unsubscribe(t);
          }
          this.send(ws, { type: 'unsubscribed', topics });
        }
        return;
      }
      case 'resync': {
        // each resync may read the database: one at a time per connection, and not in a loop
        const now = performance.now();
        if (data.resyncing) {
          this.send(ws, { type: 'error', code: 'resync_in_progress', message: 'a resync is already running on this connection' });
          return;
        }
        if (now - data.lastResyncAt < this.opts.resyncIntervalMs) {
          this.send(ws, { type: 'error', code: 'rate_limited', message: `at most one resync per ${this.opts.resyncIntervalMs} ms` });
          return;
        }
        data.resyncing = true;
        data.lastResyncAt = now;
        void this.resync(ws, m).finally(() => {
          data.resyncing = false;
        });
        return;
      }
      case 'ping':
        this.send(ws, { type: 'pong', ...(typeof m.id === 'number' ? { id: m.id } : {}), seq: this.seq });
        return;
      default:
        this.send(ws, { type: 'error', code: 'bad_request', message: `unknown message type ${JSON.stringify(m.type)}: subscribe, unsubscribe, resync or ping` });
    }
  }

  private async resync(ws: WebSocket<ClientData>, m: Record<string, unknown>): Promise<void> {
    const data = ws.getUserData();
    const topics = data.topics;
    const sinceSeq = typeof m.since_seq === 'number' && Number.isInteger(m.since_seq) && m.since_seq >= 0 ? m.since_seq : undefined;
    let sinceTs = typeof m.since_ts === 'string' && !Number.isNaN(Date.parse(m.since_ts)) ? new Date(m.since_ts) : undefined;
    // an old since_ts would sort the whole retention: read at most resyncMaxAgeMs back and say so
    const floor = Date.now() - this.opts.resyncMaxAgeMs;
    const clamped = sinceTs !== undefined && sinceTs.getTime() < floor;
    if (clamped) sinceTs = new Date(floor);
    const limit = this.opts.resyncLimit;
    let alive = true;
    const safeSend = (text: string): void => {
      if (!alive) return;
      try {
        ws.send(text, false, false);
      } catch {
        alive = false; // closed meanwhile
      }
    };
    // 1. the ring: same server run, nothing evicted since the client's seq
    if (sinceSeq !== undefined && m.boot_id === this.bootId && sinceSeq <= this.seq) {
      const items = this.ring.since(sinceSeq);
      if (items) {
        let replayed = 0;
        let truncated = false;
        for (const item of items) {
          const topic = item.topics.find((t) => topics.has(t));
          if (!topic) continue;
          if (replayed === limit) {
            truncated = true;
            break;
          }
          safeSend(eventJson(topic, item, true));
          replayed++;
        }
        safeSend(JSON.stringify({ type: 'resync_done', source: 'ring', replayed, seq: this.seq, truncated }));
        return;
      }
    }
    // 2. the database, by time
    const seqNow = this.seq;
    const ts = new Date().toISOString();
    let replayed = 0;
    let truncated = sinceSeq !== undefined || sinceTs === undefined;
    let source: 'database' | 'none' = 'none';
    const ja4s = [...topics].filter((t) => t.startsWith('ja4:')).map((t) => t.slice(4));
    const ips = [...topics].filter((t) => t.startsWith('ip:')).map((t) => t.slice(3));
    const all = topics.has('detections');
    if (sinceTs && this.detectionsSince && (all || ja4s.length > 0 || ips.length > 0)) {
      try {
        const rows = await this.detectionsSince(sinceTs.toISOString(), { all, ja4s, ips }, limit + 1);
        source = 'database';
        truncated = rows.length > limit || clamped;
        for (const d of rows.slice(0, limit)) {
          const topic = all ? 'detections' : topics.has(`ja4:${d.ja4}`) ? `ja4:${d.ja4}` : `ip:${d.client_ip}`;
          safeSend(eventJson(topic, { seq: seqNow, ts, topics: [topic], data: JSON.stringify(liveDetection(d)) }, true));
          replayed++;
        }
      } catch (err) {
        this.log.warn('websocket resync from the database failed', { error: (err as Error).message });
        truncated = true;
      }
    } else if (sinceTs) {
      truncated = false;
    }
    for (const t of STATE_TOPICS) {
      const item = this.latest.get(t);
      if (item && topics.has(t)) safeSend(eventJson(t, item, true));
    }
    safeSend(JSON.stringify({ type: 'resync_done', source, replayed, seq: seqNow, truncated }));
  }

  /** Ends every connection (server stop). */
  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.flushTimer = undefined;
    for (const ws of [...this.clients]) ws.end(1001, 'server stopping');
    this.clients.clear();
  }
}
