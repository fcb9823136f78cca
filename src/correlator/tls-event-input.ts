// TLS events (src/capture/tls-event.ts) as the correlator reads them: a
// flow event (the engine's flow record, "event":"flow" or absent as in
// `ja4 pcap --jsonl` output) or a close event. Strict on the join fields,
// lenient on fingerprint fields (absent = empty), type-checked on both.
import { isIP } from 'node:net';
import type { CloseEvent, FlowEvent } from '../capture/tls-event.js';
import { normalizeIp } from './http-record.js';

export type TlsInput = { kind: 'flow'; event: FlowEvent } | { kind: 'close'; event: CloseEvent };

/**
 * What the join (correlator.ts) reads of a flow event: a whole FlowEvent,
 * or the native path's flow whose TLS columns are already encoded
 * (native-tls-events.ts). Addresses are normalized (normalizeIp).
 */
export type JoinFlow = Pick<FlowEvent, 'src' | 'src_port' | 'dst' | 'dst_port' | 'first_ts_us' | 'last_ts_us' | 'tls_server_name'>;

/** What the join reads of a close event. */
export type JoinClose = Pick<CloseEvent, 'src' | 'src_port' | 'first_ts_us' | 'last_ts_us' | 'reason'>;

/** toTlsInput's close reasons, in the order the native parser numbers them (tls_event_line.h CloseReason). */
export const CLOSE_REASON_LIST = ['fin', 'rst', 'idle', 'evicted'] as const;

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const STRING_FIELDS = [
  'tls_server_name', 'ja4', 'ja4_r', 'ja4_o', 'ja4_ro', 'ja3', 'ja3_r', 'tls_version', 'alpn',
  'ja4s', 'ja4s_r', 'ja3s', 'ja3s_r', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s', 'sensor',
] as const;

const CLOSE_REASONS: ReadonlySet<string> = new Set(CLOSE_REASON_LIST);

/** The event, or undefined when the object is not a TLS event we can use. */
export function toTlsInput(o: Record<string, unknown>): TlsInput | undefined {
  const kind = o.event === undefined || o.event === 'flow' ? 'flow' : o.event === 'close' ? 'close' : undefined;
  if (kind === undefined) return undefined;
  if (typeof o.src !== 'string' || isIP(o.src) === 0 || typeof o.dst !== 'string' || isIP(o.dst) === 0 || !isInt(o.src_port, 0, 65535) || !isInt(o.dst_port, 0, 65535)) return undefined;
  if (o.transport !== 'tcp' && o.transport !== 'udp') return undefined;
  // Records from `ja4 pcap` before live capture had no times: 0 = unknown.
  const first = o.first_ts_us ?? 0;
  const last = o.last_ts_us ?? first;
  if (!isInt(first, 0, Number.MAX_SAFE_INTEGER) || !isInt(last, 0, Number.MAX_SAFE_INTEGER)) return undefined;
  o.src = normalizeIp(o.src);
  o.dst = normalizeIp(o.dst);
  o.first_ts_us = first;
  o.last_ts_us = last;
  if (kind === 'close') {
    if (typeof o.reason !== 'string' || !CLOSE_REASONS.has(o.reason)) return undefined;
    return { kind, event: o as unknown as CloseEvent };
  }
  for (const f of STRING_FIELDS) if (o[f] !== undefined && typeof o[f] !== 'string') return undefined;
  if (o.client_ttl !== undefined && !isInt(o.client_ttl, 0, 255)) return undefined;
  // chains are objects (their x509 list is read leniently by ja4xList): a
  // null or a number in the list would throw there, in the middle of a row
  if (o.tls_certs !== undefined && (!Array.isArray(o.tls_certs) || !o.tls_certs.every((c) => typeof c === 'object' && c !== null))) return undefined;
  return { kind, event: o as unknown as FlowEvent };
}

/** The JA4X of every certificate of the chain(s), in order. */
export function ja4xList(e: Pick<FlowEvent, 'tls_certs'>): string[] {
  const out: string[] = [];
  for (const chain of e.tls_certs ?? []) {
    const certs = (chain as { x509?: unknown } | null)?.x509;
    if (!Array.isArray(certs)) continue;
    for (const c of certs) if (c && typeof (c as { ja4x?: unknown }).ja4x === 'string') out.push((c as { ja4x: string }).ja4x);
  }
  return out;
}
