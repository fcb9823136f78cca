// Validation of the engine options. The native side trusts what it gets,
// so every bound is checked here, with a message naming the option.
import type { NativeEngineOptions } from '../native/addon.js';

export interface EngineOptions {
  /** records per batch handed from the native thread (default 512) */
  batchRecords?: number;
  /** most flows tracked at once; the least recently seen is evicted past it (default 262144) */
  maxFlows?: number;
  /** out-of-order bytes buffered per direction before giving up on it (default 262144) */
  maxBufferedPerDirection?: number;
  /** TLS handshake bytes kept per direction (default 65536) */
  maxHandshakeBytes?: number;
  /** a flow idle this long (capture time) is reported and dropped (default 120000) */
  idleTimeoutMs?: number;
  /** JA4H records kept per connection (default 1000) */
  maxHttpPerFlow?: number;
}

export class OptionError extends Error {
  readonly code = 'EOPTION';
}

const LIMITS: Record<keyof EngineOptions, [min: number, max: number]> = {
  batchRecords: [1, 1_000_000],
  maxFlows: [1, 100_000_000],
  maxBufferedPerDirection: [0, 1 << 30],
  maxHandshakeBytes: [1024, 1 << 24],
  idleTimeoutMs: [1, 30 * 24 * 3600 * 1000],
  maxHttpPerFlow: [0, 1_000_000],
};

export function validateEngineOptions(options: EngineOptions = {}, prefix = 'options'): NativeEngineOptions {
  if (options === null || typeof options !== 'object') {
    throw new OptionError(`${prefix} must be an object`);
  }
  const out: NativeEngineOptions = {};
  for (const [key, value] of Object.entries(options)) {
    const limits = LIMITS[key as keyof EngineOptions];
    if (!limits) throw new OptionError(`${prefix}.${key} is not a known option`);
    if (value === undefined) continue;
    const [min, max] = limits;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new OptionError(`${prefix}.${key} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
    }
    out[key as keyof NativeEngineOptions] = value;
  }
  return out;
}
