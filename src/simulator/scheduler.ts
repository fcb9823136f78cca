// The discrete-event core: client arrivals (Poisson per family), their
// sessions' requests, the TCP connections those requests ride (keep-alive,
// HTTP/1.1 lanes, h2, port choice and reuse, Apache's KeepAliveTimeout),
// and the output in time order: flow and close events, mod_reqin_log
// records, labels and, with a pcap, every packet.
//
// Output is written through a time-ordered queue: an item is released once
// the simulation clock is LAG_US past it, which is longer than any
// handshake, so a connection opened "back in time" for a request (its SYN
// precedes the request by the handshake) still comes out in order.
import { PcapWriter, TCP_ACK, TCP_PSH } from '../capture/pcap-writer.js';
import type { Header, HeaderContext } from './agents.js';
import type { Catalog, TlsTemplate } from './catalog.js';
import type { Client, RequestPlan, Session } from './client.js';
import type { FamilyDef } from './families.js';
import { TimeHeap } from './heap.js';
import { IpAllocator } from './ip-pools.js';
import { PcapConnectionWriter, closePackets, plainHandshake, tlsHandshake, type SimPacket } from './packets.js';
import { closeEvent, flowEvent, h2HeaderView, headerFragment, httpRecord, responseHeadBytes } from './records.js';
import { Rng } from './rng.js';
import { DEFAULT_HOSTS, SERVER_IPV4, SERVER_IPV6 } from './site.js';
import { TCP_PROFILES } from './tcp-profiles.js';
import { applicationData } from './tls-bytes.js';

const S = 1_000_000;
/** Apache's KeepAliveTimeout (default 5 s) and MaxKeepAliveRequests (100). */
export const KEEPALIVE_US = 5 * S;
export const MAX_KEEPALIVE_REQUESTS = 100;
/** How far behind the clock output is released (> the longest handshake). */
const LAG_US = 3 * S;
/** A closing client's port stays in TIME_WAIT (Linux: 60 s) before reuse. */
const TIME_WAIT_US = 60 * S;

export interface LabelRow {
  client_ip: string;
  family: string;
  is_bot: boolean;
  bot_name: string;
}

export interface SimulatedBatch {
  tls: string[];
  http: string[];
  labels: LabelRow[];
}

export interface SchedulerConfig {
  seed: number;
  rate: number;
  startUs: number;
  endUs: number;
  families: { def: FamilyDef; share: number }[];
  hosts: readonly string[];
  lostHttpShare: number;
  lostTlsShare: number;
  batchUs: number;
  pcapPath?: string;
  catalog: Catalog;
}

/** Totals per family, for the CLI's summary. */
export interface FamilyCounts {
  requests: number;
  connections: number;
  clients: number;
}

interface ClientState {
  c: Client;
  rng: Rng;
  session: Session;
  next: RequestPlan | undefined;
  conns: Map<string, Conn>;
  portFreeAt: Map<number, number>;
  labelled: boolean;
  counted: boolean;
  counts: FamilyCounts;
}

interface Conn {
  cs: ClientState;
  key: string;
  t0: number;
  port: number;
  serverIp: string;
  serverPort: number;
  visible: boolean;
  tmpl: TlsTemplate | undefined;
  sni: string | null;
  h2: boolean;
  lostTls: boolean;
  lostHttp: boolean;
  apacheId: string;
  reqN: number;
  lastEnd: number;
  closed: boolean;
  stream: number;
  expiryQueued: boolean;
  rtt: number;
  /** ja4l_c / ja4l_s, packets, time of the report */
  ja4lC: string;
  ja4lS: string;
  reportPackets: number;
  reportTs: number;
  pcap: PcapConnectionWriter | undefined;
  /** with a pcap: the SYN, written when the 'syn' item is released */
  synPacket: SimPacket | undefined;
}

type Item =
  | { k: 'syn'; conn: Conn }
  | { k: 'flow'; conn: Conn }
  | { k: 'close'; conn: Conn; lastTs: number }
  | { k: 'http'; line: string }
  | { k: 'pkt'; conn: Conn; p: SimPacket };

/** Mean requests and p90 duration of one family's sessions (Monte Carlo, fixed seed, cached). */
const sessionStats = new Map<string, { mean: number; p90: number }>();

function familyStats(def: FamilyDef, catalog: Catalog): { mean: number; p90: number } {
  const hit = sessionStats.get(def.name);
  if (hit) return hit;
  const rng = new Rng(0x5eed);
  const ips = new IpAllocator(rng.fork());
  let total = 0;
  const durations: number[] = [];
  const N = 100;
  for (let i = 0; i < N; i++) {
    const crng = rng.fork();
    const c = def.client(crng, ips);
    c.h2 = negotiatesH2(c, catalog);
    const it = def.session(c, crng, 0);
    let last = 0;
    for (let r = it.next(); !r.done && total < 5_000_000; r = it.next()) {
      total++;
      last = r.value.t;
    }
    durations.push(last);
  }
  durations.sort((a, b) => a - b);
  const stats = { mean: total / N, p90: durations[Math.floor(N * 0.9)]! };
  sessionStats.set(def.name, stats);
  return stats;
}

function negotiatesH2(c: Client, catalog: Catalog): boolean {
  const t = catalog.stacks.get(c.stack)?.[0];
  if (!t) throw new Error(`simulator: no ClientHello in the catalog for the "${c.stack}" stack`);
  return t.negotiated.alpn === 'h2';
}

/** Apache children: connection ids are pid-childstart(hex)-sequence(hex) (mod_reqin_log's "conn"). */
interface Child {
  pid: number;
  start: string;
  seq: number;
}

export class Scheduler {
  readonly counts = new Map<string, FamilyCounts>();
  private readonly rng: Rng;
  private readonly ips: IpAllocator;
  private readonly out = new TimeHeap<Item>();
  private readonly sessions = new TimeHeap<ClientState>();
  private readonly arrivals = new TimeHeap<{ def: FamilyDef; meanGapUs: number }>();
  private readonly expiries = new TimeHeap<{ conn: Conn }>();
  private readonly children: Child[] = [];
  private readonly pcap: PcapWriter | undefined;
  private stream = 0;
  private batch: SimulatedBatch = { tls: [], http: [], labels: [] };
  private batchEnd: number;
  /** Batches completed by flush(), not yet yielded. */
  private readonly ready: { batch: SimulatedBatch; windowEnd: number }[] = [];
  private lastWindowEnd = 0;
  /** End of the time window of the batch last yielded (realtime pacing). */
  get windowEndUs(): number {
    return this.lastWindowEnd;
  }

  private *release(): Generator<SimulatedBatch> {
    while (this.ready.length) {
      const r = this.ready.shift()!;
      this.lastWindowEnd = r.windowEnd;
      yield r.batch;
    }
  }
  private readonly ja4ts: string;

  constructor(private readonly cfg: SchedulerConfig) {
    this.rng = new Rng(cfg.seed);
    this.ips = new IpAllocator(this.rng.fork());
    this.batchEnd = cfg.startUs + cfg.batchUs;
    this.ja4ts = cfg.catalog.ja4ts;
    for (let i = 0; i < 8; i++) {
      this.children.push({ pid: this.rng.int(1000, 60000), start: (cfg.startUs - this.rng.int(60, 86400) * S).toString(16), seq: 0 });
    }
    const total = cfg.families.reduce((s, f) => s + f.share, 0);
    for (const { def, share } of cfg.families) {
      if (share <= 0) continue;
      const st = familyStats(def, cfg.catalog);
      const perSecond = (cfg.rate * share) / total / Math.max(1, st.mean);
      const meanGapUs = S / perSecond;
      // Warm start: sessions begin before the window, so it opens in steady
      // state (connections opened before the start stay invisible).
      // Capped at an hour: longer-lived sessions (low-and-slow) ramp up.
      const warm = Math.min(st.p90, 3600 * S);
      this.arrivals.push(Math.round(cfg.startUs - warm + this.rng.exp(meanGapUs)), { def, meanGapUs });
      this.counts.set(def.name, { requests: 0, connections: 0, clients: 0 });
    }
    if (cfg.pcapPath) this.pcap = new PcapWriter(cfg.pcapPath);
  }

  /** Runs to the end; yields batches of output in time order. */
  *run(): Generator<SimulatedBatch> {
    const end = this.cfg.endUs;
    for (;;) {
      const ta = this.arrivals.peekKey();
      const ts = this.sessions.peekKey();
      const te = this.expiries.peekKey();
      const t = Math.min(ta, ts, te);
      if (t >= end) break;
      if (this.out.peekKey() < t - LAG_US) {
        this.flush(t - LAG_US);
        yield* this.release();
      }
      if (te === t) {
        const e = this.expiries.pop()!;
        const conn = e.conn;
        if (!conn.closed) {
          const due = conn.lastEnd + KEEPALIVE_US;
          if (due > t) this.expiries.push(due, e);
          else {
            conn.expiryQueued = false;
            this.close(conn, due, false);
          }
        } else conn.expiryQueued = false;
      } else if (ta === t) {
        const a = this.arrivals.pop()!;
        this.arrive(a.def, t);
        this.arrivals.push(Math.round(t + this.rng.exp(a.meanGapUs)), a);
      } else {
        const cs = this.sessions.pop()!;
        this.request(cs, cs.next!);
        const n = cs.session.next();
        if (n.done) this.endSession(cs);
        else {
          // Sessions plan in fractional microseconds; logs and captures have whole ones.
          n.value.t = Math.round(n.value.t);
          cs.next = n.value;
          this.sessions.push(n.value.t, cs);
        }
      }
    }
    this.flush(end);
    yield* this.release();
    this.lastWindowEnd = Math.min(this.batchEnd, end);
    if (this.batch.tls.length || this.batch.http.length || this.batch.labels.length) yield this.batch;
    this.batch = { tls: [], http: [], labels: [] };
    this.pcap?.close();
  }

  private arrive(def: FamilyDef, t: number): void {
    const rng = this.rng.fork();
    const c = def.client(rng, this.ips);
    c.h2 = negotiatesH2(c, this.cfg.catalog);
    const session = def.session(c, rng, t);
    let first = session.next();
    // A session that began during the warm-up: its requests long before the
    // window would only open connections nobody sees; skip them cheaply.
    const skipUntil = this.cfg.startUs - 2 * KEEPALIVE_US;
    while (!first.done && first.value.t < skipUntil) first = session.next();
    if (first.done) return;
    first.value.t = Math.round(first.value.t);
    const cs: ClientState = { c, rng, session, next: first.value, conns: new Map(), portFreeAt: new Map(), labelled: false, counted: false, counts: this.counts.get(def.name)! };
    this.sessions.push(first.value.t, cs);
  }

  private endSession(cs: ClientState): void {
    // Scripts exit and close their connections; browsers leave them to the
    // server's keep-alive timeout.
    if (!cs.c.isBot) return;
    for (const conn of [...cs.conns.values()]) if (!conn.closed) this.close(conn, conn.lastEnd + cs.rng.int(200, 5000), true);
  }

  private pickPort(cs: ClientState, t: number): number {
    const [lo, hi] = cs.c.ports;
    for (let i = 0; ; i++) {
      const p = cs.rng.int(lo, hi);
      if ((cs.portFreeAt.get(p) ?? -Infinity) <= t || i > 100) {
        cs.portFreeAt.set(p, Infinity);
        return p;
      }
    }
  }

  private open(cs: ClientState, p: RequestPlan, key: string, h2: boolean): Conn {
    const c = cs.c;
    const rng = cs.rng;
    const https = p.https;
    const v6 = c.ip.includes(':');
    const tmpl = https ? rng.pick(this.cfg.catalog.stacks.get(c.stack)!) : undefined;
    const rtt = Math.max(200, Math.round(c.rttUs * rng.uniform(0.9, 1.15)));
    // (all times below are whole microseconds: p.t, rtt and the delays are integers)
    const timing = { synAckDelay: rng.int(15, 80), rtt, clientDelay: rng.int(20, 300), serverDelay: rng.int(250, 1500) };
    const hostIsIp = /^[\d.]+$|:/.test(p.host);
    const sni = c.sni && !hostIsIp ? p.host : null;
    let packets: SimPacket[];
    let reportAt = -1;
    let ready: number;
    if (tmpl) {
      const plan = tlsHandshake(0, timing, TCP_PROFILES[c.os], tmpl.helloRecords(sni), tmpl.flight, tmpl.flightReportOffset);
      packets = plan.packets;
      reportAt = plan.reportAt;
      // TLS 1.3: the request follows the client's Finished, one round trip
      // after the server's flight; TLS 1.2 needs a second round trip.
      ready = packets[packets.length - 1]!.ts + rtt * (tmpl.negotiated.tls13 ? 1 : 2) + rng.int(200, 2000);
    } else {
      packets = plainHandshake(0, timing);
      ready = packets[2]!.ts + timing.clientDelay;
    }
    const t0 = p.t - ready;
    for (const pk of packets) pk.ts += t0;
    const child = this.children[rng.int(0, this.children.length - 1)]!;
    const conn: Conn = {
      cs,
      key,
      t0,
      port: this.pickPort(cs, t0),
      serverIp: v6 ? SERVER_IPV6 : SERVER_IPV4,
      serverPort: https ? 443 : 80,
      visible: t0 >= this.cfg.startUs,
      tmpl,
      sni,
      h2,
      lostTls: tmpl !== undefined && rng.chance(this.cfg.lostTlsShare),
      lostHttp: tmpl !== undefined && rng.chance(this.cfg.lostHttpShare),
      apacheId: `${child.pid}-${child.start}-${(child.seq++).toString(16)}`,
      reqN: 0,
      lastEnd: p.t,
      closed: false,
      stream: -1,
      expiryQueued: false,
      rtt,
      // JA4L as the engine measures it (native/core/tcp_fingerprints.cc):
      // client = (ACK - SYN-ACK) / 2, server = (SYN-ACK - SYN) / 2, with the
      // TTL of each side's SYN.
      ja4lC: `${Math.trunc((packets[2]!.ts - packets[1]!.ts) / 2)}_${c.ttl}`,
      ja4lS: `${Math.trunc((packets[1]!.ts - packets[0]!.ts) / 2)}_${TCP_PROFILES.linux.ttl}`,
      reportPackets: reportAt + 1,
      reportTs: reportAt >= 0 ? packets[reportAt]!.ts : 0,
      pcap: undefined,
      synPacket: undefined,
    };
    cs.conns.set(key, conn);
    if (conn.visible) cs.counts.connections++;
    if (conn.visible) {
      if (this.pcap) {
        conn.pcap = new PcapConnectionWriter(this.pcap, { clientIp: c.ip, clientPort: conn.port, serverIp: conn.serverIp, serverPort: conn.serverPort, clientTtl: c.ttl, tcp: TCP_PROFILES[c.os] }, rng.u32(), rng.u32());
        conn.synPacket = packets[0];
        for (let i = 1; i < packets.length; i++) this.out.push(packets[i]!.ts, { k: 'pkt', conn, p: packets[i]! });
      }
      this.out.push(t0, { k: 'syn', conn });
      if (tmpl && !conn.lostTls) this.out.push(conn.reportTs, { k: 'flow', conn });
    }
    return conn;
  }

  private close(conn: Conn, ts: number, byClient: boolean): void {
    conn.closed = true;
    const cs = conn.cs;
    if (cs.conns.get(conn.key) === conn) cs.conns.delete(conn.key);
    const pk = closePackets(ts, byClient, conn.rtt);
    const lastTs = pk[2]!.ts;
    cs.portFreeAt.set(conn.port, lastTs + (byClient ? TIME_WAIT_US : 0));
    if (!conn.visible) return;
    if (conn.pcap) for (const p of pk) this.out.push(p.ts, { k: 'pkt', conn, p });
    if (conn.tmpl && !conn.lostTls) this.out.push(lastTs, { k: 'close', conn, lastTs });
  }

  private request(cs: ClientState, p: RequestPlan): void {
    const c = cs.c;
    const h2 = c.h2 && p.https;
    const key = `${p.host}|${p.https ? 's' : 'p'}|${h2 ? 0 : p.lane}`;
    let conn = cs.conns.get(key);
    if (conn && !conn.closed && (p.t > conn.lastEnd + KEEPALIVE_US || conn.reqN >= MAX_KEEPALIVE_REQUESTS)) {
      this.close(conn, conn.lastEnd + KEEPALIVE_US, false);
      conn = undefined;
    }
    if (!conn || conn.closed) conn = this.open(cs, p, key, h2);
    conn.reqN++;
    if (conn.visible) cs.counts.requests++;
    if (!cs.counted && conn.visible) {
      cs.counted = true;
      cs.counts.clients++;
    }
    const agent = p.agent ?? c.agent;
    const ref = p.referer;
    const refHost = ref ? ref.slice(ref.indexOf('//') + 2, ref.indexOf('/', 8) < 0 ? undefined : ref.indexOf('/', 8)) : '';
    const ctx: HeaderContext = {
      host: p.host,
      kind: p.res.kind,
      method: p.method,
      referer: ref,
      cookie: p.cookie,
      site: !ref ? 'none' : refHost === p.host ? 'same-origin' : refHost.endsWith('example.com') ? 'same-site' : 'cross-site',
      bodyBytes: p.bodyBytes,
      contentType: p.contentType,
    };
    const view = headerView(agent, ctx, h2);
    const closeAfter = p.closeAfter || view.connectionClose;
    const keepAlive = !closeAfter && conn.reqN < MAX_KEEPALIVE_REQUESTS;
    const res = p.res;
    // Request line + header lines + blank line + body (HTTP/1.1); h2: the body.
    const bytesIn = h2 ? p.bodyBytes : p.method.length + res.uri.length + 12 + view.headBytes + p.bodyBytes;
    const bytesOut = h2 ? res.bytes : responseHeadBytes(res.status, res.bytes, keepAlive) + res.bytes;
    const end = p.t + res.durUs;
    if (conn.visible) {
      if (!conn.lostHttp) {
        const tmpl = conn.tmpl;
        const line = httpRecord({
          tsUs: p.t,
          durUs: res.durUs,
          conn: conn.apacheId,
          clientIp: c.ip,
          clientPort: conn.port,
          localIp: conn.serverIp,
          localPort: conn.serverPort,
          reqN: conn.reqN,
          vhost: this.cfg.hosts.includes(p.host) ? p.host : this.cfg.hosts[0]!,
          method: p.method,
          https: p.https,
          host: p.host,
          uri: res.uri,
          h2,
          status: res.status,
          bytesIn,
          bytesOut,
          tls: tmpl ? { protocol: tmpl.protocol, cipher: tmpl.cipherName, sni: conn.sni } : undefined,
          h2Stream: h2 ? 2 * conn.reqN - 1 : undefined,
          headersJson: view.json,
        });
        this.out.push(end, { k: 'http', line });
      }
      if (conn.pcap) {
        const reqPayload = conn.tmpl ? applicationData(Math.min(bytesIn + 22, 1400)) : Buffer.from(requestText(p.method, res.uri, agent.headers(ctx), p.bodyBytes), 'latin1');
        this.out.push(p.t, { k: 'pkt', conn, p: { ts: p.t, fromClient: true, flags: TCP_ACK | TCP_PSH, payload: reqPayload } });
        const respPayload = conn.tmpl ? applicationData(Math.min(bytesOut + 22, 1400)) : Buffer.from(`HTTP/1.1 ${res.status} X\r\nContent-Length: 0\r\n\r\n`, 'latin1');
        this.out.push(end, { k: 'pkt', conn, p: { ts: end, fromClient: false, flags: TCP_ACK | TCP_PSH, payload: respPayload } });
      }
    }
    conn.lastEnd = Math.max(conn.lastEnd, end);
    if (!keepAlive) {
      // Connection: close asked by the client, or the 100th request: the
      // server closes after the response.
      this.close(conn, conn.lastEnd + (p.closeAfter ? 300 : 50), p.closeAfter);
    } else if (!conn.expiryQueued) {
      // One pending expiry per connection: when it comes due, a connection
      // used since is queued again for its new expiry.
      conn.expiryQueued = true;
      this.expiries.push(conn.lastEnd + KEEPALIVE_US, { conn });
    }
  }

  /** Releases output items older than `until`, cutting batches at batchUs boundaries (into `ready`). */
  private flush(until: number): void {
    const end = this.cfg.endUs;
    const limit = Math.min(until, end);
    while (this.out.peekKey() < limit) {
      const ts = this.out.peekKey();
      while (ts >= this.batchEnd) {
        if (this.batch.tls.length || this.batch.http.length || this.batch.labels.length) {
          this.ready.push({ batch: this.batch, windowEnd: this.batchEnd });
          this.batch = { tls: [], http: [], labels: [] };
        }
        this.batchEnd += this.cfg.batchUs;
      }
      const item = this.out.pop()!;
      this.emit(item);
    }
  }

  private emit(item: Item): void {
    switch (item.k) {
      case 'syn': {
        const conn = item.conn;
        conn.stream = this.stream++;
        const cs = conn.cs;
        if (!cs.labelled) {
          cs.labelled = true;
          this.batch.labels.push({ client_ip: cs.c.ip, family: cs.c.family, is_bot: cs.c.isBot, bot_name: cs.c.botName });
        }
        if (conn.pcap && conn.synPacket) conn.pcap.write(conn.synPacket);
        break;
      }
      case 'pkt':
        item.conn.pcap!.write(item.p);
        break;
      case 'http':
        this.batch.http.push(item.line);
        break;
      case 'flow': {
        const conn = item.conn;
        const t = conn.tmpl!;
        const c = conn.cs.c;
        this.batch.tls.push(
          flowEvent({
            stream: conn.stream,
            src: c.ip,
            dst: conn.serverIp,
            srcPort: conn.port,
            dstPort: conn.serverPort,
            firstTs: conn.t0,
            lastTs: conn.reportTs,
            packets: conn.reportPackets,
            sni: conn.sni,
            fingerprintJson: conn.sni === null ? t.noSni.fingerprintJson : t.withSni.fingerprintJson,
            ja4t: this.cfg.catalog.ja4t.get(c.os)!,
            ja4ts: this.ja4ts,
            ja4lC: conn.ja4lC,
            ja4lS: conn.ja4lS,
            clientTtl: c.ttl,
            certsJson: t.certsJson,
          }),
        );
        break;
      }
      case 'close': {
        const conn = item.conn;
        this.batch.tls.push(closeEvent(conn.stream, conn.cs.c.ip, conn.serverIp, conn.port, conn.serverPort, conn.t0, item.lastTs));
        break;
      }
    }
  }
}

interface HeaderView {
  /** headerFragment() of the table Apache logs */
  json: string;
  /** the HTTP/1.1 header lines and the blank line, in bytes */
  headBytes: number;
  /** the client sent Connection: close */
  connectionClose: boolean;
}

/**
 * Per agent, the logged form of the headers it sends in a given context:
 * clients repeat the same headers (same page, same cookies) request after
 * request, and building the record's header part is the costliest step.
 */
type ViewCache = Map<string, Map<string, Map<string, HeaderView>>>;
const headerViews = new WeakMap<object, { size: number; byShape: ViewCache }>();

function headerView(agent: { headers(c: HeaderContext): Header[] }, ctx: HeaderContext, h2: boolean): HeaderView {
  let cache = headerViews.get(agent);
  if (!cache || cache.size >= 16) headerViews.set(agent, (cache = { size: 0, byShape: new Map() }));
  // Nested maps keyed by the strings the sessions reuse (host, referer,
  // cookie header): no key string is built per request.
  const shape = `${ctx.kind}|${ctx.method}|${ctx.site}|${ctx.bodyBytes}|${ctx.contentType ?? ''}|${h2 ? 2 : 1}|${ctx.host}`;
  let byRef = cache.byShape.get(shape);
  if (!byRef) cache.byShape.set(shape, (byRef = new Map()));
  const ref = ctx.referer ?? '';
  let byCookie = byRef.get(ref);
  if (!byCookie) byRef.set(ref, (byCookie = new Map()));
  let v = byCookie.get(ctx.cookie);
  if (!v) {
    const h1 = agent.headers(ctx);
    let headBytes = 2;
    let connectionClose = false;
    for (const [k, val] of h1) {
      headBytes += k.length + val.length + 4;
      if (val === 'close' && k.toLowerCase() === 'connection') connectionClose = true;
    }
    v = { json: headerFragment(h2 ? h2HeaderView(h1) : h1), headBytes, connectionClose };
    cache.size++;
    byCookie.set(ctx.cookie, v);
  }
  return v;
}

/** The request as written on the wire (cleartext connections in the pcap). */
function requestText(method: string, uri: string, headers: readonly Header[], body: number): string {
  let s = `${method} ${uri} HTTP/1.1\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return `${s}\r\n${'x'.repeat(body)}`;
}

export { DEFAULT_HOSTS };
