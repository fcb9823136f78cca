// The bytes of a simulated TLS handshake: a captured ClientHello with its
// server_name set to the virtual host (or removed), and what an Apache +
// OpenSSL 3 server answers to it (ServerHello, and for TLS 1.2 the
// certificate flight). The fingerprints are never computed here: the catalog
// runs the real engine over these bytes (catalog.ts).

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_EC_POINT_FORMATS = 0x000b;
export const EXT_ALPN = 0x0010;
export const EXT_EXTENDED_MASTER_SECRET = 0x0017;
export const EXT_SESSION_TICKET = 0x0023;
export const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_KEY_SHARE = 0x0033;
export const EXT_RENEGOTIATION_INFO = 0xff01;

export interface ParsedClientHello {
  legacyVersion: number;
  sessionId: Buffer;
  ciphers: number[];
  extensions: { type: number; data: Buffer }[];
  alpn: string[];
  supportedVersions: number[];
  keyShareGroups: number[];
}

/** RFC 8701: GREASE values are 0x?a?a with both bytes equal. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** Parses a ClientHello handshake message (type 1, 3-byte length, body; RFC 8446 4.1.2). */
export function parseClientHello(msg: Buffer): ParsedClientHello {
  if (msg[0] !== 1) throw new Error('not a ClientHello');
  let p = 4;
  const legacyVersion = msg.readUInt16BE(p);
  p += 2 + 32;
  const sidLen = msg[p]!;
  const sessionId = msg.subarray(p + 1, p + 1 + sidLen);
  p += 1 + sidLen;
  const cipherLen = msg.readUInt16BE(p);
  const ciphers: number[] = [];
  for (let i = 0; i < cipherLen; i += 2) ciphers.push(msg.readUInt16BE(p + 2 + i));
  p += 2 + cipherLen;
  p += 1 + msg[p]!; // compression methods
  const extensions: { type: number; data: Buffer }[] = [];
  const end = p + 2 + msg.readUInt16BE(p);
  p += 2;
  while (p + 4 <= end) {
    const type = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    extensions.push({ type, data: msg.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  const ext = (t: number) => extensions.find((e) => e.type === t)?.data;
  const alpn: string[] = [];
  const a = ext(EXT_ALPN);
  if (a) for (let i = 2; i < a.length; i += 1 + a[i]!) alpn.push(a.subarray(i + 1, i + 1 + a[i]!).toString('latin1'));
  const supportedVersions: number[] = [];
  const sv = ext(EXT_SUPPORTED_VERSIONS);
  if (sv) for (let i = 1; i + 1 < sv.length; i += 2) supportedVersions.push(sv.readUInt16BE(i));
  const keyShareGroups: number[] = [];
  const ks = ext(EXT_KEY_SHARE);
  if (ks) for (let i = 2; i + 4 <= ks.length; i += 4 + ks.readUInt16BE(i + 2)) keyShareGroups.push(ks.readUInt16BE(i));
  return { legacyVersion, sessionId, ciphers, extensions, alpn, supportedVersions, keyShareGroups };
}

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/**
 * The same ClientHello with its server_name extension carrying `name`, or
 * without the extension when name is null (a client connecting to an IP
 * address sends none: RFC 6066 3, "Literal IPv4 and IPv6 addresses are not
 * permitted in HostName"). Every other byte is kept, in place.
 */
export function withServerName(msg: Buffer, name: string | null): Buffer {
  const out: Buffer[] = [];
  let p = 4 + 2 + 32;
  p += 1 + msg[p]!;
  p += 2 + msg.readUInt16BE(p);
  p += 1 + msg[p]!;
  const head = msg.subarray(4, p);
  const end = p + 2 + msg.readUInt16BE(p);
  p += 2;
  while (p + 4 <= end) {
    const type = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    if (type !== EXT_SERVER_NAME) out.push(msg.subarray(p, p + 4 + len));
    else if (name !== null) {
      // ServerNameList { NameType host_name(0); HostName<1..2^16-1> }
      const host = Buffer.from(name, 'latin1');
      const list = Buffer.concat([Buffer.from([0]), u16(host.length), host]);
      out.push(Buffer.concat([u16(EXT_SERVER_NAME), u16(list.length + 2), u16(list.length), list]));
    }
    p += 4 + len;
  }
  const exts = Buffer.concat(out);
  const body = Buffer.concat([head, u16(exts.length), exts]);
  return Buffer.concat([Buffer.from([1]), u24(body.length), body]);
}

/** Wraps handshake messages in TLS records of at most 2^14 bytes (RFC 8446 5.1). */
export function handshakeRecords(messages: Buffer, recordVersion = 0x0303): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < messages.length; off += 16384) {
    const frag = messages.subarray(off, off + 16384);
    parts.push(Buffer.from([22]), u16(recordVersion), u16(frag.length), frag);
  }
  return Buffer.concat(parts);
}

function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

// What the simulated Apache (mod_ssl on OpenSSL 3, an RSA certificate,
// SSLHonorCipherOrder off: the client's order decides) accepts.
const SERVER_TLS13_CIPHERS = new Set([0x1301, 0x1302, 0x1303]);
const SERVER_TLS12_CIPHERS = new Set([0xc02f, 0xc030, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]);
/** x25519, secp256r1, secp384r1 and their key_exchange lengths (RFC 8446 4.2.8.2). */
const SERVER_GROUPS = new Map([
  [0x001d, 32],
  [0x0017, 65],
  [0x0018, 97],
]);

/** OpenSSL's names, as mod_ssl's SSL_CIPHER reports them. */
export const CIPHER_NAMES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02f: 'ECDHE-RSA-AES128-GCM-SHA256',
  0xc030: 'ECDHE-RSA-AES256-GCM-SHA384',
  0xcca8: 'ECDHE-RSA-CHACHA20-POLY1305',
  0xc013: 'ECDHE-RSA-AES128-SHA',
  0xc014: 'ECDHE-RSA-AES256-SHA',
  0x009c: 'AES128-GCM-SHA256',
  0x009d: 'AES256-GCM-SHA384',
  0x002f: 'AES128-SHA',
  0x0035: 'AES256-SHA',
};

/** The server's side of the negotiation: version, cipher, ALPN. */
export interface Negotiated {
  tls13: boolean;
  cipher: number;
  /** "h2", "http/1.1" or "" (no ALPN) */
  alpn: string;
  group: number;
}

export function negotiate(ch: ParsedClientHello): Negotiated {
  const tls13 = ch.supportedVersions.includes(0x0304);
  const ciphers = tls13 ? SERVER_TLS13_CIPHERS : SERVER_TLS12_CIPHERS;
  const cipher = ch.ciphers.find((c) => ciphers.has(c));
  if (cipher === undefined) throw new Error('no cipher suite in common with the simulated server');
  // Apache's `Protocols h2 http/1.1`: h2 when the client offers it.
  const alpn = ch.alpn.includes('h2') ? 'h2' : ch.alpn.includes('http/1.1') ? 'http/1.1' : '';
  const group = ch.keyShareGroups.find((g) => SERVER_GROUPS.has(g)) ?? 0x001d;
  return { tls13, cipher, alpn, group };
}

/**
 * The server's first flight as TCP payload (TLS records). TLS 1.3: the
 * ServerHello (supported_versions then key_share, OpenSSL's order), the
 * compatibility ChangeCipherSpec and the encrypted rest as one application
 * data record. TLS 1.2: ServerHello (renegotiation_info, ec_point_formats,
 * session_ticket, ALPN, extended_master_secret, each only when the client
 * sent it: RFC 5246 7.4.1.4 forbids unsolicited extensions), Certificate,
 * ServerKeyExchange, ServerHelloDone.
 */
export function serverFlight(
  ch: ParsedClientHello,
  n: Negotiated,
  certificate: Buffer,
  random: Buffer,
): { bytes: Buffer; reportOffset: number } {
  const has = (t: number) => ch.extensions.some((e) => e.type === t);
  const exts: Buffer[] = [];
  if (n.tls13) {
    exts.push(extension(EXT_SUPPORTED_VERSIONS, u16(0x0304)));
    const len = SERVER_GROUPS.get(n.group) ?? 32;
    exts.push(extension(EXT_KEY_SHARE, Buffer.concat([u16(n.group), u16(len), Buffer.alloc(len, 0x5a)])));
  } else {
    if (has(EXT_RENEGOTIATION_INFO) || ch.ciphers.includes(0x00ff)) exts.push(extension(EXT_RENEGOTIATION_INFO, Buffer.from([0])));
    if (has(EXT_EC_POINT_FORMATS)) exts.push(extension(EXT_EC_POINT_FORMATS, Buffer.from([1, 0])));
    if (has(EXT_SESSION_TICKET)) exts.push(extension(EXT_SESSION_TICKET, Buffer.alloc(0)));
    if (n.alpn) {
      const proto = Buffer.from(n.alpn, 'latin1');
      exts.push(extension(EXT_ALPN, Buffer.concat([u16(proto.length + 1), Buffer.from([proto.length]), proto])));
    }
    if (has(EXT_EXTENDED_MASTER_SECRET)) exts.push(extension(EXT_EXTENDED_MASTER_SECRET, Buffer.alloc(0)));
  }
  const extBytes = Buffer.concat(exts);
  const sessionId = n.tls13 ? ch.sessionId : random.subarray(0, 32);
  const hello = handshake(
    2,
    Buffer.concat([u16(0x0303), random, Buffer.from([sessionId.length]), sessionId, u16(n.cipher), Buffer.from([0]), u16(extBytes.length), extBytes]),
  );
  if (n.tls13) {
    const ccs = Buffer.from([20, 3, 3, 0, 1, 1]);
    // EncryptedExtensions, Certificate, CertificateVerify, Finished: opaque here.
    const encrypted = Buffer.concat([Buffer.from([23, 3, 3]), u16(1200 + 17), Buffer.alloc(1200 + 17, 0xe7)]);
    // The engine parses a record once it is complete: the ServerHello's
    // record is the first one.
    return { bytes: Buffer.concat([handshakeRecords(hello), ccs, encrypted]), reportOffset: 5 + hello.length };
  }
  // Certificate: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1> (RFC 5246 7.4.2).
  const certMsg = handshake(11, Buffer.concat([u24(certificate.length + 3), u24(certificate.length), certificate]));
  // ServerKeyExchange for ECDHE: ECParameters (named_curve), the public key,
  // then a signature (rsa_pss_rsae_sha256, 2048-bit): RFC 8422 5.4.
  const ske = handshake(
    12,
    Buffer.concat([Buffer.from([3]), u16(n.group), Buffer.from([32]), Buffer.alloc(32, 0x4b), u16(0x0804), u16(256), Buffer.alloc(256, 0x51)]),
  );
  const done = handshake(14, Buffer.alloc(0));
  const bytes = handshakeRecords(Buffer.concat([hello, certMsg, ske, done]));
  return { bytes, reportOffset: bytes.length };
}

/** An opaque application data record of `len` bytes of ciphertext (pcap only). */
export function applicationData(len: number): Buffer {
  return Buffer.concat([Buffer.from([23, 3, 3]), u16(len), Buffer.alloc(len, 0xad)]);
}
