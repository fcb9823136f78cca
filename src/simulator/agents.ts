// HTTP clients as servers see them: the User-Agent and the request headers
// each one sends, in its wire order, per kind of request. Header sets follow
// what these clients send (browser devtools, the libraries' defaults): a
// browser's navigation differs from its image fetch; a library sends three
// or four headers; a spoofer copies a browser's values over its library's
// order.
import type { ResourceKind } from './site.js';

export type Header = readonly [name: string, value: string];

export interface HeaderContext {
  host: string;
  kind: ResourceKind;
  method: string;
  referer: string | undefined;
  /** the Cookie header's value, '' for none */
  cookie: string;
  /** Sec-Fetch-Site of a browser request */
  site: 'none' | 'same-origin' | 'same-site' | 'cross-site';
  bodyBytes: number;
  contentType: string | undefined;
}

export interface Agent {
  /** for the summary and the labels' bot_name */
  name: string;
  userAgent: string;
  /** headers in HTTP/1.1 wire order, names as the client writes them (Host included) */
  headers(ctx: HeaderContext): Header[];
}

const ACCEPT_NAV_CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const ACCEPT_IMG_CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const ACCEPT_NAV_FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const ACCEPT_IMG_FIREFOX = 'image/avif,image/webp,*/*';
const ACCEPT_NAV_SAFARI = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const ACCEPT_JSON = 'application/json, text/plain, */*';

function destOf(kind: ResourceKind): { dest: string; mode: string; accept: 'nav' | 'img' | 'css' | 'any' | 'json' } {
  switch (kind) {
    case 'img':
    case 'icon':
      return { dest: 'image', mode: 'no-cors', accept: 'img' };
    case 'css':
      return { dest: 'style', mode: 'no-cors', accept: 'css' };
    case 'js':
      return { dest: 'script', mode: 'no-cors', accept: 'any' };
    case 'font':
      return { dest: 'font', mode: 'cors', accept: 'any' };
    case 'xhr':
    case 'api':
      return { dest: 'empty', mode: 'cors', accept: 'json' };
    default:
      return { dest: 'document', mode: 'navigate', accept: 'nav' };
  }
}

export interface ChromeSpec {
  name: string;
  userAgent: string;
  /** Sec-CH-UA brand list, e.g. `"Chromium";v="116", "Not)A;Brand";v="24", "Google Chrome";v="116"` */
  brands: string;
  platform: string;
  mobile: boolean;
  acceptLanguage: string | undefined;
}

/** Chromium-based browsers (Chrome, Edge, headless Chrome): Chrome 116's header order. */
export function chromeAgent(s: ChromeSpec): Agent {
  const mobile = s.mobile ? '?1' : '?0';
  const platform = `"${s.platform}"`;
  return {
    name: s.name,
    userAgent: s.userAgent,
    headers(c) {
      const h: Header[] = [['Host', c.host], ['Connection', 'keep-alive']];
      const d = destOf(c.kind);
      if (d.accept === 'nav') {
        if (c.method === 'POST') h.push(['Content-Length', String(c.bodyBytes)], ['Cache-Control', 'max-age=0']);
        h.push(['sec-ch-ua', s.brands], ['sec-ch-ua-mobile', mobile], ['sec-ch-ua-platform', platform]);
        if (c.method === 'POST') h.push(['Origin', `https://${c.host}`], ['Content-Type', c.contentType ?? 'application/x-www-form-urlencoded']);
        h.push(['Upgrade-Insecure-Requests', '1'], ['User-Agent', s.userAgent], ['Accept', ACCEPT_NAV_CHROME]);
        h.push(['Sec-Fetch-Site', c.site], ['Sec-Fetch-Mode', 'navigate']);
        if (c.site === 'none' || c.method === 'POST' || c.referer) h.push(['Sec-Fetch-User', '?1']);
        h.push(['Sec-Fetch-Dest', 'document']);
      } else {
        h.push(['sec-ch-ua-platform', platform], ['User-Agent', s.userAgent], ['sec-ch-ua', s.brands], ['sec-ch-ua-mobile', mobile]);
        if (d.mode === 'cors' && c.kind === 'font') h.push(['Origin', `https://${c.host.replace(/^static\./, 'www.')}`]);
        h.push(['Accept', d.accept === 'img' ? ACCEPT_IMG_CHROME : d.accept === 'css' ? 'text/css,*/*;q=0.1' : d.accept === 'json' ? ACCEPT_JSON : '*/*']);
        h.push(['Sec-Fetch-Site', c.site], ['Sec-Fetch-Mode', d.mode], ['Sec-Fetch-Dest', d.dest]);
      }
      if (c.referer) h.push(['Referer', c.referer]);
      h.push(['Accept-Encoding', 'gzip, deflate, br']);
      if (s.acceptLanguage) h.push(['Accept-Language', s.acceptLanguage]);
      if (c.cookie) h.push(['Cookie', c.cookie]);
      return h;
    },
  };
}

/** Firefox 115's order: Accept-Language and Accept-Encoding early, Sec-Fetch-* last. */
export function firefoxAgent(userAgent: string, acceptLanguage: string): Agent {
  return {
    name: 'Firefox',
    userAgent,
    headers(c) {
      const d = destOf(c.kind);
      const accept = d.accept === 'nav' ? ACCEPT_NAV_FIREFOX : d.accept === 'img' ? ACCEPT_IMG_FIREFOX : d.accept === 'css' ? 'text/css,*/*;q=0.1' : d.accept === 'json' ? ACCEPT_JSON : '*/*';
      const h: Header[] = [['Host', c.host], ['User-Agent', userAgent], ['Accept', accept], ['Accept-Language', acceptLanguage], ['Accept-Encoding', 'gzip, deflate, br']];
      if (c.method === 'POST') h.push(['Content-Type', c.contentType ?? 'application/x-www-form-urlencoded'], ['Content-Length', String(c.bodyBytes)], ['Origin', `https://${c.host}`]);
      if (c.referer) h.push(['Referer', c.referer]);
      h.push(['Connection', 'keep-alive']);
      if (c.cookie) h.push(['Cookie', c.cookie]);
      if (d.accept === 'nav') h.push(['Upgrade-Insecure-Requests', '1']);
      h.push(['Sec-Fetch-Dest', d.dest], ['Sec-Fetch-Mode', d.mode], ['Sec-Fetch-Site', c.site]);
      if (d.accept === 'nav' && (c.site === 'none' || c.referer)) h.push(['Sec-Fetch-User', '?1']);
      h.push(['TE', 'trailers']);
      return h;
    },
  };
}

/** Safari on macOS 10.14 / iOS 13 (the TLS 1.2 SecureTransport era: no Sec-Fetch-*). */
export function safariAgent(userAgent: string, acceptLanguage: string): Agent {
  return {
    name: 'Safari',
    userAgent,
    headers(c) {
      const d = destOf(c.kind);
      const accept = d.accept === 'nav' ? ACCEPT_NAV_SAFARI : d.accept === 'img' ? 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5' : d.accept === 'css' ? 'text/css,*/*;q=0.1' : d.accept === 'json' ? ACCEPT_JSON : '*/*';
      const h: Header[] = [['Host', c.host]];
      if (c.method === 'POST') h.push(['Content-Type', c.contentType ?? 'application/x-www-form-urlencoded'], ['Origin', `https://${c.host}`]);
      h.push(['Accept', accept]);
      if (c.cookie) h.push(['Cookie', c.cookie]);
      h.push(['User-Agent', userAgent], ['Accept-Language', acceptLanguage]);
      if (c.referer) h.push(['Referer', c.referer]);
      if (c.method === 'POST') h.push(['Content-Length', String(c.bodyBytes)]);
      h.push(['Accept-Encoding', 'gzip, deflate, br'], ['Connection', 'keep-alive']);
      return h;
    },
  };
}

/**
 * A library or tool: a fixed header list (placeholders: Host, Cookie,
 * Referer, Content-Length, Content-Type filled per request, left out when
 * empty), names exactly as the library writes them.
 */
export function libraryAgent(name: string, userAgent: string, template: readonly Header[], lowerCase = false): Agent {
  return {
    name,
    userAgent,
    headers(c) {
      const h: Header[] = [];
      for (const [n, v] of template) {
        const key = n.toLowerCase();
        let value = v;
        if (key === 'host') value = c.host;
        else if (key === 'user-agent') value = userAgent;
        else if (key === 'cookie') value = c.cookie;
        else if (key === 'referer') value = c.referer ?? '';
        else if (key === 'content-length') value = c.method === 'GET' || c.method === 'HEAD' ? '' : String(c.bodyBytes);
        else if (key === 'content-type') value = c.method === 'GET' || c.method === 'HEAD' ? '' : (c.contentType ?? v);
        if (value !== '') h.push([lowerCase ? key : n, value]);
      }
      return h;
    },
  };
}

// Library defaults, as the libraries write them.
export const CURL_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Accept', '*/*'], ['Content-Length', ''], ['Content-Type', 'application/x-www-form-urlencoded']];
export const REQUESTS_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Accept-Encoding', 'gzip, deflate'], ['Accept', '*/*'], ['Connection', 'keep-alive'], ['Cookie', ''], ['Content-Length', ''], ['Content-Type', 'application/x-www-form-urlencoded']];
export const GO_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Content-Length', ''], ['Content-Type', 'application/json'], ['Cookie', ''], ['Accept-Encoding', 'gzip']];
/** undici (Node's fetch) writes lower-case names */
export const UNDICI_HEADERS: Header[] = [['host', ''], ['connection', 'keep-alive'], ['content-type', 'application/json'], ['authorization', 'Bearer x'], ['accept', '*/*'], ['accept-language', '*'], ['sec-fetch-mode', 'cors'], ['user-agent', ''], ['accept-encoding', 'gzip, deflate'], ['content-length', '']];
export const AXIOS_HEADERS: Header[] = [['Accept', 'application/json, text/plain, */*'], ['Content-Type', 'application/json'], ['Authorization', 'Bearer x'], ['User-Agent', ''], ['Content-Length', ''], ['Accept-Encoding', 'gzip, compress, deflate, br'], ['Host', ''], ['Connection', 'keep-alive']];
export const SCRAPY_HEADERS: Header[] = [['Host', ''], ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['Accept-Language', 'en'], ['User-Agent', ''], ['Accept-Encoding', 'gzip, deflate, br'], ['Referer', ''], ['Cookie', '']];
export const NIKTO_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Connection', 'Keep-Alive']];
export const SQLMAP_HEADERS: Header[] = [['Host', ''], ['Cache-Control', 'no-cache'], ['Accept', '*/*'], ['User-Agent', ''], ['Accept-Encoding', 'gzip,deflate'], ['Cookie', ''], ['Connection', 'close']];
export const NUCLEI_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Connection', 'close'], ['Accept', '*/*'], ['Accept-Language', 'en'], ['Accept-Encoding', 'gzip']];
/** a browser's values pasted into python-requests: the library's defaults stay first */
export const SPOOF_REQUESTS_HEADERS: Header[] = [
  ['Host', ''],
  ['User-Agent', ''],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Accept', ACCEPT_NAV_CHROME],
  ['Connection', 'keep-alive'],
  ['sec-ch-ua', '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
  ['sec-ch-ua-mobile', '?0'],
  ['sec-ch-ua-platform', '"Windows"'],
  ['Upgrade-Insecure-Requests', '1'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Referer', ''],
  ['Cookie', ''],
];
/** the same pasted into Go's net/http: Go writes Host, User-Agent, then the map in sorted order */
export const SPOOF_GO_HEADERS: Header[] = [
  ['Host', ''],
  ['User-Agent', ''],
  ['Accept', ACCEPT_NAV_CHROME],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Referer', ''],
  ['Sec-Ch-Ua', '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
  ['Sec-Ch-Ua-Mobile', '?0'],
  ['Sec-Ch-Ua-Platform', '"Windows"'],
  ['Upgrade-Insecure-Requests', '1'],
  ['Accept-Encoding', 'gzip'],
];
export const CRAWLER_HEADERS: Header[] = [['Host', ''], ['Connection', 'keep-alive'], ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'], ['From', 'googlebot(at)googlebot.com'], ['User-Agent', ''], ['Accept-Encoding', 'gzip, deflate, br']];
export const BINGBOT_HEADERS: Header[] = [['Host', ''], ['Accept', '*/*'], ['User-Agent', ''], ['Accept-Encoding', 'gzip, deflate, br'], ['Cache-Control', 'no-cache'], ['Pragma', 'no-cache']];
export const GENERIC_BOT_HEADERS: Header[] = [['Host', ''], ['User-Agent', ''], ['Accept', '*/*'], ['Accept-Encoding', 'gzip, deflate, br'], ['Connection', 'keep-alive']];

/** Browser User-Agents that spoofers, stuffers and scrapers rotate through. */
export const BROWSER_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
] as const;
