// Serializes TLS ClientHello / ServerHello messages (RFC 8446 4.1.2, 4.1.3)
// and wraps handshake bytes in TLS records, so tests can craft exact hellos
// and know every field the fingerprints are computed from.

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_EC_POINT_FORMATS = 0x000b;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_KEY_SHARE = 0x0033;
export const EXT_COOKIE = 0x002c;

/** RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
export const HRR_RANDOM = Buffer.from('CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C', 'hex');

export interface Extension {
  type: number;
  /** extension_data; left out for server_name/ALPN/signature_algorithms/supported_versions to build it from the spec fields */
  data?: Buffer;
}

export interface ClientHelloSpec {
  /** legacy_version (default 0x0303) */
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  ciphers: number[];
  compression?: number[];
  /**
   * Extensions in wire order. An entry for server_name, ALPN,
   * signature_algorithms or supported_versions without data is filled from
   * sni / alpn / sigalgs / supportedVersions; those fields without an entry
   * are appended at the end, in that order.
   */
  extensions?: Extension[];
  sni?: string;
  alpn?: string[];
  sigalgs?: number[];
  supportedVersions?: number[];
}

export interface ServerHelloSpec {
  /** legacy_version (default 0x0303) */
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  cipher: number;
  /** extensions in wire order; supported_versions / ALPN entries without data are filled */
  extensions?: Extension[];
  supportedVersion?: number;
  alpn?: string;
}

const u8 = (n: number) => Buffer.from([n & 0xff]);
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
const vec8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const u16list = (values: number[]) => Buffer.concat(values.map(u16));

function sniData(name: string): Buffer {
  // ServerNameList { NameType host_name(0); HostName<1..2^16-1> }
  return vec16(Buffer.concat([u8(0), vec16(Buffer.from(name, 'latin1'))]));
}

function alpnData(names: string[]): Buffer {
  return vec16(Buffer.concat(names.map((n) => vec8(Buffer.from(n, 'latin1')))));
}

/** The extension list of a ClientHello, in wire order, with every data filled. */
export function clientHelloExtensions(spec: ClientHelloSpec): Required<Extension>[] {
  const fill: Record<number, (() => Buffer) | undefined> = {
    [EXT_SERVER_NAME]: spec.sni !== undefined ? () => sniData(spec.sni!) : undefined,
    [EXT_ALPN]: spec.alpn !== undefined ? () => alpnData(spec.alpn!) : undefined,
    [EXT_SIGNATURE_ALGORITHMS]: spec.sigalgs !== undefined ? () => vec16(u16list(spec.sigalgs!)) : undefined,
    [EXT_SUPPORTED_VERSIONS]:
      spec.supportedVersions !== undefined ? () => vec8(u16list(spec.supportedVersions!)) : undefined,
  };
  const out: Required<Extension>[] = [];
  const seen = new Set<number>();
  for (const e of spec.extensions ?? []) {
    seen.add(e.type);
    if (e.data) out.push({ type: e.type, data: e.data });
    else {
      const f = fill[e.type];
      out.push({ type: e.type, data: f ? f() : Buffer.alloc(0) });
    }
  }
  for (const type of [EXT_SERVER_NAME, EXT_ALPN, EXT_SIGNATURE_ALGORITHMS, EXT_SUPPORTED_VERSIONS]) {
    const f = fill[type];
    if (f && !seen.has(type)) out.push({ type, data: f() });
  }
  return out;
}

function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

/** A ClientHello handshake message (type 1, 3-byte length, body). */
export function clientHello(spec: ClientHelloSpec): Buffer {
  const exts = clientHelloExtensions(spec);
  const body = Buffer.concat([
    u16(spec.version ?? 0x0303),
    spec.random ?? Buffer.alloc(32, 0x11),
    vec8(spec.sessionId ?? Buffer.alloc(32, 0x22)),
    vec16(u16list(spec.ciphers)),
    vec8(Buffer.from(spec.compression ?? [0])),
    vec16(Buffer.concat(exts.map((e) => Buffer.concat([u16(e.type), vec16(e.data)])))),
  ]);
  return handshake(1, body);
}

/** The extension list of a ServerHello, in wire order, with every data filled. */
export function serverHelloExtensions(spec: ServerHelloSpec): Required<Extension>[] {
  const out: Required<Extension>[] = [];
  const seen = new Set<number>();
  const filled = (type: number): Buffer => {
    if (type === EXT_SUPPORTED_VERSIONS && spec.supportedVersion !== undefined) return u16(spec.supportedVersion);
    if (type === EXT_ALPN && spec.alpn !== undefined) return alpnData([spec.alpn]);
    return Buffer.alloc(0);
  };
  for (const e of spec.extensions ?? []) {
    seen.add(e.type);
    out.push({ type: e.type, data: e.data ?? filled(e.type) });
  }
  if (spec.supportedVersion !== undefined && !seen.has(EXT_SUPPORTED_VERSIONS))
    out.push({ type: EXT_SUPPORTED_VERSIONS, data: filled(EXT_SUPPORTED_VERSIONS) });
  if (spec.alpn !== undefined && !seen.has(EXT_ALPN)) out.push({ type: EXT_ALPN, data: filled(EXT_ALPN) });
  return out;
}

/** A ServerHello handshake message (type 2). */
export function serverHello(spec: ServerHelloSpec): Buffer {
  const exts = serverHelloExtensions(spec);
  const body = Buffer.concat([
    u16(spec.version ?? 0x0303),
    spec.random ?? Buffer.alloc(32, 0x33),
    vec8(spec.sessionId ?? Buffer.alloc(32, 0x22)),
    u16(spec.cipher),
    u8(0),
    vec16(Buffer.concat(exts.map((e) => Buffer.concat([u16(e.type), vec16(e.data)])))),
  ]);
  return handshake(2, body);
}

/**
 * Wraps handshake bytes in TLS records (content type 22). splitAt lists
 * offsets into `payload` where a new record starts, so one message can be
 * fragmented across several records (RFC 8446 5.1).
 */
export function tlsRecords(payload: Buffer, splitAt: number[] = [], recordVersion = 0x0301, contentType = 22): Buffer {
  const cuts = [0, ...splitAt, payload.length];
  const parts: Buffer[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const frag = payload.subarray(cuts[i], cuts[i + 1]);
    parts.push(Buffer.concat([u8(contentType), u16(recordVersion), u16(frag.length), frag]));
  }
  return Buffer.concat(parts);
}

/** A TLS 1.3-style ChangeCipherSpec record (content type 20). */
export const CHANGE_CIPHER_SPEC = Buffer.from([20, 3, 3, 0, 1, 1]);
