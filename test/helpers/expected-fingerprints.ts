// Expected JA4 / JA4S / JA4H strings computed from the test's own message
// specs, straight from the FoxIO spec text (sort, join, sha256), never from
// engine output.
import { createHash } from 'node:crypto';
import {
  EXT_ALPN,
  EXT_SERVER_NAME,
  clientHelloExtensions,
  serverHelloExtensions,
  type ClientHelloSpec,
  type ServerHelloSpec,
} from './tls-messages.js';

/** First 12 hex chars of sha256; an empty list hashes to 000000000000. */
export function hash12(s: string): string {
  return s === '' ? '000000000000' : createHash('sha256').update(s).digest('hex').slice(0, 12);
}

const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const count2 = (n: number) => String(Math.min(n, 99)).padStart(2, '0');

const VERSIONS: Record<number, string> = {
  0x0304: '13',
  0x0303: '12',
  0x0302: '11',
  0x0301: '10',
  0x0300: 's3',
};

function alpnChars(alpn: string | undefined): string {
  if (!alpn) return '00';
  const alnum = (c: string) => /^[0-9A-Za-z]$/.test(c);
  const first = alpn[0]!;
  const last = alpn[alpn.length - 1]!;
  if (alnum(first) && alnum(last)) return first + last;
  const hex = Buffer.from(alpn, 'latin1').toString('hex');
  return hex[0]! + hex[hex.length - 1]!;
}

export interface Ja4Forms {
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
}

export function expectedJa4(spec: ClientHelloSpec, transport = 't'): Ja4Forms {
  const exts = clientHelloExtensions(spec).map((e) => e.type).filter((v) => !isGrease(v));
  const ciphers = spec.ciphers.filter((v) => !isGrease(v));
  const sigalgs = (spec.sigalgs ?? []).filter((v) => !isGrease(v));
  const versions = (spec.supportedVersions ?? []).filter((v) => !isGrease(v));
  const version = versions.length ? Math.max(...versions) : (spec.version ?? 0x0303);
  const hasSni = exts.includes(EXT_SERVER_NAME);
  const a =
    transport +
    (VERSIONS[version] ?? '00') +
    (hasSni ? 'd' : 'i') +
    count2(ciphers.length) +
    count2(exts.length) +
    alpnChars(spec.alpn?.[0]);
  const sig = sigalgs.map(hex4).join(',');
  const withSig = (list: number[]) => list.map(hex4).join(',') + (sig ? `_${sig}` : '');
  const cS = [...ciphers].sort((x, y) => x - y).map(hex4).join(',');
  const eS = withSig(exts.filter((e) => e !== EXT_SERVER_NAME && e !== EXT_ALPN).sort((x, y) => x - y));
  const cO = ciphers.map(hex4).join(',');
  const eO = withSig(exts);
  return {
    ja4: `${a}_${hash12(cS)}_${hash12(eS)}`,
    ja4_r: `${a}_${cS}_${eS}`,
    ja4_o: `${a}_${hash12(cO)}_${hash12(eO)}`,
    ja4_ro: `${a}_${cO}_${eO}`,
  };
}

export function expectedJa4s(spec: ServerHelloSpec, transport = 't'): { ja4s: string; ja4s_r: string } {
  const exts = serverHelloExtensions(spec).map((e) => e.type);
  const version = spec.supportedVersion ?? spec.version ?? 0x0303;
  const a = `${transport}${VERSIONS[version] ?? '00'}${count2(exts.length)}${alpnChars(spec.alpn)}_${hex4(spec.cipher)}`;
  const list = exts.map(hex4).join(',');
  return { ja4s: `${a}_${hash12(list)}`, ja4s_r: `${a}_${list}` };
}

export interface HttpRequestSpec {
  method: string;
  target: string;
  version: string;
  /** [name, value] in wire order */
  headers: [string, string][];
  body?: Buffer;
}

export function httpRequestBytes(req: HttpRequestSpec): Buffer {
  const head = `${req.method} ${req.target} ${req.version}\r\n` + req.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), req.body ?? Buffer.alloc(0)]);
}

export interface Ja4hForms {
  ja4h: string;
  ja4h_r: string;
  ja4h_o: string;
  ja4h_ro: string;
}

/**
 * JA4H: method (2 chars, lowercase), version (10/11/20/30), cookie c/n,
 * referer r/n, header count without Cookie and Referer, 4-char language;
 * then hashes of the header names in order, the sorted cookie names and the
 * cookie items sorted by name.
 */
export function expectedJa4h(req: HttpRequestSpec): Ja4hForms {
  const names = req.headers.map(([n]) => n).filter((n) => !/^(cookie|referer)$/i.test(n));
  const cookieHeader = req.headers.find(([n]) => /^cookie$/i.test(n));
  const hasReferer = req.headers.some(([n]) => /^referer$/i.test(n));
  const lang = req.headers.find(([n]) => /^accept-language$/i.test(n))?.[1];
  const langCode = lang === undefined ? '0000' : lang.trimStart().split(',')[0]!.replace(/-/g, '').toLowerCase().slice(0, 4).padEnd(4, '0');
  const versionCode = { 'HTTP/1.0': '10', 'HTTP/1.1': '11', 'HTTP/2': '20', 'HTTP/2.0': '20', 'HTTP/3': '30' }[req.version] ?? '00';
  const a =
    req.method.slice(0, 2).toLowerCase() +
    versionCode +
    (cookieHeader ? 'c' : 'n') +
    (hasReferer ? 'r' : 'n') +
    count2(names.length) +
    langCode;
  const items = cookieHeader ? cookieHeader[1].split('; ').filter((s) => s !== '') : [];
  const nameOf = (s: string) => s.split('=')[0]!;
  const sorted = [...items].sort((x, y) => (nameOf(x) === nameOf(y) ? (x < y ? -1 : x > y ? 1 : 0) : nameOf(x) < nameOf(y) ? -1 : 1));
  const headers = names.join(',');
  const keysO = items.map(nameOf).join(',');
  const itemsO = items.join(',');
  const keysS = sorted.map(nameOf).join(',');
  const itemsS = sorted.join(',');
  return {
    ja4h: `${a}_${hash12(headers)}_${hash12(keysS)}_${hash12(itemsS)}`,
    ja4h_r: `${a}_${headers}_${keysS}_${itemsS}`,
    ja4h_o: `${a}_${hash12(headers)}_${hash12(keysO)}_${hash12(itemsO)}`,
    ja4h_ro: `${a}_${headers}_${keysO}_${itemsO}`,
  };
}

/** JA4T/JA4TS: window, option kinds in wire order, MSS, window scale ("00" when absent). */
export function expectedJa4t(window: number, options: Buffer): string {
  const kinds: number[] = [];
  let mss = '00';
  let ws = '00';
  for (let i = 0; i < options.length; ) {
    const kind = options[i]!;
    kinds.push(kind);
    if (kind === 0 || kind === 1) {
      i++;
      continue;
    }
    const len = options[i + 1]!;
    if (kind === 2) mss = String(options.readUInt16BE(i + 2));
    if (kind === 3) ws = String(options[i + 2]);
    i += len;
  }
  return `${window}_${kinds.length ? kinds.join('-') : '00'}_${mss}_${ws}`;
}

/** JA3 "SSLVersion,Ciphers,Extensions,Groups,PointFormats" (decimal, GREASE dropped) and its MD5. */
export function expectedJa3(spec: ClientHelloSpec): { ja3: string; ja3_r: string } {
  const exts = clientHelloExtensions(spec);
  const dec = (list: number[]) => list.filter((v) => !isGrease(v)).join('-');
  const groupsData = exts.find((e) => e.type === 0x000a)?.data;
  const groups: number[] = [];
  if (groupsData) for (let i = 2; i + 1 < groupsData.length; i += 2) groups.push(groupsData.readUInt16BE(i));
  const formatsData = exts.find((e) => e.type === 0x000b)?.data;
  const formats = formatsData ? [...formatsData.subarray(1)] : [];
  const ja3_r = [spec.version ?? 0x0303, dec(spec.ciphers), dec(exts.map((e) => e.type)), dec(groups), dec(formats)].join(',');
  return { ja3: createHash('md5').update(ja3_r).digest('hex'), ja3_r };
}

/** JA3S "SSLVersion,Cipher,Extensions" and its MD5. */
export function expectedJa3s(spec: ServerHelloSpec): { ja3s: string; ja3s_r: string } {
  const exts = serverHelloExtensions(spec).map((e) => e.type);
  const ja3s_r = `${spec.version ?? 0x0303},${spec.cipher},${exts.join('-')}`;
  return { ja3s: createHash('md5').update(ja3s_r).digest('hex'), ja3s_r };
}
