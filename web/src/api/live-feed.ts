// The WebSocket feed (/ws): one connection per tab, shared by every
// component through topic subscriptions with reference counts. It recovers
// by itself: on close or silence it reconnects with exponential backoff
// (0.5 s doubling to 15 s, with jitter so a wall of screens does not
// reconnect in lockstep after a server restart), subscribes again, and
// resyncs from the last sequence number it saw, so nothing published while
// it was away is lost (protocol: src/dashboard/api-types.ts, WebSocket).
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type ClientMessage, type EventMessage, type ServerMessage } from '../../../src/dashboard/api-types.js';

export type FeedStatus = 'connecting' | 'open' | 'closed';
export type EventListener = (ev: EventMessage<string>) => void;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** a ping is sent after this much silence; the link is presumed dead after as much again */
const HEARTBEAT_MS = 10_000;

export class LiveFeed extends EventTarget {
  #ws: WebSocket | undefined;
  #status: FeedStatus = 'closed';
  #topics = new Map<string, Set<EventListener>>();
  #lastSeq: number | undefined;
  #topicSeq = new Map<string, number>();
  #lastTs: string | undefined;
  #bootId: string | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #started = false;
  #token: string | undefined;
  /** counters, for diagnostics */
  readonly stats = { connects: 0, events: 0, duplicates: 0, resyncs: 0 };

  get status(): FeedStatus {
    return this.#status;
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /**
   * Opens the connection (idempotent). A wall token is offered as a
   * subprotocol (browsers cannot set headers on WebSockets, and a URL would
   * put it in logs); the server answers `ja4.v1`.
   */
  start(token?: string): void {
    this.#token = token;
    if (this.#started) return;
    this.#started = true;
    this.#connect();
  }

  stop(): void {
    this.#started = false;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    this.#ws?.close(1000, 'bye');
    this.#ws = undefined;
    this.#setStatus('closed');
  }

  /** Listens to a topic; the returned function stops listening (and unsubscribes when nobody listens). */
  subscribe(topic: string, fn: EventListener): () => void {
    let set = this.#topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.#topics.set(topic, set);
      this.#send({ type: 'subscribe', topics: [topic] });
    }
    set.add(fn);
    return () => {
      const s = this.#topics.get(topic);
      if (s === undefined) return;
      s.delete(fn);
      if (s.size === 0) {
        this.#topics.delete(topic);
        this.#topicSeq.delete(topic);
        this.#send({ type: 'unsubscribe', topics: [topic] });
      }
    };
  }

  #setStatus(s: FeedStatus): void {
    if (this.#status === s) return;
    this.#status = s;
    this.dispatchEvent(new CustomEvent<FeedStatus>('status', { detail: s }));
  }

  #send(msg: ClientMessage): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(msg));
  }

  #connect(): void {
    if (!this.#started) return;
    this.#setStatus('connecting');
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = this.#token === undefined ? new WebSocket(url) : new WebSocket(url, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${this.#token}`]);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.onmessage = (ev) => {
      this.#lastHeard = Date.now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return; // not ours to interpret; the server only sends JSON
      }
      this.#onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      clearInterval(this.#heartbeat);
      this.#setStatus('closed');
      if (ev.code === 4001) this.dispatchEvent(new CustomEvent('unauthorized'));
      this.#scheduleReconnect();
    };
    // errors are followed by close, which does the recovery
    ws.onerror = () => undefined;
  }

  #onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case 'hello': {
        this.#attempt = 0;
        this.stats.connects++;
        this.#setStatus('open');
        this.#startHeartbeat();
        const topics = [...this.#topics.keys()];
        if (topics.length > 0) this.#send({ type: 'subscribe', topics });
        // A reconnect (not the first connection): ask for what we missed.
        if (this.#lastSeq !== undefined) {
          this.stats.resyncs++;
          this.#send({ type: 'resync', since_seq: this.#lastSeq, boot_id: this.#bootId, since_ts: this.#lastTs });
        } else {
          this.#lastSeq = msg.seq;
        }
        this.#bootId = msg.boot_id;
        this.dispatchEvent(new CustomEvent('hello', { detail: msg }));
        break;
      }
      case 'event':
        this.#deliver(msg);
        break;
      case 'batch':
        // events carry only seq and data: the topic and publish time are the batch's
        for (const ev of msg.events) this.#deliver({ type: 'event', topic: msg.topic, seq: ev.seq, ts: msg.ts, data: ev.data } as EventMessage);
        break;
      case 'resync_done':
        if (msg.seq > (this.#lastSeq ?? -1)) this.#lastSeq = msg.seq;
        if (msg.truncated) this.dispatchEvent(new CustomEvent('stale'));
        break;
      case 'error':
        console.warn(`live feed: ${msg.code}: ${msg.message}`);
        break;
      default:
        break;
    }
  }

  /**
   * One detection is published to `detections`, `ja4:<fp>` and `ip:<ip>`
   * with the same seq, so duplicates are found per topic; the highest seq
   * seen on any topic is where a resync starts.
   */
  #deliver(msg: EventMessage): void {
    const last = this.#topicSeq.get(msg.topic);
    // Live events may overlap a replay of the same range: seq orders them.
    // Database replays carry the seq current at the resync, so they pass.
    if (last !== undefined && msg.seq <= last && msg.replay !== true) {
      this.stats.duplicates++;
      return;
    }
    if (last === undefined || msg.seq > last) this.#topicSeq.set(msg.topic, msg.seq);
    if (this.#lastSeq === undefined || msg.seq > this.#lastSeq) this.#lastSeq = msg.seq;
    this.#lastTs = msg.ts;
    this.stats.events++;
    for (const fn of this.#topics.get(msg.topic) ?? []) fn(msg);
  }

  #startHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#lastHeard = Date.now();
    // Browsers notice a dead TCP link late (minutes); silence tells sooner.
    this.#heartbeat = setInterval(() => {
      const quiet = Date.now() - this.#lastHeard;
      if (quiet > 2 * HEARTBEAT_MS) this.#ws?.close(4000, 'silent');
      else if (quiet > HEARTBEAT_MS) this.#send({ type: 'ping' });
    }, HEARTBEAT_MS / 2);
  }

  #scheduleReconnect(): void {
    if (!this.#started) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt);
    this.#attempt++;
    const delay = base / 2 + Math.random() * (base / 2);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}

export const feed = new LiveFeed();

/**
 * Subscribes a component to topics while it is connected. `topics` is read
 * on connect and on refresh(), so a page can follow its route parameter.
 */
export class TopicController implements ReactiveController {
  #unsubs: (() => void)[] = [];

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly topics: () => string[],
    private readonly onEvent: EventListener,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.refresh();
  }

  hostDisconnected(): void {
    for (const u of this.#unsubs) u();
    this.#unsubs = [];
  }

  refresh(): void {
    this.hostDisconnected();
    this.#unsubs = this.topics().map((t) =>
      feed.subscribe(t, (ev) => {
        this.onEvent(ev);
        this.host.requestUpdate();
      }),
    );
  }
}
