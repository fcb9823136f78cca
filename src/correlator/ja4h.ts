// JA4H (FoxIO License 1.1) from a mod_reqin_log record, following the
// native engine's implementation (native/core/ja4h.cc) field by field so
// that the same request gives the same value from both sides, except where
// the log lacks the input:
//
//   a  method(2) version(2) cookie(c|n) referer(r|n) header-count(2) language(4)
//   b  sha256[:12] of the header names, wire order and case, Cookie and Referer left out
//   c  sha256[:12] of the cookie names, sorted
//   d  sha256[:12] of the cookie "name=value" items, sorted
//
// mod_reqin_log never logs cookie values (docs/mod_reqin_log.md), so section
// d is computed over the names alone, as FoxIO's algorithm treats a cookie
// without "=" (item = name): d equals c whenever there are cookies, and both
// are 000000000000 when there are none (then the whole JA4H equals the
// engine's). a, b and c always equal the engine's for the same request.
// The language comes from the logged Accept-Language value (in the default
// ReqinLogHeaders set); when the header was sent but its value not logged,
// it is "0000" (the engine would read it).
import { createHash } from 'node:crypto';

export interface Ja4hInput {
  method: string;
  proto: string;
  header_order: readonly string[];
  headers: Readonly<Record<string, string>>;
  cookies: readonly string[];
}

export interface Ja4hForms {
  ja4h: string;
  ja4h_r: string;
  ja4h_o: string;
  ja4h_ro: string;
}

// "An empty list gives 000000000000" (the engine's ja4_hash12).
export function hash12(s: string): string {
  return s === '' ? '000000000000' : createHash('sha256').update(s).digest('hex').slice(0, 12);
}

// "HTTP version: 10, 11, 20, 30."
function versionCode(v: string): string {
  switch (v) {
    case 'HTTP/1.0': return '10';
    case 'HTTP/1.1': return '11';
    case 'HTTP/2': case 'HTTP/2.0': return '20';
    case 'HTTP/3': case 'HTTP/3.0': return '30';
    default: return '00';
  }
}

// "The first 4 characters of the Accept-Language header's primary language,
// lowercase, dashes removed, padded with 0s."
function languageCode(value: string): string {
  let out = '';
  let i = 0;
  while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  for (; i < value.length && out.length < 4; i++) {
    const c = value[i]!;
    if (c === ',') break;
    if (c === '-') continue;
    out += c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
  }
  return out.padEnd(4, '0');
}

function methodCode(m: string): string {
  let out = '';
  for (let i = 0; i < 2; i++) {
    const c = m[i];
    out += c === undefined ? '0' : c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
  }
  return out;
}

/** Prefix a and the header list of section b: shared by all four forms. */
function sectionAB(r: Ja4hInput): { a: string; names: string } {
  let cookie = false;
  let referer = false;
  let language = false;
  const names: string[] = [];
  for (const name of r.header_order) {
    const lower = name.toLowerCase();
    // "Cookie and Referer headers are not counted and not in the header list."
    if (lower === 'cookie') cookie = true;
    else if (lower === 'referer') referer = true;
    else {
      if (lower === 'accept-language') language = true;
      names.push(name);
    }
  }
  // Cookie names without a Cookie in header_order: the list was shortened to fit the record.
  if (r.cookies.length > 0) cookie = true;
  const n = Math.min(names.length, 99);
  const lang = language && r.headers['accept-language'] !== undefined ? languageCode(r.headers['accept-language']) : '0000';
  const a = `${methodCode(r.method)}${versionCode(r.proto)}${cookie ? 'c' : 'n'}${referer ? 'r' : 'n'}${n < 10 ? '0' : ''}${n}${lang}`;
  return { a, names: names.join(',') };
}

/** The JA4H the correlator stores (cookies sorted, hashed). */
export function ja4hOf(r: Ja4hInput): string {
  const { a, names } = sectionAB(r);
  const c = hash12([...r.cookies].sort().join(','));
  return `${a}_${hash12(names)}_${c}_${c}`;
}

// Most requests repeat a few header layouts (one per client software), so
// the JA4H of a layout is computed once: the key holds every input of the
// value. Bounded: cleared when full.
const cache = new Map<string, string>();
const CACHE_MAX = 50_000;

/** ja4hOf, memoised on its inputs. */
export function ja4hCached(r: Ja4hInput): string {
  // every input, unambiguously: a join with separators let ["a\u0001b"] and
  // ["a", "b"], [] and [""], or no Accept-Language and "\u0002" share a key
  const key = JSON.stringify([r.method, r.proto, r.header_order, r.headers['accept-language'] ?? null, r.cookies]);
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    v = ja4hOf(r);
    cache.set(key, v);
  }
  return v;
}

/** The four forms (sorted/original cookie order, hashed/raw), for tests and tools. */
export function ja4hForms(r: Ja4hInput): Ja4hForms {
  const { a, names } = sectionAB(r);
  const sorted = [...r.cookies].sort().join(',');
  const original = r.cookies.join(',');
  const hb = hash12(names);
  return {
    ja4h: `${a}_${hb}_${hash12(sorted)}_${hash12(sorted)}`,
    ja4h_r: `${a}_${names}_${sorted}_${sorted}`,
    ja4h_o: `${a}_${hb}_${hash12(original)}_${hash12(original)}`,
    ja4h_ro: `${a}_${names}_${original}_${original}`,
  };
}

interface Layout {
  method: string;
  proto: string;
  header_order: readonly string[];
  language: string | undefined;
  cookies: readonly string[];
  ja4h: string;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * ja4hCached with a memo per Apache connection: the requests of a
 * keep-alive connection come from one client and nearly always repeat its
 * layout, and comparing the inputs field by field costs less than building
 * the layout key (a join of the header names) for the shared memo. Bounded:
 * cleared past maxConnections (Apache connection ids never repeat).
 */
export class ConnectionJa4h {
  private readonly last = new Map<string, Layout>();

  constructor(private readonly maxConnections = 50_000) {}

  of(r: Ja4hInput & { conn: string }): string {
    const language = r.headers['accept-language'];
    const prev = this.last.get(r.conn);
    if (
      prev !== undefined && prev.method === r.method && prev.proto === r.proto && prev.language === language &&
      sameList(prev.header_order, r.header_order) && sameList(prev.cookies, r.cookies)
    ) {
      return prev.ja4h;
    }
    const ja4h = ja4hCached(r);
    if (prev === undefined && this.last.size >= this.maxConnections) this.last.clear();
    this.last.set(r.conn, { method: r.method, proto: r.proto, header_order: r.header_order, language, cookies: r.cookies, ja4h });
    return ja4h;
  }
}
