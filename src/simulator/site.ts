// The simulated web property: its virtual hosts, what they serve, and how
// big and how slow the answers are. Content is only what the logs see:
// paths, statuses, sizes and times.
import type { Rng } from './rng.js';

export const DEFAULT_HOSTS = ['www.example.com', 'shop.example.com', 'static.example.com', 'api.example.com'] as const;

/** The server's addresses: the vhosts share one IPv4 and one IPv6 address. */
export const SERVER_IPV4 = '192.0.2.10';
export const SERVER_IPV6 = '2001:db8::10';

export type ResourceKind = 'page' | 'css' | 'js' | 'img' | 'font' | 'icon' | 'xhr' | 'api' | 'form' | 'robots' | 'sitemap' | 'feed' | 'probe';

export interface Resource {
  kind: ResourceKind;
  uri: string;
  status: number;
  /** response body bytes */
  bytes: number;
  /** server time to the last byte handed to the network (us) */
  durUs: number;
}

const SLUGS = ['getting-started', 'release-notes', 'pricing-update', 'tls-fingerprinting', 'http2-explained', 'caching', 'security-advisory', 'roadmap', 'case-study', 'team', 'careers', 'privacy'];
const CATEGORIES = ['shoes', 'jackets', 'bags', 'watches', 'outdoor', 'kids', 'sale', 'new'];
const SEARCH = ['boots', 'red+jacket', 'gift', 'waterproof', 'size+42', 'leather', 'discount', 'running'];
const ASSET_HASHES = ['3f9a1c', '77be02', 'c41d9e'];

/** Pages of www and shop, with a popularity skew (humans favour the head). */
export function pagePath(host: string, rng: Rng, zipf = true): string {
  const r = zipf ? Math.pow(rng.next(), 2.2) : rng.next();
  if (host.startsWith('shop.')) {
    if (r < 0.08) return '/';
    if (r < 0.3) return `/category/${CATEGORIES[Math.floor(r * 97) % CATEGORIES.length]}`;
    if (r < 0.38) return `/search?q=${rng.pick(SEARCH)}`;
    if (r < 0.4) return '/cart';
    return `/product/${10000 + Math.floor(r * r * 40000)}`;
  }
  if (r < 0.15) return '/';
  if (r < 0.5) return `/blog/${SLUGS[Math.floor(r * 131) % SLUGS.length]}`;
  if (r < 0.6) return '/pricing';
  if (r < 0.7) return `/docs/${['install', 'config', 'api', 'faq'][Math.floor(r * 53) % 4]}`;
  if (r < 0.75) return '/about';
  return `/news/${2000 + Math.floor(r * 3000)}`;
}

export function assetPath(kind: 'css' | 'js' | 'img' | 'font' | 'icon', i: number): string {
  switch (kind) {
    case 'css':
      return `/css/app.${ASSET_HASHES[i % 3]}.css`;
    case 'js':
      return i % 2 ? `/js/vendor.${ASSET_HASHES[i % 3]}.js` : `/js/app.${ASSET_HASHES[i % 3]}.js`;
    case 'font':
      return '/fonts/inter-var.woff2';
    case 'icon':
      return '/favicon.ico';
    default:
      return `/img/${['hero', 'logo', 'thumb', 'banner', 'avatar', 'product'][i % 6]}-${i}.webp`;
  }
}

/** The asset list of a page view: stylesheets, scripts, fonts, images. */
export function pageAssets(rng: Rng, cold: boolean): { kind: 'css' | 'js' | 'img' | 'font' | 'icon'; uri: string }[] {
  const out: { kind: 'css' | 'js' | 'img' | 'font' | 'icon'; uri: string }[] = [];
  if (cold) {
    out.push({ kind: 'css', uri: assetPath('css', 0) }, { kind: 'js', uri: assetPath('js', 0) }, { kind: 'js', uri: assetPath('js', 1) });
    out.push({ kind: 'font', uri: assetPath('font', 0) }, { kind: 'icon', uri: assetPath('icon', 0) });
    const imgs = rng.int(8, 24);
    for (let i = 0; i < imgs; i++) out.push({ kind: 'img', uri: assetPath('img', rng.int(0, 400)) });
  } else {
    // Warm cache: only the page's own images.
    const imgs = rng.int(1, 7);
    for (let i = 0; i < imgs; i++) out.push({ kind: 'img', uri: assetPath('img', rng.int(0, 400)) });
  }
  return out;
}

/** Server time (us): log-normal around a per-kind median. */
function duration(rng: Rng, medianUs: number, bytes: number): number {
  // Plus the send time of the body at ~20 MB/s: log_transaction runs once
  // the response is handed to the network.
  return Math.max(80, Math.round(rng.logNormal(medianUs, 0.6) + bytes / 20));
}

const MEDIAN_BYTES: Record<ResourceKind, number> = {
  page: 32000,
  css: 38000,
  js: 120000,
  img: 45000,
  font: 48000,
  icon: 4286,
  xhr: 1800,
  api: 2600,
  form: 600,
  robots: 310,
  sitemap: 52000,
  feed: 24000,
  probe: 0,
};
const MEDIAN_US: Record<ResourceKind, number> = {
  page: 18000,
  css: 300,
  js: 300,
  img: 350,
  font: 300,
  icon: 200,
  xhr: 6000,
  api: 9000,
  form: 160000,
  robots: 200,
  sitemap: 2500,
  feed: 4000,
  probe: 400,
};

/** A resource answered with `status`: bodies by kind, error pages small, 304 empty. */
export function respond(rng: Rng, kind: ResourceKind, uri: string, status: number): Resource {
  let bytes: number;
  if (status === 304 || status === 204) bytes = 0;
  else if (status === 301 || status === 302) bytes = 229 + (uri.length & 7);
  else if (status >= 400) bytes = status === 404 ? 196 + uri.length : 199;
  else if (kind === 'icon' || kind === 'robots') bytes = MEDIAN_BYTES[kind];
  else bytes = Math.round(rng.logNormal(MEDIAN_BYTES[kind], 0.5));
  const median = status >= 300 && kind !== 'form' ? 250 : MEDIAN_US[kind];
  return { kind, uri, status, bytes, durUs: duration(rng, median, bytes) };
}

/** Odd paths of vulnerability scanners: admin panels, leaked files, injection probes. */
export const SCANNER_PATHS = [
  '/.env',
  '/.git/config',
  '/.git/HEAD',
  '/wp-login.php',
  '/wp-admin/setup-config.php',
  '/xmlrpc.php',
  '/phpmyadmin/index.php',
  '/pma/index.php',
  '/admin/config.php',
  '/config.json',
  '/backup.zip',
  '/db.sql',
  '/server-status',
  '/actuator/env',
  '/actuator/health',
  '/api/v1/pods',
  '/cgi-bin/luci/;stok=/locale',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/index.php?s=/Index/\\think\\app/invokefunction',
  '/?id=1%27%20OR%20%271%27=%271',
  '/search?q=%3Cscript%3Ealert(1)%3C/script%3E',
  '/..%2f..%2f..%2fetc/passwd',
  '/solr/admin/info/system',
  '/owa/auth/logon.aspx',
  '/remote/login',
  '/boaform/admin/formLogin',
  '/HNAP1/',
  '/console/',
  '/.aws/credentials',
  '/.DS_Store',
  '/debug/default/view',
  '/telescope/requests',
] as const;
