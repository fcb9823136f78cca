// Receives JSON-lines datagrams on a UNIX socket (SOCK_DGRAM, or
// SOCK_SEQPACKET as mod_reqin_log sends by default): Node's dgram module has
// no UNIX sockets, so a native thread reads them with recvmmsg and hands JS
// one Buffer per batch (native/io/datagram_receiver.cc).
//
// Bad input never stops it: a datagram larger than maxDatagramBytes is
// counted (stats().oversized) and dropped; content is not parsed here, so
// garbage reaches onBatch as bytes and the consumer counts what it rejects.
// Memory is bounded: at most 64 batches wait for JS; past that the native
// thread waits and the kernel buffer (then the senders) absorb the burst.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { OptionError } from '../capture/engine-options.js';
import { loadAddon, type NativeDatagramReceiver } from '../native/addon.js';
import { validateInteger, validateSocketPath, validateSocketType } from './socket-options.js';

export interface DatagramReceiverOptions {
  /** socket file; a stale one is removed, its directory created */
  path: string;
  /** 'dgram' (default) or 'seqpacket' */
  type?: 'dgram' | 'seqpacket';
  /** permission bits of the socket file, e.g. 0o660 (senders need write access) */
  mode?: number;
  /** group owning the socket file (name or numeric id), e.g. Apache's */
  group?: string;
  /** largest datagram accepted (default 65536); larger ones are counted and dropped */
  maxDatagramBytes?: number;
  /** datagrams per recvmmsg call (default 64) */
  batchSize?: number;
  /** SO_RCVBUF in bytes (default: the system's) */
  receiveBufferBytes?: number;
}

export interface DatagramBatch {
  /** the datagrams concatenated, each ending in '\n' (one appended if missing) */
  data: Buffer;
  datagrams: number;
}

export interface DatagramReceiverStats {
  datagrams: number;
  bytes: number;
  batches: number;
  oversized: number;
  errors: number;
}

export interface DatagramReceiver {
  readonly path: string;
  stats(): DatagramReceiverStats;
  /** Stops the thread after delivering what it has read; removes the socket file. */
  close(): Promise<void>;
}

/** Options checked and defaulted, as handed to the native side. */
export function validateDatagramReceiverOptions(opts: DatagramReceiverOptions, prefix = 'options') {
  if (opts === null || typeof opts !== 'object') throw new OptionError(`${prefix} must be an object`);
  const known = new Set(['path', 'type', 'mode', 'group', 'maxDatagramBytes', 'batchSize', 'receiveBufferBytes']);
  for (const key of Object.keys(opts)) {
    if (!known.has(key)) throw new OptionError(`${prefix}.${key} is not a known option`);
  }
  const path = validateSocketPath(opts.path, `${prefix}.path`);
  const type = validateSocketType(opts.type, `${prefix}.type`);
  const mode = validateInteger(opts.mode, `${prefix}.mode`, 0, 0o7777);
  if (opts.group !== undefined && (typeof opts.group !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(opts.group))) {
    throw new OptionError(`${prefix}.group must be a group name or numeric id, got ${JSON.stringify(opts.group)}`);
  }
  const maxDatagramBytes = validateInteger(opts.maxDatagramBytes, `${prefix}.maxDatagramBytes`, 16, 4 << 20) ?? 65536;
  const batchSize = validateInteger(opts.batchSize, `${prefix}.batchSize`, 1, 1024) ?? 64;
  if (maxDatagramBytes * batchSize > 256 << 20) {
    throw new OptionError(
      `${prefix}.maxDatagramBytes x ${prefix}.batchSize must stay under 256 MiB of receive buffers, got ${maxDatagramBytes} x ${batchSize}`,
    );
  }
  const receiveBufferBytes = validateInteger(opts.receiveBufferBytes, `${prefix}.receiveBufferBytes`, 1024, 1 << 30);
  return { path, seqpacket: type === 'seqpacket', mode, group: opts.group, maxDatagramBytes, batchSize, receiveBufferBytes };
}

/** A socket the receiver could not take (in use, not a socket, unknown group...). */
export class ReceiverError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Binds the socket and starts the receiver thread. `onBatch` runs on the
 * main thread, once per batch; an exception it throws is re-thrown as an
 * uncaught exception (the receiver keeps going if that is handled).
 */
export function openDatagramReceiver(
  opts: DatagramReceiverOptions,
  onBatch: (batch: DatagramBatch) => void,
): DatagramReceiver {
  const native = validateDatagramReceiverOptions(opts);
  if (typeof onBatch !== 'function') throw new OptionError('onBatch must be a function');
  try {
    mkdirSync(dirname(native.path), { recursive: true });
  } catch (err) {
    throw new ReceiverError('ESOCKET', `cannot create the directory of ${native.path}: ${(err as Error).message}`);
  }
  let handle: NativeDatagramReceiver;
  try {
    handle = new (loadAddon().DatagramReceiver)(native, (b) => {
      try {
        onBatch({ data: b.data, datagrams: b.count });
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new ReceiverError(e.code ?? 'ESOCKET', e.message ?? String(err));
  }
  let closing: Promise<void> | undefined;
  return {
    path: native.path,
    stats: () => {
      const s = handle.stats();
      return {
        datagrams: s.datagrams ?? 0,
        bytes: s.bytes ?? 0,
        batches: s.batches ?? 0,
        oversized: s.oversized ?? 0,
        errors: s.errors ?? 0,
      };
    },
    close: () => (closing ??= handle.close()),
  };
}
