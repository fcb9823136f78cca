// The join of the two halves of a request: TLS events from the capture
// (one per connection) and mod_reqin_log records (one per request). Pure
// and single-threaded: the caller gives it the time ("now", microseconds)
// with every call, so tests drive every window exactly and the worker can
// run it on the wall clock (live) or on the data's own clock (replays).
//
// Rules (issue 6, "Correlating"):
// * Key: client IP and port; the server IP and port must agree when both
//   sides know them.
// * A TLS event describes a connection; every request on it gets its
//   fingerprints (keep-alive, HTTP/2 streams). Once a request from Apache
//   connection `conn` joined a TLS connection, that pairing is kept: later
//   requests of the same Apache connection go to it, and a request of
//   another Apache connection never does (that is another TCP connection
//   on a reused port).
// * A connection stays until its close event plus a grace period (records
//   of its last requests may still be in flight), its idle timeout, or the
//   window, whichever comes first.
// * An HTTPS request whose TLS event is not there yet waits up to tlsWaitMs
//   (arrival time); then it is written as tls_not_seen. Plain HTTP is written
//   at once as no_tls. Nothing is dropped: memory limits push the oldest
//   waiting request out as tls_not_seen and evict the oldest connection,
//   both counted.
// * Port reuse: among the connections of a key, the request goes to the one
//   that was open at its timestamp (first_ts_us <= ts <= close), the newest
//   such. A new flow event on a key marks older open connections closed at
//   its start (a new SYN on the same 4-tuple ends the old connection).
import type { FlowEvent } from '../capture/tls-event.js';
import type { HttpRecord, JoinRecord } from './http-record.js';
import { CORRELATION_STATUSES, type CorrelationStatus, type RowBody, type RowEncoder } from './row-encoder.js';
import type { JoinClose, JoinFlow } from './tls-event-input.js';

export interface CorrelatorOptions {
  /** how long an HTTPS request waits for its connection's TLS event (arrival time) */
  tlsWaitMs: number;
  /** how long a closed connection still takes late records */
  closeGraceMs: number;
  /** a connection with no event and no request for this long is forgotten */
  idleTimeoutMs: number;
  /** a connection is forgotten this long after its TLS event at the latest */
  windowMs: number;
  /** clock difference tolerated between the capture and Apache */
  skewMs: number;
  /** connections kept; past it the oldest is evicted (counted) */
  maxConnections: number;
  /** requests waiting for a TLS event; past it the oldest is written as tls_not_seen (counted) */
  maxPending: number;
  /** write the raw halves to ja4_logs.http_requests and ja4_logs.tls_events too */
  rawTables: boolean;
  /**
   * Plain-HTTP requests with no known connection wait tlsWaitMs too, for
   * the flow event of a capture that sees cleartext traffic (reported at
   * the connection's first request: its JA4T/JA4TS/JA4L), then are written
   * no_tls. Off: written at once, with TCP fingerprints only when the flow
   * event came first.
   */
  plainHttpWait: boolean;
}

export const DEFAULT_CORRELATOR_OPTIONS: Readonly<CorrelatorOptions> = Object.freeze({
  tlsWaitMs: 2000,
  closeGraceMs: 5000,
  idleTimeoutMs: 300_000,
  windowMs: 3_600_000,
  skewMs: 250,
  maxConnections: 500_000,
  maxPending: 200_000,
  rawTables: true,
  plainHttpWait: false,
});

export interface CorrelatorStats {
  http_records: number;
  flow_events: number;
  close_events: number;
  /** rows written per correlation status */
  matched: number;
  no_tls: number;
  tls_not_seen: number;
  /** requests that had to wait for their connection's flow event, and then got it */
  matched_late: number;
  /** a flow event on a key that already had an open connection */
  port_reuse: number;
  /** duplicate flow events (same key and start) ignored */
  duplicate_flows: number;
  close_without_flow: number;
  /** close events that end nothing: the capture stopped tracking a flow (idle, evicted) */
  close_untracked: number;
  /** connections forgotten, by why */
  expired_closed: number;
  expired_idle: number;
  expired_window: number;
  evicted_connections: number;
  /** connections forgotten without any request (TLS seen, no HTTP record) */
  connections_without_http: number;
  pending_overflow: number;
  /**
   * requests that were waiting for their connection's TLS event in a
   * correlator replaced after a failed step, or in a worker that died: never
   * written (set by `retired()`, batch-correlator.ts)
   */
  pending_lost: number;
  /** gauges */
  connections: number;
  pending: number;
}

const STAT_KEYS = [
  'http_records', 'flow_events', 'close_events', 'matched', 'no_tls', 'tls_not_seen', 'matched_late', 'port_reuse', 'duplicate_flows',
  'close_without_flow', 'close_untracked', 'expired_closed', 'expired_idle', 'expired_window', 'evicted_connections', 'connections_without_http', 'pending_overflow', 'pending_lost',
  'connections', 'pending',
] as const satisfies readonly (keyof CorrelatorStats)[];

export function emptyCorrelatorStats(): CorrelatorStats {
  return Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as unknown as CorrelatorStats;
}

/** Adds b's counters into a (gauges too: the sum over shards). */
export function addCorrelatorStats(a: CorrelatorStats, b: CorrelatorStats): void {
  for (const k of STAT_KEYS) a[k] += b[k];
}

interface Connection<Tls> {
  key: string;
  firstUs: number;
  /** capture time of the close, when known */
  closedAtUs: number | undefined;
  /** processing time the close arrived (grace starts) */
  closedNow: number | undefined;
  createdNow: number;
  activeNow: number;
  /** the Apache connection id bound to it by its first request */
  apacheConn: string | undefined;
  serverIp: string;
  serverPort: number;
  sni: string;
  /** the TLS columns, encoded once by the row encoder */
  tls: Tls;
  requests: number;
  /** went dormant once already (counted expired_idle then: a connection is counted once per reason) */
  wasDormant: boolean;
}

interface Pending<R> {
  key: string;
  rec: R;
  arrivedNow: number;
  done: boolean;
}

/**
 * The requests waiting on one client ip:port, in arrival order: the ones
 * before `head` are done. Requests expire oldest first, so an expiry only
 * moves `head`: filtering the list at each one was quadratic in the
 * requests a key holds (a busy keep-alive connection whose flow event never
 * came: 80k requests took 150 s to expire).
 */
interface PendingList<R> {
  items: Pending<R>[];
  head: number;
  live: number;
}

const keyOf = (ip: string, port: number): string => `${ip}|${port}`;

/** Removes and returns the oldest connection of a key -> connections map (Map order is insertion order: the first key is the longest-known one). */
function takeOldest<C>(map: Map<string, C[]>): C | undefined {
  for (const [key, list] of map) {
    const c = list.shift();
    if (list.length === 0) map.delete(key);
    return c;
  }
  return undefined;
}

const unknownIp = (ip: string): boolean => ip === '' || ip === '::';

/**
 * The connection's server end is `ip`:`port`, or one side does not know it
 * (port 0, address '' or '::'): a request's local end (Apache's) or a new
 * flow's destination must agree with it wherever both are known.
 */
function sameServer(c: { serverIp: string; serverPort: number }, ip: string, port: number): boolean {
  return (c.serverPort === 0 || port === 0 || c.serverPort === port) && (unknownIp(c.serverIp) || unknownIp(ip) || c.serverIp === ip);
}

/** The join; rows go to `out`, whose format (JSONEachRow, Native, RowBinary) is its own business. */
export class Correlator<Tls = unknown, R extends JoinRecord = HttpRecord, F extends JoinFlow = FlowEvent> {
  readonly options: CorrelatorOptions;
  private readonly conns = new Map<string, Connection<Tls>[]>();
  private connCount = 0;
  /**
   * Connections gone quiet past the idle timeout without a close: kept
   * until their window ends (at most maxConnections of them, the oldest
   * dropped first) and matched on a miss. mod_reqin_log writes a request
   * when it ends, so a download or a long poll longer than the idle timeout
   * came after its connection was forgotten: written tls_not_seen, and the
   * connection counted as one without HTTP.
   */
  private readonly dormant = new Map<string, Connection<Tls>[]>();
  private dormantCount = 0;
  private readonly pendingByKey = new Map<string, PendingList<R>>();
  /** arrival order; entries already matched are skipped lazily */
  private pendingQueue: Pending<R>[] = [];
  private pendingHead = 0;
  private pendingLive = 0;
  private lastConnSweep = -Infinity;
  private readonly counters = emptyCorrelatorStats();

  constructor(
    private readonly out: RowEncoder<Tls, RowBody, R, F>,
    options: Partial<CorrelatorOptions> = {},
  ) {
    this.options = { ...DEFAULT_CORRELATOR_OPTIONS, ...options };
  }

  stats(): CorrelatorStats {
    return { ...this.counters, connections: this.connCount, pending: this.pendingLive };
  }

  /** A TLS flow event. */
  flow(e: F, nowUs: number): void {
    this.counters.flow_events++;
    if (this.options.rawTables) this.out.tlsEvent(e);
    const key = keyOf(e.src, e.src_port);
    let list = this.conns.get(key);
    if (list) {
      for (const c of list) {
        if (c.firstUs === e.first_ts_us && c.serverPort === e.dst_port) {
          // the same connection reported again (replayed capture, resent datagram)
          this.counters.duplicate_flows++;
          c.activeNow = nowUs;
          return;
        }
      }
      // A new SYN on the same 4-tuple ends the older connection; the same
      // client port towards another server address or port (NAT, several
      // listeners) is another live connection. Unknown ends (0, '') match.
      for (const c of list) {
        if (c.closedAtUs === undefined && c.firstUs <= e.first_ts_us && sameServer(c, e.dst, e.dst_port)) {
          this.counters.port_reuse++;
          c.closedAtUs = e.first_ts_us;
          c.closedNow = nowUs;
        }
      }
    } else {
      list = [];
      this.conns.set(key, list);
    }
    list.push({
      key,
      firstUs: e.first_ts_us,
      closedAtUs: undefined,
      closedNow: undefined,
      createdNow: nowUs,
      activeNow: nowUs,
      apacheConn: undefined,
      serverIp: e.dst,
      serverPort: e.dst_port,
      sni: e.tls_server_name ?? '',
      tls: this.out.connectionTls(e),
      requests: 0,
      wasDormant: false,
    });
    this.connCount++;
    if (this.connCount > this.options.maxConnections) this.evictOldest();

    const waiting = this.pendingByKey.get(key);
    if (waiting) {
      const rest: Pending<R>[] = [];
      for (let i = waiting.head; i < waiting.items.length; i++) {
        const p = waiting.items[i]!;
        if (p.done) continue;
        const c = this.find(list, p.rec);
        if (c) {
          p.done = true;
          this.pendingLive--;
          this.counters.matched_late++;
          this.emitMatched(p.rec, c, nowUs);
        } else {
          rest.push(p);
        }
      }
      if (rest.length === 0) this.pendingByKey.delete(key);
      else this.pendingByKey.set(key, { items: rest, head: 0, live: rest.length });
    }
  }

  /** A close event: the connection takes late records for closeGraceMs more. */
  close(e: JoinClose, nowUs: number): void {
    this.counters.close_events++;
    // Only a FIN or an RST ends the TCP connection. "idle" (no packet for the
    // capture's timeout) and "evicted" (its flow table full, or the capture
    // stopping) mean the capture stopped tracking the flow: a browser's quiet
    // HTTP/2 connection, or every connection during a flow-table flood, may
    // still carry requests. The correlator's own idle timeout and window
    // forget it; a new SYN on the same 4-tuple ends it (port reuse).
    if (e.reason !== 'fin' && e.reason !== 'rst') {
      this.counters.close_untracked++;
      return;
    }
    const key = keyOf(e.src, e.src_port);
    const list = this.conns.get(key);
    let target: Connection<Tls> | undefined;
    if (list) {
      for (const c of list) if (c.firstUs === e.first_ts_us) target = c;
      // a close for a start we never saw: the newest connection that began before it
      if (!target) for (const c of list) if (c.firstUs <= e.last_ts_us && (!target || c.firstUs > target.firstUs)) target = c;
    }
    // a dormant one (idle past the timeout): its close bounds what it may still take
    if (!target) for (const c of this.dormant.get(key) ?? []) if (c.firstUs === e.first_ts_us) target = c;
    if (!target) {
      this.counters.close_without_flow++;
      return;
    }
    target.closedAtUs = e.last_ts_us;
    target.closedNow ??= nowUs;
  }

  /** An HTTP record from mod_reqin_log. */
  http(r: R, nowUs: number): void {
    this.counters.http_records++;
    if (this.options.rawTables) this.out.request(r);
    const key = keyOf(r.client_ip, r.client_port);
    const list = this.conns.get(key);
    const c = (list ? this.find(list, r) : undefined) ?? this.wake(key, r);
    if (c) {
      this.emitMatched(r, c, nowUs);
    } else if (!r.tls_request && !this.options.plainHttpWait) {
      this.emitUnmatched(r, 'no_tls');
    } else {
      const p: Pending<R> = { key, rec: r, arrivedNow: nowUs, done: false };
      const waiting = this.pendingByKey.get(key);
      if (waiting) {
        waiting.items.push(p);
        waiting.live++;
      } else {
        this.pendingByKey.set(key, { items: [p], head: 0, live: 1 });
      }
      this.pendingQueue.push(p);
      this.pendingLive++;
      if (this.pendingLive > this.options.maxPending) {
        this.counters.pending_overflow++;
        this.expirePending(Infinity, 1);
      }
    }
  }

  /** Writes out waiting requests and forgets connections whose time is up. */
  sweep(nowUs: number, connSweepIntervalMs = 1000): void {
    this.expirePending(nowUs - this.options.tlsWaitMs * 1000, Infinity);
    if (nowUs - this.lastConnSweep < connSweepIntervalMs * 1000) return;
    this.lastConnSweep = nowUs;
    const { closeGraceMs, idleTimeoutMs, windowMs } = this.options;
    for (const [key, list] of this.conns) {
      let kept = 0;
      for (const c of list) {
        let why: 'expired_closed' | 'expired_idle' | 'expired_window' | undefined;
        if (c.closedNow !== undefined && nowUs - c.closedNow >= closeGraceMs * 1000) why = 'expired_closed';
        else if (nowUs - c.activeNow >= idleTimeoutMs * 1000) why = 'expired_idle';
        else if (nowUs - c.createdNow >= windowMs * 1000) why = 'expired_window';
        if (why === 'expired_idle' && c.closedNow === undefined) this.rest(c);
        else if (why) this.forget(c, why);
        else list[kept++] = c;
      }
      if (kept === 0) this.conns.delete(key);
      else list.length = kept;
    }
    for (const [key, list] of this.dormant) {
      let kept = 0;
      for (const c of list) {
        const closed = c.closedNow !== undefined && nowUs - c.closedNow >= closeGraceMs * 1000;
        if (closed || nowUs - c.createdNow >= windowMs * 1000) {
          this.dormantCount--;
          this.retire(c);
        } else {
          list[kept++] = c;
        }
      }
      if (kept === 0) this.dormant.delete(key);
      else list.length = kept;
    }
  }

  /**
   * An idle connection (no close seen) goes dormant: out of the join (counted
   * expired_idle, the first time only: a request may wake it and it may go
   * quiet again), kept for a late request; counted without HTTP only when
   * it leaves for good without one.
   */
  private rest(c: Connection<Tls>): void {
    if (!c.wasDormant) this.counters.expired_idle++;
    c.wasDormant = true;
    this.connCount--;
    const list = this.dormant.get(c.key);
    if (list) list.push(c);
    else this.dormant.set(c.key, [c]);
    if (++this.dormantCount > this.options.maxConnections) {
      this.dormantCount--;
      this.retire(takeOldest(this.dormant)!);
    }
  }

  /** The dormant connection of `r`, back in the join; undefined when none. */
  private wake(key: string, r: R): Connection<Tls> | undefined {
    const list = this.dormant.get(key);
    const c = list ? this.find(list, r) : undefined;
    if (!c) return undefined;
    list!.splice(list!.indexOf(c), 1);
    if (list!.length === 0) this.dormant.delete(key);
    this.dormantCount--;
    const live = this.conns.get(key);
    if (live) live.push(c);
    else this.conns.set(key, [c]);
    this.connCount++;
    if (this.connCount > this.options.maxConnections) this.evictOldest();
    return c;
  }

  /** At shutdown: every waiting request is written (tls_not_seen, plain HTTP no_tls). Connections stay. */
  flushPending(): void {
    this.expirePending(Infinity, Infinity);
  }

  private forget(c: Connection<Tls>, why: 'expired_closed' | 'expired_idle' | 'expired_window' | 'evicted_connections'): void {
    this.retire(c, why);
    this.connCount--;
  }

  /** A connection leaves for good, counted (a dormant one was counted when it went dormant). */
  private retire(c: Connection<Tls>, why?: 'expired_closed' | 'expired_idle' | 'expired_window' | 'evicted_connections'): void {
    if (why) this.counters[why]++;
    this.out.releaseTls(c.tls);
    if (c.requests === 0) this.counters.connections_without_http++;
  }

  private evictOldest(): void {
    const c = takeOldest(this.conns);
    if (c) this.forget(c, 'evicted_connections');
  }

  /** Pending requests that arrived before `beforeUs` (at most `limit`) are written: tls_not_seen, or no_tls for plain HTTP. */
  private expirePending(beforeUs: number, limit: number): void {
    const q = this.pendingQueue;
    let n = 0;
    while (this.pendingHead < q.length && n < limit) {
      const p = q[this.pendingHead]!;
      if (!p.done) {
        if (p.arrivedNow > beforeUs) break;
        p.done = true;
        this.pendingLive--;
        n++;
        const waiting = this.pendingByKey.get(p.key);
        if (waiting && --waiting.live === 0) {
          this.pendingByKey.delete(p.key);
        } else if (waiting) {
          const items = waiting.items;
          while (waiting.head < items.length && items[waiting.head]!.done) waiting.head++;
          // let the done ones go now and then (not on every expiry)
          if (waiting.head > 1024 && waiting.head * 2 > items.length) {
            waiting.items = items.slice(waiting.head);
            waiting.head = 0;
          }
        }
        this.emitUnmatched(p.rec, p.rec.tls_request ? 'tls_not_seen' : 'no_tls');
      }
      this.pendingHead++;
    }
    // compact now and then instead of shifting on every request
    if (this.pendingHead > 4096 && this.pendingHead * 2 > q.length) {
      this.pendingQueue = q.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** The connection of `r` among those of its key, if any. */
  private find(list: Connection<Tls>[], r: R): Connection<Tls> | undefined {
    const skew = this.options.skewMs * 1000;
    let best: Connection<Tls> | undefined;
    for (const c of list) {
      if (c.apacheConn !== undefined) {
        if (c.apacheConn === r.conn) return c;
        continue; // bound to another Apache connection: another TCP connection
      }
      if (!sameServer(c, r.local_ip, r.local_port)) continue;
      if (c.firstUs !== 0 && r.ts_us < c.firstUs - skew) continue;
      if (c.closedAtUs !== undefined && r.ts_us > c.closedAtUs + skew) continue;
      if (!best || c.firstUs > best.firstUs) best = c;
    }
    return best;
  }

  private emitMatched(r: R, c: Connection<Tls>, nowUs: number): void {
    c.apacheConn = r.conn;
    c.activeNow = nowUs;
    c.requests++;
    const status = r.tls_request ? 'matched' : 'no_tls';
    this.count(status);
    this.out.ingest(r, c.tls, c, status);
  }

  private emitUnmatched(r: R, status: CorrelationStatus): void {
    this.count(status);
    this.out.ingest(r, this.out.unseenTls(r), undefined, status);
  }

  private count(status: CorrelationStatus): void {
    this.counters[status]++;
  }
}

export { CORRELATION_STATUSES };
