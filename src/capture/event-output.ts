// Where `ja4 capture` and `ja4 replay` send their events:
//   unix:PATH   datagrams to the correlator's socket (default
//               /run/ja4/network.socket, env JA4_NETWORK_SOCKET); events are
//               packed whole, several lines per datagram up to 32 KiB, as
//               mod_reqin_log batches its records
//   jsonl:FILE  appended to a file, one event per line
//   stdout      one event per line
// A datagram the receiver cannot take now waits in a bounded queue (64 MiB)
// and is retried; past the bound the oldest is dropped and counted. The
// capture thread never waits on the consumer of its output.
import { createWriteStream, mkdirSync, openSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { OptionError } from './engine-options.js';
import type { EventBatch } from './capture-session.js';
import { openDatagramSender, type DatagramSender } from '../ingest/datagram-sender.js';
import { validateSocketPath } from '../ingest/socket-options.js';

export const DEFAULT_NETWORK_SOCKET = '/run/ja4/network.socket';
const MAX_DATAGRAM = 32 * 1024;
const MAX_PENDING_BYTES = 64 << 20;
const RETRY_MS = 5;

/** unix: the receiver's socket type must match (ja4 run binds sockets.network_type: dgram by default) */
export type OutputSpec = { kind: 'unix'; path: string; type: 'dgram' | 'seqpacket' } | { kind: 'jsonl'; file: string } | { kind: 'stdout' };

export interface OutputStats {
  events: number;
  /** datagrams or lines written */
  written: number;
  /** datagrams dropped (queue full); their events are lost */
  dropped: number;
  droppedEvents: number;
  /** datagrams waiting for the receiver */
  pending: number;
}

export interface EventOutput {
  readonly description: string;
  write(batch: EventBatch): void;
  stats(): OutputStats;
  /** Flushes what can be flushed (waits up to `graceMs` for a slow receiver). */
  close(graceMs?: number): Promise<void>;
}

export function defaultOutputSpec(): string {
  return `unix:${process.env.JA4_NETWORK_SOCKET || DEFAULT_NETWORK_SOCKET}`;
}

/** The spec of a UNIX socket output: unix:PATH (datagrams) or unix+seqpacket:PATH. */
export function unixOutputSpec(path: string, type: 'dgram' | 'seqpacket'): string {
  return `${type === 'dgram' ? 'unix' : 'unix+seqpacket'}:${path}`;
}

export function parseOutputSpec(spec: string, flag = '--output'): OutputSpec {
  if (spec === 'stdout' || spec === '-') return { kind: 'stdout' };
  const m = /^(unix|unix\+seqpacket|jsonl):(.+)$/.exec(spec);
  if (!m) throw new OptionError(`${flag} must be unix:PATH, unix+seqpacket:PATH, jsonl:FILE or stdout, got "${spec}"`);
  if (m[1] !== 'jsonl') return { kind: 'unix', path: validateSocketPath(m[2], flag), type: m[1] === 'unix' ? 'dgram' : 'seqpacket' };
  return { kind: 'jsonl', file: m[2]! };
}

/** Splits a batch into datagrams of whole lines, each at most MAX_DATAGRAM (a longer line goes alone). */
function* datagrams(data: Buffer): Generator<[Buffer, number]> {
  let start = 0;
  while (start < data.length) {
    let end = start;
    let lines = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, end);
      const next = nl < 0 ? data.length : nl + 1;
      if (lines > 0 && next - start > MAX_DATAGRAM) break;
      end = next;
      lines++;
      if (end >= data.length || end - start >= MAX_DATAGRAM) break;
    }
    yield [data.subarray(start, end), lines];
    start = end;
  }
}

function unixOutput(path: string, type: 'dgram' | 'seqpacket'): EventOutput {
  const sender: DatagramSender = openDatagramSender({ path, type });
  const queue: [Buffer, number][] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const st = { events: 0, written: 0, dropped: 0, droppedEvents: 0 };
  const drain = (): boolean => {
    while (queue.length > 0) {
      const [d, n] = queue[0]!;
      if (!sender.send(d)) return false;
      queue.shift();
      queuedBytes -= d.length;
      st.written++;
      void n;
    }
    return true;
  };
  const schedule = () => {
    if (timer || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!drain()) schedule();
    }, RETRY_MS);
  };
  return {
    description: unixOutputSpec(path, type),
    write(batch) {
      st.events += batch.events;
      for (const [d, n] of datagrams(batch.data)) {
        queue.push([Buffer.from(d), n]);
        queuedBytes += d.length;
      }
      while (queuedBytes > MAX_PENDING_BYTES && queue.length > 0) {
        const [d, n] = queue.shift()!;
        queuedBytes -= d.length;
        st.dropped++;
        st.droppedEvents += n;
      }
      if (!drain()) schedule();
    },
    stats: () => ({ ...st, pending: queue.length }),
    async close(graceMs = 1000) {
      const end = Date.now() + graceMs;
      while (!drain() && Date.now() < end) await new Promise((r) => setTimeout(r, RETRY_MS));
      if (timer) clearTimeout(timer);
      for (const [, n] of queue) {
        st.dropped++;
        st.droppedEvents += n;
      }
      queue.length = 0;
      sender.close();
    },
  };
}

function fileOutput(file: string): EventOutput {
  mkdirSync(dirname(file), { recursive: true });
  // Opened here so a bad path fails now, with its name, not later in a stream event.
  const stream: WriteStream = createWriteStream(file, { fd: openSync(file, 'a') });
  let failure: Error | undefined;
  stream.on('error', (err) => (failure = err));
  const st = { events: 0, written: 0, dropped: 0, droppedEvents: 0 };
  return {
    description: `jsonl:${file}`,
    write(batch) {
      st.events += batch.events;
      if (failure) {
        st.droppedEvents += batch.events;
        return;
      }
      st.written += batch.events;
      if (batch.data.length > 0) stream.write(batch.data);
    },
    stats: () => ({ ...st, pending: 0 }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        stream.end(() => (failure ? reject(new Error(`${file}: ${failure.message}`)) : resolve()));
      }),
  };
}

function textOutput(out: (text: string) => void): EventOutput {
  const st = { events: 0, written: 0, dropped: 0, droppedEvents: 0 };
  return {
    description: 'stdout',
    write(batch) {
      st.events += batch.events;
      st.written += batch.events;
      if (batch.data.length > 0) out(batch.data.toString('utf8'));
    },
    stats: () => ({ ...st, pending: 0 }),
    close: async () => {},
  };
}

/** `out` receives the stdout text (the CLI's io.out). */
export function openEventOutput(spec: OutputSpec, out: (text: string) => void = (t) => void process.stdout.write(t)): EventOutput {
  switch (spec.kind) {
    case 'unix':
      return unixOutput(spec.path, spec.type);
    case 'jsonl':
      return fileOutput(spec.file);
    case 'stdout':
      return textOutput(out);
  }
}
