// What live capture and replay share: the native capture thread (native/io/
// capture_thread.cc) running the engine with close events on, and handing
// JS one Buffer of event lines (src/capture/tls-event.ts) per batch.
import { loadAddon, type NativeCapture, type NativeCaptureOptions, type NativeCaptureStats } from '../native/addon.js';
import { OptionError, validateEngineOptions, type EngineOptions } from './engine-options.js';

/** Event lines: `events` JSON objects, each ending in '\n'. */
export interface EventBatch {
  data: Buffer;
  events: number;
  /** the last batch: the engine was flushed and the thread has ended */
  end: boolean;
}

export type CaptureStats = NativeCaptureStats;

export interface CaptureSession {
  stats(): CaptureStats;
  /**
   * Flushes the engine (pending flows reported, open connections closed
   * with reason "evicted"), delivers the last batch and stops the thread.
   */
  close(): Promise<void>;
  /** Resolves after the last batch (end of the replay, or after close()). */
  readonly finished: Promise<void>;
}

/** A capture that could not start (no such interface, no privilege, bad filter, bad file...). */
export class CaptureStartError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const EVENT_OPTION_KEYS = ['sensor', 'flushMs'];

export interface EventOptions {
  /** sensor name added to every event */
  sensor?: string;
  /** longest a ready event waits before its batch is handed over, ms (default 50) */
  flushMs?: number;
}

export function validateEventOptions(opts: EventOptions, prefix: string): NativeCaptureOptions {
  const out: NativeCaptureOptions = {};
  if (opts.sensor !== undefined) {
    if (typeof opts.sensor !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(opts.sensor)) {
      throw new OptionError(`${prefix}.sensor must be 1 to 64 printable characters without spaces, got ${JSON.stringify(opts.sensor)}`);
    }
    out.sensor = opts.sensor;
  }
  if (opts.flushMs !== undefined) {
    if (!Number.isInteger(opts.flushMs) || opts.flushMs < 1 || opts.flushMs > 10_000) {
      throw new OptionError(`${prefix}.flushMs must be an integer between 1 and 10000, got ${JSON.stringify(opts.flushMs)}`);
    }
    out.flushMs = opts.flushMs;
  }
  return out;
}

/** Splits an options object into the engine's part (validated there) and the rest. */
export function splitEngineOptions<T extends object>(opts: T, engineKeys: readonly string[], prefix: string) {
  const engine: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) (engineKeys.includes(k) ? engine : rest)[k] = v;
  return { engine: validateEngineOptions(engine as EngineOptions, prefix), rest };
}

export const ENGINE_OPTION_KEYS = [
  'batchRecords',
  'maxFlows',
  'maxBufferedPerDirection',
  'maxHandshakeBytes',
  'idleTimeoutMs',
  'maxHttpPerFlow',
] as const;

/**
 * The checks live capture and replay options start with: an object, valid
 * engine options, and no key beyond the engine's, the event options and
 * `ownKeys`. Returns the validated engine options; the caller then checks
 * its own keys, then validateEventOptions.
 */
export function validateSessionOptions(opts: object, ownKeys: readonly string[], prefix: string) {
  if (opts === null || typeof opts !== 'object') throw new OptionError(`${prefix} must be an object`);
  const { engine, rest } = splitEngineOptions(opts, ENGINE_OPTION_KEYS, prefix);
  for (const key of Object.keys(rest)) {
    if (!ownKeys.includes(key) && !EVENT_OPTION_KEYS.includes(key)) throw new OptionError(`${prefix}.${key} is not a known option`);
  }
  return engine;
}

export function startCaptureSession(native: NativeCaptureOptions, onBatch: (batch: EventBatch) => void): CaptureSession {
  if (typeof onBatch !== 'function') throw new OptionError('onBatch must be a function');
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));
  let handle: NativeCapture;
  try {
    handle = new (loadAddon().Capture)({ ...native, closeEvents: true, eventTag: true }, (b) => {
      try {
        if (b.count > 0 || b.end) onBatch({ data: b.data, events: b.count, end: b.end });
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      } finally {
        if (b.end) resolveFinished();
      }
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new CaptureStartError(e.code ?? 'EOPEN', e.message ?? String(err));
  }
  let closing: Promise<void> | undefined;
  return {
    stats: () => handle.stats(),
    close: () => (closing ??= handle.close()),
    finished,
  };
}
