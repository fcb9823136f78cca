// Completes uWebSockets.js's pure-JS fallback (the package's `ws`-based App,
// used when no native binary fits this platform/Node ABI, or with
// UWS_USE_FALLBACK=1) for what the dashboard uses. As shipped, that fallback
// throws "Not implemented" from the calls the server depends on: a custom
// `upgrade` handler (thrown inside the http server's 'upgrade' event: the
// process dies), res.upgrade(), ws.getUserData(), res.getRemoteAddressAsText(),
// res.endWithoutBody(), app.publish() and app.numSubscribers().
//
// What this adds, with uWS's semantics:
// - WebSocket upgrades through the behaviour's `upgrade` handler (the hub
//   authenticates there, asynchronously), on a `ws` server in noServer mode;
// - per-socket topic sets; app.publish() sends to the sockets subscribed;
//   numSubscribers() counts them;
// - maxBackpressure: a socket with more unsent bytes than that is skipped by
//   publish() and send() (uWS's "dropped"), so memory per client stays
//   bounded between the hub's sweeps; end() on such a socket terminates it
//   (1006: the close frame could not get through anyway).
// The package's classes are not patched: the App is subclassed, the HTTP
// responses get the two missing methods as own properties.
//
// Main thread only, like the rest of the server.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';

const require = createRequire(import.meta.url);

type Behavior = Uws.WebSocketBehavior<unknown>;
type Text = Uws.RecognizedString;

function text(value: Text): string {
  return typeof value === 'string' ? value : Buffer.from(value as ArrayBuffer).toString('utf8');
}

/** The package's fallback App class (dist/templated-app.js). */
interface FallbackAppClass {
  new (): Uws.TemplatedApp & {
    httpContext: { http: import('node:http').Server | null };
  };
}

/** One upgraded connection, with uWS's WebSocket API over a `ws` socket. */
class FallbackSocket {
  readonly topics = new Set<string>();
  closed = false;

  constructor(
    readonly ws: WsSocket,
    private readonly userData: unknown,
    private readonly registry: TopicRegistry,
    private readonly maxBackpressure: number,
  ) {}

  getUserData(): unknown {
    return this.userData;
  }

  getBufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** 1: sent, 2: dropped (over maxBackpressure), 0 after close; like uWS's send(). */
  send(message: Text, isBinary = false): number {
    if (this.closed) return 0;
    if (this.ws.bufferedAmount > this.maxBackpressure) return 2;
    this.ws.send(typeof message === 'string' ? message : Buffer.from(message as ArrayBuffer), { binary: isBinary, compress: false });
    return 1;
  }

  end(code = 1000, reason: Text = ''): this {
    if (this.closed) return this;
    // a close frame behind megabytes of unsent data would never arrive: cut it (the peer sees 1006)
    if (this.ws.bufferedAmount > this.maxBackpressure) this.ws.terminate();
    else this.ws.close(code, text(reason));
    return this;
  }

  close(): this {
    this.ws.terminate();
    return this;
  }

  cork(cb: () => void): this {
    cb();
    return this;
  }

  subscribe(topic: Text): boolean {
    if (this.closed) return false;
    const t = text(topic);
    this.topics.add(t);
    this.registry.add(t, this);
    return true;
  }

  unsubscribe(topic: Text): boolean {
    const t = text(topic);
    this.registry.remove(t, this);
    return this.topics.delete(t);
  }

  isSubscribed(topic: Text): boolean {
    return this.topics.has(text(topic));
  }

  getTopics(): string[] {
    return [...this.topics];
  }

  /** Everyone on the topic but this socket (uWS's ws.publish). */
  publish(topic: Text, message: Text, isBinary = false): boolean {
    return this.registry.publish(text(topic), message, isBinary, this) > 0;
  }

  ping(): number {
    this.ws.ping();
    return 1;
  }

  /** Called once on close: out of every topic. */
  detach(): void {
    this.closed = true;
    for (const t of this.topics) this.registry.remove(t, this);
    this.topics.clear();
  }
}

/** topic -> subscribed sockets. */
class TopicRegistry {
  private readonly byTopic = new Map<string, Set<FallbackSocket>>();

  add(topic: string, s: FallbackSocket): void {
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    set.add(s);
  }

  remove(topic: string, s: FallbackSocket): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) this.byTopic.delete(topic);
  }

  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  /** Sends to every subscriber (the frame encoded once); returns how many got it. */
  publish(topic: string, message: Text, isBinary: boolean, except?: FallbackSocket): number {
    const set = this.byTopic.get(topic);
    if (!set) return 0;
    const frame = typeof message === 'string' ? Buffer.from(message) : Buffer.from(message as ArrayBuffer);
    let sent = 0;
    for (const s of set) if (s !== except && s.send(frame, isBinary) === 1) sent++;
    return sent;
  }
}

/** The minimal uWS HttpRequest an `upgrade` handler reads. */
function upgradeRequest(request: IncomingMessage): Pick<Uws.HttpRequest, 'getHeader' | 'getQuery' | 'getUrl' | 'getMethod'> {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  return {
    getHeader: (name: Text) => {
      const v = request.headers[text(name).toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : (v ?? '');
    },
    getQuery: (() => (q < 0 ? '' : url.slice(q + 1))) as Uws.HttpRequest['getQuery'],
    getUrl: () => (q < 0 ? url : url.slice(0, q)),
    getMethod: () => (request.method ?? 'GET').toLowerCase(),
  };
}

/** The subprotocol an upgrade handler passed to res.upgrade(), per request, for the ws server's handleProtocols. */
const chosenProtocol = new WeakMap<IncomingMessage, string>();

/**
 * The uWS module with a complete App for the fallback. `fallback` is what
 * the package returned (its dist/index.js).
 */
export function completeFallback(fallback: typeof Uws): typeof Uws {
  const Base = (require('@trufflesuite/uws-js-unofficial/dist/templated-app.js') as { default: FallbackAppClass }).default;

  class FallbackApp extends Base {
    private readonly registry = new TopicRegistry();
    private readonly wsRoutes = new Map<string, Behavior>();
    // the subprotocol answered is the one the upgrade handler chose (uWS's res.upgrade argument), not
    // ws's default (the first offered: that may be the ja4.token.<token> entry)
    private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, handleProtocols: (_offered, request) => chosenProtocol.get(request) || false });

    override ws<T>(pattern: Text, behavior: Uws.WebSocketBehavior<T>): this {
      // not the package's onWs: its upgrade path throws on a custom `upgrade` handler
      this.wsRoutes.set(text(pattern), behavior as Behavior);
      return this;
    }

    override any(pattern: Text, handler: (res: Uws.HttpResponse, req: Uws.HttpRequest) => void | Promise<void>): this {
      super.any(pattern, (res, req) => handler(completeResponse(res), completeRequest(req)));
      return this;
    }

    override publish(topic: Text, message: Text, isBinary = false): boolean {
      return this.registry.publish(text(topic), message, isBinary) > 0;
    }

    override numSubscribers(topic: Text): number {
      return this.registry.count(text(topic));
    }

    override listen(...args: unknown[]): this {
      const cbIndex = args.findIndex((a) => typeof a === 'function');
      const cb = args[cbIndex] as (socket: unknown) => void;
      args[cbIndex] = (socket: unknown) => {
        const server = this.httpContext.http;
        if (socket && server) {
          // the package's own 'upgrade' listener answers 400 or throws: ours instead
          server.removeAllListeners('upgrade');
          // the package adds a server 'close' listener per connection (to clean a set it never fills):
          // a leak on a long-running server. Node's own connection listener is the first one; keep only it.
          for (const l of server.listeners('connection').slice(1)) server.removeListener('connection', l as () => void);
          server.on('upgrade', (request: IncomingMessage, sock: Duplex, head: Buffer) => this.onUpgrade(request, sock, head));
        }
        cb(socket);
      };
      return (super.listen as (...a: unknown[]) => this)(...args);
    }

    private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      const req = upgradeRequest(request);
      const behavior = this.wsRoutes.get(req.getUrl());
      if (!behavior) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      let status = '200 OK';
      let headers = '';
      let answered = false;
      const onAborted: (() => void)[] = [];
      socket.once('close', () => {
        if (!answered) for (const f of onAborted) f();
      });
      socket.on('error', () => socket.destroy());
      const res = {
        onAborted: (f: () => void) => (onAborted.push(f), res),
        cork: (f: () => void) => (f(), res),
        writeStatus: (s: Text) => ((status = text(s)), res),
        writeHeader: (k: Text, v: Text) => ((headers += `${text(k)}: ${text(v)}\r\n`), res),
        end: (body: Text = '') => {
          answered = true;
          const b = Buffer.from(text(body));
          socket.end(`HTTP/1.1 ${status}\r\n${headers}Content-Type: text/plain\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n${b.toString()}`);
          return res;
        },
        upgrade: (userData: unknown, _key?: Text, protocol?: Text) => {
          answered = true;
          chosenProtocol.set(request, protocol === undefined ? '' : text(protocol));
          this.wss.handleUpgrade(request, socket, head, (internal) => this.open(internal, userData, behavior));
        },
      };
      if (behavior.upgrade) behavior.upgrade(res as unknown as Uws.HttpResponse, req as Uws.HttpRequest, {} as Uws.us_socket_context_t);
      else res.upgrade({});
    }

    private open(internal: WsSocket, userData: unknown, behavior: Behavior): void {
      const s = new FallbackSocket(internal, userData, this.registry, behavior.maxBackpressure ?? 64 * 1024);
      const ws = s as unknown as Uws.WebSocket<unknown>;
      internal.on('message', (data: Buffer, isBinary: boolean) => {
        const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
        behavior.message?.(ws, ab, isBinary);
      });
      internal.on('error', () => internal.terminate());
      internal.on('close', (code: number, reason: Buffer) => {
        s.detach();
        behavior.close?.(ws, code, reason.buffer.slice(reason.byteOffset, reason.byteOffset + reason.byteLength) as ArrayBuffer);
      });
      behavior.open?.(ws);
    }
  }

  return { ...fallback, App: () => new FallbackApp() } as unknown as typeof Uws;
}

/**
 * The request calls the server uses that the fallback lacks or answers
 * differently from uWS (getUrl with the query, getQuery through `new URL`
 * of a relative URL, which throws), as own properties.
 */
function completeRequest(req: Uws.HttpRequest): Uws.HttpRequest {
  const node = (req as unknown as { request: IncomingMessage }).request;
  const r = req as unknown as Record<string, unknown>;
  const url = node.url ?? '/';
  const q = url.indexOf('?');
  r.forEach = (cb: (key: string, value: string) => void) => {
    // rawHeaders: every occurrence, in order, as uWS gives them (names lower-cased)
    for (let i = 0; i + 1 < node.rawHeaders.length; i += 2) cb(node.rawHeaders[i]!.toLowerCase(), node.rawHeaders[i + 1]!);
  };
  r.getCaseSensitiveMethod = () => node.method ?? 'GET';
  r.getUrl = () => (q < 0 ? url : url.slice(0, q));
  r.getQuery = (key?: string) => {
    const query = q < 0 ? '' : url.slice(q + 1);
    return key === undefined ? query : (new URLSearchParams(query).get(key) ?? undefined);
  };
  return req;
}

/** The response calls the server uses that the fallback lacks, as own properties. */
function completeResponse(res: Uws.HttpResponse): Uws.HttpResponse {
  const node = (res as unknown as { response: import('node:http').ServerResponse }).response;
  const r = res as unknown as Record<string, unknown>;
  r.getRemoteAddressAsText = () => new TextEncoder().encode(node.socket?.remoteAddress ?? '').buffer;
  r.endWithoutBody = (length?: number) => {
    if (length !== undefined) node.setHeader('Content-Length', String(length));
    node.end();
    return res;
  };
  return res;
}
