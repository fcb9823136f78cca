// Live capture: libpcap on a native thread feeding the same engine as
// `ja4 pcap`, delivering batches of event lines (flow and close events,
// src/capture/tls-event.ts) to an onBatch callback on the main thread.
// A slow consumer makes the capture thread wait (at most 64 batches queue
// up); the kernel ring then absorbs the burst and pcap_stats counts drops.
import { OptionError, type EngineOptions } from './engine-options.js';
import {
  startCaptureSession,
  validateEventOptions,
  validateSessionOptions,
  type CaptureSession,
  type EventBatch,
  type EventOptions,
} from './capture-session.js';

export interface LiveCaptureOptions extends EngineOptions, EventOptions {
  /** interface name (e.g. eth0, lo, any) */
  iface: string;
  /** BPF filter expression (tcpdump syntax) */
  bpf?: string;
  /** bytes kept per packet (default 65535) */
  snaplen?: number;
  /** kernel capture buffer, MiB (default 64) */
  bufferMb?: number;
  /** promiscuous mode (default off) */
  promisc?: boolean;
}

export type LiveCapture = CaptureSession;
export type { EventBatch } from './capture-session.js';
export { CaptureStartError } from './capture-session.js';

const OWN_KEYS = ['iface', 'bpf', 'snaplen', 'bufferMb', 'promisc'];

export function validateLiveCaptureOptions(opts: LiveCaptureOptions, prefix = 'options') {
  const engine = validateSessionOptions(opts, OWN_KEYS, prefix);
  const { iface, bpf, snaplen, bufferMb, promisc } = opts;
  if (typeof iface !== 'string' || !/^[^\s/\0]{1,64}$/.test(iface)) {
    throw new OptionError(`${prefix}.iface must be an interface name, got ${JSON.stringify(iface)}`);
  }
  if (bpf !== undefined && (typeof bpf !== 'string' || bpf.includes('\0'))) {
    throw new OptionError(`${prefix}.bpf must be a filter expression string, got ${JSON.stringify(bpf)}`);
  }
  const int = (v: unknown, name: string, min: number, max: number) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
      throw new OptionError(`${prefix}.${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
    }
  };
  int(snaplen, 'snaplen', 64, 262144);
  // libpcap takes the size as an int of bytes: 2 GiB - 1 at most
  int(bufferMb, 'bufferMb', 1, 2047);
  if (promisc !== undefined && typeof promisc !== 'boolean') {
    throw new OptionError(`${prefix}.promisc must be a boolean, got ${JSON.stringify(promisc)}`);
  }
  return { ...engine, ...validateEventOptions(opts, prefix), iface, bpf, snaplen, bufferMb, promisc };
}

/**
 * Opens the interface and starts capturing. Throws CaptureStartError with
 * code ENODEV (no such interface), EPERM (CAP_NET_RAW missing), EBPF (bad
 * filter) or ELINKTYPE, and OptionError for bad options.
 */
export function openLiveCapture(opts: LiveCaptureOptions, onBatch: (batch: EventBatch) => void): LiveCapture {
  const native = validateLiveCaptureOptions(opts);
  return startCaptureSession(native, onBatch);
}
