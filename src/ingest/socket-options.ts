// Validation shared by the UNIX datagram receiver and sender: the native
// side trusts what it gets, so the messages here name the option.
import { Buffer } from 'node:buffer';
import { OptionError } from '../capture/engine-options.js';

export type DatagramSocketType = 'dgram' | 'seqpacket';

// sockaddr_un.sun_path is 108 bytes on Linux, NUL included.
const MAX_PATH_BYTES = 107;

export function validateSocketPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new OptionError(`${name} must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if (path.includes('\0')) throw new OptionError(`${name} must not contain a NUL byte`);
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    throw new OptionError(`${name} is too long for a UNIX socket (${Buffer.byteLength(path)} bytes, at most ${MAX_PATH_BYTES}): ${path}`);
  }
  return path;
}

export function validateSocketType(type: unknown, name = 'type'): DatagramSocketType {
  if (type === undefined) return 'dgram';
  if (type !== 'dgram' && type !== 'seqpacket') {
    throw new OptionError(`${name} must be "dgram" or "seqpacket", got ${JSON.stringify(type)}`);
  }
  return type;
}

export function validateInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionError(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
