// A TCP relay between a test's client and its server, to take "the
// network" away and bring it back: cut() closes the listener and drops
// every connection in flight (the client sees resets and refused
// connections), restore() listens again on the same port, possibly towards
// another server (retarget). Node's listener sets SO_REUSEADDR, so the
// same port is free again at once.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpRelay {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port = 0;
  /** connections relayed so far */
  connections = 0;

  constructor(
    private target: number,
    private readonly host = '127.0.0.1',
  ) {}

  get port(): number {
    return this.#port;
  }

  retarget(port: number): void {
    this.target = port;
  }

  async listen(port = this.#port): Promise<number> {
    const server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.target, this.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.#server = server;
    const addr = server.address();
    this.#port = typeof addr === 'object' && addr !== null ? addr.port : port;
    return this.#port;
  }

  /** The network goes away: no new connections, the open ones reset. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.listen(this.#port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
