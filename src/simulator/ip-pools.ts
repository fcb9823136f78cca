// Where clients come from: address ranges of residential ISPs, mobile
// carriers, hosting providers, and the published ranges of the known
// crawlers (data/reference/bot-ip-prefixes.csv). The residential and hosting
// ranges are the ones data/reference/ip-to-asn.csv maps, so the ASN
// enrichment has something to find.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Rng } from './rng.js';

export type PoolName = 'residential' | 'mobile' | 'hosting' | 'googlebot' | 'bingbot' | 'applebot' | 'gptbot';

interface Prefix {
  /** IPv4: 4 bytes; IPv6: 16 bytes */
  base: number[];
  bits: number;
  /** ISO country of the range, for Accept-Language */
  country: string;
}

function parsePrefix(cidr: string, country = 'US'): Prefix {
  const [addr, len] = cidr.split('/') as [string, string];
  if (!addr.includes(':')) return { base: addr.split('.').map(Number), bits: Number(len), country };
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
  return { base: groups.flatMap((g) => [g >> 8, g & 0xff]), bits: Number(len), country };
}

const POOLS: Record<'residential' | 'mobile' | 'hosting', [string, string, number][]> = {
  // [prefix, country, weight]
  residential: [
    ['73.0.0.0/8', 'US', 5],
    ['24.0.0.0/12', 'US', 3],
    ['90.0.0.0/9', 'FR', 3],
    ['86.192.0.0/11', 'FR', 1],
    ['81.2.64.0/18', 'GB', 2],
    ['2601::/20', 'US', 2],
    ['2a01:cb00::/24', 'FR', 1],
  ],
  mobile: [
    ['172.56.0.0/14', 'US', 3],
    ['2607:fb90::/32', 'US', 3],
    ['92.40.0.0/14', 'GB', 1],
  ],
  hosting: [
    ['3.0.0.0/9', 'US', 4],
    ['52.0.0.0/11', 'US', 3],
    ['34.64.0.0/10', 'US', 2],
    ['20.160.0.0/12', 'US', 1],
    ['138.68.0.0/16', 'US', 2],
    ['164.90.0.0/16', 'DE', 1],
    ['51.68.0.0/16', 'FR', 2],
    ['78.46.0.0/15', 'DE', 2],
    ['2a01:4f8::/32', 'DE', 1],
  ],
};

const REFERENCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'reference');
/** Used when data/reference is absent: the same published ranges. */
const CRAWLER_FALLBACK: Record<string, string[]> = {
  Googlebot: ['66.249.64.0/19', '2001:4860:4801::/48'],
  Bingbot: ['40.77.167.0/24', '157.55.39.0/24', '207.46.13.0/24'],
  Applebot: ['17.241.0.0/16'],
  GPTBot: ['20.171.206.0/24', '52.230.152.0/24'],
};

function crawlerPrefixes(): Record<string, Prefix[]> {
  const byBot: Record<string, string[]> = {};
  try {
    const lines = readFileSync(join(REFERENCE_DIR, 'bot-ip-prefixes.csv'), 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [prefix, bot] = line.split(',');
      if (prefix && bot) (byBot[bot] ??= []).push(prefix);
    }
  } catch {
    // no reference data: the fallback below
  }
  const out: Record<string, Prefix[]> = {};
  for (const bot of Object.keys(CRAWLER_FALLBACK)) out[bot] = (byBot[bot] ?? CRAWLER_FALLBACK[bot]!).map((p) => parsePrefix(p));
  return out;
}

/** RFC 5952 text form (what inet_ntop prints): lower case, the longest run of 2+ zero groups as "::". */
export function formatIpv6(bytes: number[]): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function randomIn(p: Prefix, rng: Rng): string {
  const b = p.base.slice();
  for (let i = 0; i < b.length; i++) {
    const fixed = Math.max(0, Math.min(8, p.bits - i * 8));
    const mask = fixed === 8 ? 0xff : (0xff << (8 - fixed)) & 0xff;
    b[i] = (b[i]! & mask) | (rng.u32() & ~mask & 0xff);
  }
  if (b.length === 4) {
    // Avoid network and broadcast-looking addresses.
    if (b[3] === 0 || b[3] === 255) b[3] = 1 + (rng.u32() % 254);
    return b.join('.');
  }
  return formatIpv6(b);
}

export interface ClientAddress {
  ip: string;
  country: string;
}

/** Draws client addresses, each used by one client only (the labels are per address). */
export class IpAllocator {
  private readonly used = new Set<string>();
  private readonly weighted: Record<'residential' | 'mobile' | 'hosting', [Prefix, number][]>;
  private readonly crawlers = crawlerPrefixes();

  constructor(private readonly rng: Rng) {
    const w = (list: [string, string, number][]) => list.map(([c, country, weight]) => [parsePrefix(c, country), weight] as [Prefix, number]);
    this.weighted = { residential: w(POOLS.residential), mobile: w(POOLS.mobile), hosting: w(POOLS.hosting) };
  }

  /** A fresh address from the pool; ipv4Only for clients whose stack we model on IPv4. */
  draw(pool: PoolName, ipv4Only = false): ClientAddress {
    for (let attempt = 0; ; attempt++) {
      let prefix: Prefix;
      if (pool === 'residential' || pool === 'mobile' || pool === 'hosting') {
        const list = ipv4Only ? this.weighted[pool].filter(([p]) => p.base.length === 4) : this.weighted[pool];
        prefix = this.rng.weighted(list);
      } else {
        const bot = { googlebot: 'Googlebot', bingbot: 'Bingbot', applebot: 'Applebot', gptbot: 'GPTBot' }[pool];
        const list = this.crawlers[bot]!.filter((p) => !ipv4Only || p.base.length === 4);
        prefix = this.rng.pick(list);
      }
      const ip = randomIn(prefix, this.rng);
      if (!this.used.has(ip) || attempt > 50) {
        this.used.add(ip);
        return { ip, country: prefix.country };
      }
    }
  }
}
