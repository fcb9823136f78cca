// A WebSocket client for the live-feed tests: keeps every message it
// received and lets a test wait for the first one matching a predicate.
import WebSocket from 'ws';

export interface WsTestClientOptions {
  /** unpack `batch` frames into their events (marked batched: true), so tests see events one by one; default true */
  flattenBatches?: boolean;
}

export class WsTestClient {
  readonly messages: any[] = [];
  private waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    private readonly opts: WsTestClientOptions = {},
  ) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const flatten = this.opts.flattenBatches ?? true;
      // a batch's events are {seq, data}: unpacked as the browser's feed does (topic and ts from the batch)
      const list = m.type === 'batch' && flatten ? m.events.map((e: any) => ({ type: 'event', topic: m.topic, seq: e.seq, ts: m.ts, data: e.data, batched: true })) : [m];
      for (const x of list) {
        this.messages.push(x);
        this.waiters = this.waiters.filter((w) => (w.pred(x) ? (w.resolve(x), false) : true));
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    this.opened = new Promise((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
  }

  /** Opens `url` with these headers (and subprotocols offered) and waits until the socket is open. */
  static async connect(url: string, headers: Record<string, string>, opts?: WsTestClientOptions, protocols: string[] = []): Promise<WsTestClient> {
    const c = new WsTestClient(new WebSocket(url, protocols, { headers }), opts);
    await c.opened;
    return c;
  }

  next(pred: (m: any) => boolean, ms = 5000): Promise<any> {
    const have = this.messages.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`)), ms);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }

  close(): Promise<unknown> {
    this.ws.close();
    return this.closed;
  }
}
