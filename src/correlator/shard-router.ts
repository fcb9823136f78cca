// Routing lines to correlator shards by connection key (client IP and
// port) without parsing them: the main thread only scans for the two
// fields and hashes them, so every event of a connection reaches the worker
// holding its state. Used only with more than one shard.

// the field names with their colon; the value may follow after spaces
// (a sensor writing `"src": "1.2.3.4"`, as Python's json.dumps does, is
// valid JSON the correlator parses: keyed apart from its requests, it
// would reach another shard than theirs)
const HTTP_IP = Buffer.from('"client_ip":');
const HTTP_PORT = Buffer.from('"client_port":');
const TLS_IP = Buffer.from('"src":');
const TLS_PORT = Buffer.from('"src_port":');
const MAPPED = '::ffff:';

function keyHash(line: Buffer, ipField: Buffer, portField: Buffer): number {
  let i = line.indexOf(ipField);
  if (i < 0) return 0;
  i += ipField.length;
  while (i < line.length && (line[i] === 32 || line[i] === 9)) i++;
  if (line[i] !== 34) return 0; // not a string
  i++;
  let end = line.indexOf(34, i); // closing quote
  if (end < 0) return 0;
  // one pass over the address: where it ends ("fe80::1%eth0" is the client
  // "fe80::1": normalizeIp drops the zone) and whether it has a dot
  let dotted = false;
  for (let k = i; k < end; k++) {
    if (line[k] === 37) {
      end = k;
      break;
    }
    if (line[k] === 46) dotted = true;
  }
  // "::ffff:1.2.3.4" (any case) and "1.2.3.4" are the same client (http-record.ts normalizeIp)
  if (dotted && end - i > MAPPED.length && line.toString('latin1', i, i + MAPPED.length).toLowerCase() === MAPPED) i += MAPPED.length;
  let h = 0x811c9dc5;
  for (let k = i; k < end; k++) h = Math.imul(h ^ (line[k]! | 0x20), 0x01000193);
  let p = line.indexOf(portField);
  if (p >= 0) {
    p += portField.length;
    while (p < line.length && (line[p] === 32 || line[p] === 9)) p++;
    for (; p < line.length && line[p]! >= 48 && line[p]! <= 57; p++) h = Math.imul(h ^ line[p]!, 0x01000193);
  }
  return h >>> 0;
}

/** Splits a batch of lines into one batch per shard. */
export function splitByShard(buf: Buffer, shards: number, kind: 'http' | 'tls'): Buffer[] {
  const ipField = kind === 'http' ? HTTP_IP : TLS_IP;
  const portField = kind === 'http' ? HTTP_PORT : TLS_PORT;
  const parts: Buffer[][] = Array.from({ length: shards }, () => []);
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length - 1;
    const line = buf.subarray(start, nl + 1);
    parts[keyHash(line, ipField, portField) % shards]!.push(line);
    start = nl + 1;
  }
  return parts.map((p) => Buffer.concat(p));
}
