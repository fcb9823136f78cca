// Sends messages to a UNIX datagram or SOCK_SEQPACKET socket without ever
// blocking, as mod_reqin_log and the capture sensor do: when the receiver is
// absent or behind, send() returns false and counts the drop. Used by
// `ja4 capture --output unix:PATH` and by tests and benchmarks that stand
// in for mod_reqin_log or a sensor.
import { OptionError } from '../capture/engine-options.js';
import { loadAddon, type NativeDatagramSender } from '../native/addon.js';
import { validateSocketPath, validateSocketType, type DatagramSocketType } from './socket-options.js';

export interface DatagramSenderOptions {
  path: string;
  /** 'dgram' (default) or 'seqpacket' */
  type?: DatagramSocketType;
}

export interface DatagramSenderStats {
  sent: number;
  bytes: number;
  /** messages not delivered: no receiver, receiver behind, too large */
  dropped: number;
  connects: number;
  errors: number;
}

export interface DatagramSender {
  readonly path: string;
  /** One message (a datagram); false when dropped. Never blocks. */
  send(buf: Buffer): boolean;
  stats(): DatagramSenderStats;
  close(): void;
}

export function openDatagramSender(opts: DatagramSenderOptions): DatagramSender {
  if (opts === null || typeof opts !== 'object') throw new OptionError('options must be an object');
  const path = validateSocketPath(opts.path, 'options.path');
  const type = validateSocketType(opts.type, 'options.type');
  const handle: NativeDatagramSender = new (loadAddon().DatagramSender)(path, type === 'seqpacket');
  return {
    path,
    send: (buf) => handle.send(buf),
    stats: () => {
      const s = handle.stats();
      return { sent: s.sent ?? 0, bytes: s.bytes ?? 0, dropped: s.dropped ?? 0, connects: s.connects ?? 0, errors: s.errors ?? 0 };
    },
    close: () => handle.close(),
  };
}
