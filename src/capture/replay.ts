// Replay: capture files fed through the engine on the native capture
// thread with their recorded timing (scaled by speed, or paced by packet
// rate, or as fast as possible), producing the same events as live capture.
// Event timestamps start at the wall clock and keep the recorded intervals
// (unscaled, so JA4L stays the capture's own); each loop starts after the
// previous one's last event.
import { OptionError, type EngineOptions } from './engine-options.js';
import {
  startCaptureSession,
  validateEventOptions,
  validateSessionOptions,
  type CaptureSession,
  type EventBatch,
  type EventOptions,
} from './capture-session.js';

export interface ReplayOptions extends EngineOptions, EventOptions {
  files: string[];
  /** 1 = recorded timing (default), 10 = ten times faster */
  speed?: number;
  /** packets per second instead of the recorded timing */
  pps?: number;
  /** as fast as possible */
  max?: boolean;
  /** passes over the files (default 1) */
  loops?: number;
}

const OWN_KEYS = ['files', 'speed', 'pps', 'max', 'loops'];

export function validateReplayOptions(opts: ReplayOptions, prefix = 'options') {
  const engine = validateSessionOptions(opts, OWN_KEYS, prefix);
  const { files, speed, pps, max, loops } = opts;
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw new OptionError(`${prefix}.files must be a non-empty list of file names`);
  }
  const pacing = [speed !== undefined, pps !== undefined, max === true].filter(Boolean).length;
  if (pacing > 1) throw new OptionError(`${prefix}.speed, ${prefix}.pps and ${prefix}.max are exclusive; give one`);
  if (speed !== undefined && (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > 1e6)) {
    throw new OptionError(`${prefix}.speed must be a number above 0 and at most 1000000, got ${JSON.stringify(speed)}`);
  }
  if (pps !== undefined && (typeof pps !== 'number' || !Number.isInteger(pps) || pps < 1 || pps > 1e9)) {
    throw new OptionError(`${prefix}.pps must be an integer between 1 and 1000000000, got ${JSON.stringify(pps)}`);
  }
  if (max !== undefined && typeof max !== 'boolean') throw new OptionError(`${prefix}.max must be a boolean, got ${JSON.stringify(max)}`);
  if (loops !== undefined && (typeof loops !== 'number' || !Number.isInteger(loops) || loops < 1 || loops > 1_000_000)) {
    throw new OptionError(`${prefix}.loops must be an integer between 1 and 1000000, got ${JSON.stringify(loops)}`);
  }
  return { ...engine, ...validateEventOptions(opts, prefix), files, speed, pps, max, loops };
}

/**
 * Starts the replay; `finished` resolves after the last batch. Throws
 * CaptureStartError (ENOENT, EFORMAT, ELINKTYPE naming the file) or OptionError.
 */
export function openReplay(opts: ReplayOptions, onBatch: (batch: EventBatch) => void): CaptureSession {
  const native = validateReplayOptions(opts);
  return startCaptureSession(native, onBatch);
}
