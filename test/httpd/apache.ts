// Test harness for mod_reqin_log: a real Apache (Debian's apache2, or
// RHEL's httpd) started on 127.0.0.1 on free ports with a generated,
// self-contained config that loads the freshly built module, the test
// receiver (native/httpd/test_receiver.c) on a temporary socket, and an
// HTTP/1.x client that writes exact bytes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export const buildDir = join(repoRoot, 'build', 'httpd');
export const modulePath = join(buildDir, 'mod_reqin_log.so');
export const receiverPath = join(buildDir, 'test_receiver');
export const jsonWriterCli = join(buildDir, 'json_writer_cli');
export const h2PseudoCli = join(buildDir, 'h2_pseudo_cli');

/** The httpd binary and where its modules live, or null when Apache is absent. */
export interface ApacheInstall {
  bin: string;
  modulesDir: string;
  mimeTypes: string;
}

export function findApache(): ApacheInstall | null {
  const candidates: ApacheInstall[] = [
    { bin: '/usr/sbin/apache2', modulesDir: '/usr/lib/apache2/modules', mimeTypes: '/etc/mime.types' },
    { bin: '/usr/sbin/httpd', modulesDir: '/usr/lib64/httpd/modules', mimeTypes: '/etc/mime.types' },
  ];
  return candidates.find((c) => existsSync(c.bin) && existsSync(join(c.modulesDir, 'mod_mpm_event.so'))) ?? null;
}

/** Builds the module and tools (or only `targets`) when missing or older than the sources, as make build-httpd does. */
export function ensureBuilt(targets: string[] = []): void {
  const r = spawnSync('make', ['-s', '-C', join(repoRoot, 'native', 'httpd'), `OUT=${buildDir}`, ...targets], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building mod_reqin_log failed:\n${r.stdout}${r.stderr}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The primary group id of `user` (Apache accepts Group #gid). */
function groupOf(user: string): string {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  return line?.split(':')[3] ?? '65534';
}

/** The user Apache's children run as when started by root: Debian's www-data, RHEL's apache. */
function apacheUser(): string {
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : '';
  return ['www-data', 'apache', 'nobody'].find((u) => passwd.split('\n').some((l) => l.startsWith(`${u}:`))) ?? 'nobody';
}

/** A temporary directory that Apache's children (www-data when we are root) can enter. */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ja4-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// ---------------------------------------------------------------- receiver

export type RecordJson = Record<string, any>;

/** test_receiver as a child process; every stdout line is a record. */
export class Receiver {
  readonly lines: string[] = [];
  private proc: ChildProcess | null = null;
  private partial = '';
  stderr = '';

  constructor(readonly socketPath: string, readonly type: 'seqpacket' | 'dgram' = 'seqpacket') {}

  async start(): Promise<void> {
    const proc = spawn(receiverPath, ['-t', this.type, this.socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => void (this.stderr += s));
    await waitUntil('the receiver to listen', () => this.stderr.includes('ready') || proc.exitCode !== null, 5000);
    if (proc.exitCode !== null) throw new Error(`test_receiver exited: ${this.stderr}`);
  }

  /** Parsed records (a line that is not JSON throws: every record must be valid JSON). */
  records(): RecordJson[] {
    return this.lines.map((l) => JSON.parse(l) as RecordJson);
  }

  /** Waits for the record whose uri is `uri` (unique per test step). */
  async recordFor(uri: string, timeoutMs = 5000): Promise<RecordJson> {
    return (await this.recordsFor(uri, 1, timeoutMs))[0]!;
  }

  /** Waits for `count` records whose uri is `uri` (one request logged more than once), in arrival order. */
  async recordsFor(uri: string, count: number, timeoutMs = 5000): Promise<RecordJson[]> {
    let found: RecordJson[] = [];
    await waitUntil(`${count} records of ${uri}`, () => {
      found = this.records().filter((r) => r.uri === uri);
      return found.length >= count;
    }, timeoutMs);
    return found;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
    this.proc = null;
  }
}

// ---------------------------------------------------------------- Apache

export interface ApacheOptions {
  mpm?: 'event' | 'worker' | 'prefork';
  socketPath: string;
  /** Directives appended to the main server config (a function: they may need the ports). */
  extra?: string | ((a: Apache) => string);
  /** A TLS virtual host on its own port (certificate generated here). */
  tls?: boolean;
  /** Load mod_reqin_log (the benchmark's baselines do not). */
  loadModule?: boolean;
  logLevel?: string;
}

/**
 * A receiver on a socket in a fresh folder and an Apache logging to it, both
 * started; stopped and removed when the test ends.
 */
export async function startApacheWithReceiver(
  t: { teardown(fn: () => unknown): void },
  install: ApacheInstall,
  name: string,
  opts: Omit<ApacheOptions, 'socketPath'>,
  transport: 'seqpacket' | 'dgram' = 'seqpacket',
): Promise<{ apache: Apache; receiver: Receiver }> {
  const dir = scratch(name);
  const receiver = new Receiver(join(dir, 'http.socket'), transport);
  const socketPath = transport === 'dgram' ? `${receiver.socketPath} dgram` : receiver.socketPath;
  const apache = new Apache(install, { ...opts, socketPath });
  t.teardown(async () => {
    await apache.stop();
    await receiver.stop();
    apache.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  await receiver.start();
  await apache.start();
  return { apache, receiver };
}

export class Apache {
  readonly dir: string;
  readonly docs: string;
  port = 0;
  tlsPort = 0;
  private proc: ChildProcess | null = null;
  private output = '';

  constructor(readonly install: ApacheInstall, readonly opts: ApacheOptions) {
    this.dir = scratch('httpd');
    this.docs = join(this.dir, 'docs');
    mkdirSync(this.docs);
    chmodSync(this.docs, 0o755);
    writeFileSync(join(this.docs, 'index.html'), 'hello\n');
    writeFileSync(join(this.docs, 'small.txt'), 'x'.repeat(100));
    mkdirSync(join(this.dir, 'cgi'));
    writeFileSync(join(this.dir, 'cgi', 'echo'), '#!/bin/sh\nprintf "Content-Type: application/octet-stream\\r\\n\\r\\n"\nexec cat\n', { mode: 0o755 });
    chmodSync(join(this.dir, 'cgi'), 0o755);
  }

  get confPath(): string {
    return join(this.dir, 'httpd.conf');
  }

  get errorLog(): string {
    const f = join(this.dir, 'error.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** The generated configuration (exported for the config-test suite and the benchmark). */
  config(): string {
    const o = this.opts;
    const m = (name: string) => `LoadModule ${name}_module ${join(this.install.modulesDir, `mod_${name}.so`)}`;
    const lines = [
      `# generated by test/httpd/apache.ts`,
      `ServerRoot ${this.dir}`,
      m(`mpm_${o.mpm ?? 'event'}`),
      m('authz_core'),
      m('mime'),
      m('dir'),
      m('unique_id'),
      m('socache_shmcb'),
      m('http2'),
      m('alias'),
      m('cgid'),
      ...(o.tls ? [m('ssl')] : []),
      ...(o.loadModule === false ? [] : [`LoadModule reqin_log_module ${modulePath}`]),
      ...(isRoot ? [`User ${apacheUser()}`, `Group #${groupOf(apacheUser())}`] : []),
      `ServerName 127.0.0.1`,
      `Listen 127.0.0.1:${this.port}`,
      `PidFile ${join(this.dir, 'httpd.pid')}`,
      `DefaultRuntimeDir ${this.dir}`,
      `ErrorLog ${join(this.dir, 'error.log')}`,
      `LogLevel ${o.logLevel ?? 'warn reqin_log:info'}`,
      `TypesConfig ${this.install.mimeTypes}`,
      `DocumentRoot ${this.docs}`,
      `DirectoryIndex index.html`,
      `Protocols h2c http/1.1`,
      `H2Direct on`,
      `KeepAliveTimeout 5`,
      `MaxKeepAliveRequests 0`,
      `<Directory ${this.docs}>`,
      `  Require all granted`,
      `</Directory>`,
      `# /cgi/echo echoes the request body: a handler that reads it (HTTP/1 and HTTP/2)`,
      `ScriptSock ${join(this.dir, 'cgid.sock')}`,
      `ScriptAlias /cgi/ ${join(this.dir, 'cgi')}/`,
      `<Directory ${join(this.dir, 'cgi')}>`,
      `  Require all granted`,
      `</Directory>`,
    ];
    if (o.loadModule !== false) lines.push(`ReqinLogSocket ${o.socketPath}`);
    if (o.tls) {
      lines.push(
        `Listen 127.0.0.1:${this.tlsPort}`,
        `SSLSessionCache shmcb:${join(this.dir, 'ssl_scache')}(512000)`,
        `<VirtualHost 127.0.0.1:${this.tlsPort}>`,
        `  ServerName test.example`,
        `  SSLEngine on`,
        `  SSLCertificateFile ${join(this.dir, 'cert.pem')}`,
        `  SSLCertificateKeyFile ${join(this.dir, 'key.pem')}`,
        `  Protocols h2 http/1.1`,
        `</VirtualHost>`,
      );
    }
    if (o.extra) lines.push(typeof o.extra === 'function' ? o.extra(this) : o.extra);
    return lines.join('\n') + '\n';
  }

  private makeCertificate(): void {
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=test.example', '-addext', 'subjectAltName=DNS:test.example',
      '-keyout', join(this.dir, 'key.pem'), '-out', join(this.dir, 'cert.pem'),
    ], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  }

  /** `apache2 -t` on the generated config: the exit status and what it printed. */
  configTest(): { status: number; output: string } {
    writeFileSync(this.confPath, this.config());
    const r = spawnSync(this.install.bin, ['-t', '-f', this.confPath], { encoding: 'utf8' });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  }

  async start(): Promise<void> {
    this.port = await freePort();
    if (this.opts.tls) {
      this.tlsPort = await freePort();
      this.makeCertificate();
    }
    writeFileSync(this.confPath, this.config());
    // -DFOREGROUND: the parent stays our child process; SIGTERM stops it and
    // its children. detached: its own session and process group, because
    // prefork stops its children with killpg(getpgrp(), SIGTERM), which
    // would otherwise hit this process too.
    const proc = spawn(this.install.bin, ['-f', this.confPath, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc = proc;
    const pid = proc.pid;
    const killOnExit = () => {
      try {
        if (pid) process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', killOnExit);
    proc.once('exit', () => process.removeListener('exit', killOnExit));
    proc.stdout!.on('data', (d) => void (this.output += d));
    proc.stderr!.on('data', (d) => void (this.output += d));
    await waitUntil('Apache to listen', async () => {
      if (proc.exitCode !== null) throw new Error(`apache exited (${proc.exitCode}): ${this.output}${this.errorLog}`);
      return canConnect(this.port);
    }, 15_000, 50);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    this.proc = null;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- HTTP/1.x client

export interface RawResponse {
  status: number;
  /** The whole response as received: status line, headers, body. */
  raw: Buffer;
  /** The body as the application sent it: chunked transfer coding removed. */
  body: Buffer;
}

/**
 * A complete chunked body at buf[start..]: its wire length and the data of its
 * chunks, or null while incomplete (no trailers expected). Apache sends a
 * handler's output as one chunk per write it got, so tests compare the data,
 * never the chunk sizes.
 */
function readChunked(buf: Buffer, start: number): { length: number; data: Buffer } | null {
  const chunks: Buffer[] = [];
  let pos = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return null; // not a chunk size: the exchange times out and says so
    if (size === 0) return buf.length >= eol + 4 ? { length: eol + 4 - start, data: Buffer.concat(chunks) } : null;
    pos = eol + 2 + size + 2;
    if (buf.length < pos) return null;
    chunks.push(buf.subarray(eol + 2, eol + 2 + size));
  }
}

/**
 * Sends each request on one TCP connection, waiting for its response before
 * the next (keep-alive). Requests are raw bytes: whatever a test needs.
 * Resolves with the responses and the client's local port.
 */
export function exchange(port: number, requests: Buffer[], opts: { head?: boolean[] } = {}): Promise<{ responses: RawResponse[]; localPort: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const responses: RawResponse[] = [];
    let buf = Buffer.alloc(0);
    let i = 0;
    let localPort = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete response to request ${i} after 10 s: ${buf.toString('latin1').slice(0, 200)}`));
    }, 10_000);
    const next = () => {
      if (i === requests.length) {
        clearTimeout(timer);
        sock.end();
        resolve({ responses, localPort });
        return;
      }
      sock.write(requests[i]!);
    };
    const tryParse = () => {
      while (i < requests.length) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(head.slice(9, 12));
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        let bodyLen = 0;
        let body: Buffer | null = null;
        if (!opts.head?.[i] && status !== 204 && status !== 304) {
          if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const chunked = readChunked(buf, end + 4);
            if (!chunked) return;
            bodyLen = chunked.length;
            body = chunked.data;
          } else if (cl) bodyLen = Number(cl[1]);
        }
        const total = end + 4 + bodyLen;
        if (buf.length < total) return;
        responses.push({ status, raw: buf.subarray(0, total), body: body ?? buf.subarray(end + 4, total) });
        buf = buf.subarray(total);
        i++;
        next();
      }
    };
    sock.on('connect', () => {
      localPort = sock.localPort ?? 0;
      next();
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      tryParse();
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      if (i < requests.length) {
        clearTimeout(timer);
        reject(new Error(`connection closed after ${i} of ${requests.length} responses`));
      }
    });
  });
}

/** A GET/HEAD/POST request as bytes; headers in the given order, exactly. */
export function req(method: string, target: string | Buffer, headers: Array<[string | Buffer, string | Buffer]>, body?: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} `), typeof target === 'string' ? Buffer.from(target, 'latin1') : target, Buffer.from(' HTTP/1.1\r\n')];
  for (const [k, v] of headers) {
    parts.push(Buffer.isBuffer(k) ? k : Buffer.from(k, 'latin1'), Buffer.from(': '), Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('\r\n'));
  if (body) parts.push(body);
  return Buffer.concat(parts);
}

/** curl, for HTTP/2 (h2c prior knowledge, h2 over TLS) and TLS. */
export function curl(args: string[]): { status: number; out: string; err: string } {
  const r = spawnSync('curl', ['-s', '-S', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}
