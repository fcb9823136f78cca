// The client families: who they are (address pool, operating system, TLS
// stack, headers) and how they behave (sessions of timed requests). Humans
// load pages with their assets and think between pages (log-normal); bots
// run at machine pace (regular or Poisson), with fewer headers, mostly
// without cookies and referers. No family is told apart by a single field:
// spoofers copy browser headers, headless Chrome has Chrome's TLS, crawlers
// come from their real ranges, stuffers from residential proxies.
import {
  AXIOS_HEADERS,
  BINGBOT_HEADERS,
  BROWSER_USER_AGENTS,
  CRAWLER_HEADERS,
  CURL_HEADERS,
  GENERIC_BOT_HEADERS,
  GO_HEADERS,
  NIKTO_HEADERS,
  NUCLEI_HEADERS,
  REQUESTS_HEADERS,
  SCRAPY_HEADERS,
  SPOOF_GO_HEADERS,
  SPOOF_REQUESTS_HEADERS,
  SQLMAP_HEADERS,
  UNDICI_HEADERS,
  chromeAgent,
  firefoxAgent,
  libraryAgent,
  safariAgent,
  type Agent,
} from './agents.js';
import type { StackName } from './catalog.js';
import type { Client, RequestPlan, Session } from './client.js';
import type { IpAllocator, PoolName } from './ip-pools.js';
import type { Rng } from './rng.js';
import { SCANNER_PATHS, SERVER_IPV4, pageAssets, pagePath, respond, type ResourceKind } from './site.js';
import { TCP_PROFILES, type OsName } from './tcp-profiles.js';

const S = 1_000_000;

export interface FamilyDef {
  name: string;
  isBot: boolean;
  /** default share of the requests */
  share: number;
  client(rng: Rng, ips: IpAllocator): Client;
  session(c: Client, rng: Rng, t: number): Session;
}

// ---------------------------------------------------------------- clients

const EPHEMERAL: Record<OsName, readonly [number, number]> = {
  windows: [49152, 65535],
  macos: [49152, 65535],
  ios: [49152, 65535],
  linux: [32768, 60999],
  android: [32768, 60999],
  'aws-linux': [32768, 60999],
};

function makeClient(
  rng: Rng,
  ips: IpAllocator,
  f: { family: string; isBot: boolean; botName: string; pool: PoolName; os: OsName; stack: StackName; agent: (country: string) => Agent; rttMs: number; sni?: boolean },
): Client {
  // The TLS catalog's captures are IPv4 and IPv6 alike; every stack is used over both.
  const addr = ips.draw(f.pool);
  return {
    family: f.family,
    isBot: f.isBot,
    botName: f.botName,
    ip: addr.ip,
    country: addr.country,
    os: f.os,
    ttl: TCP_PROFILES[f.os].ttl - rng.int(5, 22),
    stack: f.stack,
    agent: f.agent(addr.country),
    rttUs: Math.round(Math.min(400, Math.max(2, rng.logNormal(f.rttMs, 0.5))) * 1000),
    ports: EPHEMERAL[f.os],
    sni: f.sni ?? true,
    h2: false,
  };
}

const LANGS: Record<string, string[]> = {
  US: ['en-US', 'en'],
  FR: ['fr-FR', 'fr', 'en-US', 'en'],
  GB: ['en-GB', 'en'],
  DE: ['de-DE', 'de', 'en-US', 'en'],
};

/** Accept-Language as each browser formats its q-values. */
function acceptLanguage(country: string, style: 'chrome' | 'firefox' | 'safari'): string {
  const l = LANGS[country] ?? LANGS.US!;
  if (style === 'safari') return l.slice(0, 2).map((x, i) => (i ? `${x};q=0.9` : x)).join(',');
  if (style === 'firefox') return l.map((x, i) => (i ? `${x};q=${(0.8 - 0.2 * (i - 1)).toFixed(1)}` : x)).join(',');
  return l.map((x, i) => (i ? `${x};q=${(1 - 0.1 * i).toFixed(1)}` : x)).join(',');
}

const CHROME_BRANDS = '"Chromium";v="116", "Not)A;Brand";v="24", "Google Chrome";v="116"';
const EDGE_BRANDS = '"Chromium";v="116", "Not)A;Brand";v="24", "Microsoft Edge";v="116"';
const HEADLESS_BRANDS = '"Chromium";v="156", "Not=A?Brand";v="24", "HeadlessChrome";v="156"';
const CHROME_UA: Record<string, [string, string]> = {
  windows: ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36', 'Windows'],
  macos: ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36', 'macOS'],
  linux: ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36', 'Linux'],
};
const FIREFOX_UA: Record<string, string> = {
  windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0',
  macos: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:115.0) Gecko/20100101 Firefox/115.0',
  linux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0',
};

// --------------------------------------------------------------- sessions

interface Jar {
  names: string[];
  values: Map<string, string>;
  /** the Cookie header, rebuilt when a cookie is added */
  header?: string;
}
function jarHeader(j: Jar): string {
  return (j.header ??= j.names.map((n) => `${n}=${j.values.get(n)}`).join('; '));
}
function setCookie(j: Jar, rng: Rng, name: string): void {
  if (j.values.has(name)) return;
  j.header = undefined;
  const v = name === 'sid' ? rng.hex(16) : name.startsWith('_g') ? `GA1.1.${rng.int(1e8, 2e9)}.${rng.int(1.6e9, 1.8e9)}` : name === 'consent' ? 'yes' : rng.hex(8);
  j.names.push(name);
  j.values.set(name, v);
}

function plan(p: Partial<RequestPlan> & Pick<RequestPlan, 't' | 'host' | 'res'>): RequestPlan {
  // Explicit fields (no object spread): this runs for every request.
  return {
    t: p.t,
    host: p.host,
    https: p.https ?? true,
    method: p.method ?? 'GET',
    res: p.res,
    referer: p.referer,
    cookie: p.cookie ?? '',
    bodyBytes: p.bodyBytes ?? 0,
    contentType: p.contentType,
    lane: p.lane ?? 0,
    closeAfter: p.closeAfter ?? false,
    agent: p.agent,
  };
}

/**
 * A browser's visit: page views, each the HTML then its assets over up to 6
 * parallel connections (HTTP/1.1) or one (h2), XHRs, then a log-normal think
 * time. `pace` replaces the think time for automated browsers.
 */
function* browse(
  c: Client,
  rng: Rng,
  t: number,
  o: { pages: number; think: () => number; searchReferer: number; cookies: boolean; assets: boolean; login: number },
): Session {
  const jar: Jar = { names: [], values: new Map() };
  const returning = o.cookies && rng.chance(0.3);
  if (returning) for (const n of ['sid', 'consent', '_ga']) setCookie(jar, rng, n);
  const host = rng.chance(0.6) ? 'www.example.com' : 'shop.example.com';
  let referer: string | undefined = rng.chance(o.searchReferer) ? rng.pick(['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/', 'https://t.co/']) : undefined;
  let uri = pagePath(host, rng);
  if (rng.chance(0.05)) {
    // Typed without https: the port-80 redirect first.
    yield plan({ t, host, https: false, res: respond(rng, 'page', '/', 301), cookie: jarHeader(jar) });
    t += c.rttUs * 2 + rng.int(2000, 20000);
    uri = '/';
  }
  for (let page = 0; page < o.pages; page++) {
    const batch: RequestPlan[] = [];
    const login = rng.chance(o.login);
    const pageRes = login ? respond(rng, 'form', '/login', rng.chance(0.85) ? 302 : 200) : respond(rng, 'page', uri, rng.chance(0.01) ? 404 : 200);
    batch.push(
      plan({
        t,
        host,
        method: login ? 'POST' : 'GET',
        res: pageRes,
        referer,
        cookie: jarHeader(jar),
        bodyBytes: login ? rng.int(40, 90) : 0,
        contentType: login ? 'application/x-www-form-urlencoded' : undefined,
      }),
    );
    if (o.cookies) {
      setCookie(jar, rng, 'sid');
      if (page === 0) setCookie(jar, rng, 'consent');
    }
    const pageUrl = `https://${host}${pageRes.uri}`;
    let end = t + pageRes.durUs;
    if (o.assets) {
      const assets = pageAssets(rng, page === 0 && !returning);
      const lanes = [0, 0, 0, 0, 0, 0];
      const start = end + rng.int(15_000, 150_000) + c.rttUs;
      assets.forEach((a, i) => {
        const lane = c.h2 ? 0 : i % 6;
        const at = Math.max(start + i * rng.int(2000, 15000), lanes[lane]!);
        const status = page > 0 && rng.chance(0.25) ? 304 : 200;
        const res = respond(rng, a.kind, a.uri, status);
        lanes[lane] = at + res.durUs + c.rttUs;
        end = Math.max(end, lanes[lane]!);
        batch.push(plan({ t: at, host: 'static.example.com', res, referer: pageUrl, cookie: jarHeader(jar), lane }));
      });
      if (o.cookies) {
        setCookie(jar, rng, '_ga');
        setCookie(jar, rng, '_gid');
      }
      const xhrs = rng.int(0, 2);
      for (let i = 0; i < xhrs; i++) {
        const at = end + rng.int(50_000, 900_000);
        const res = respond(rng, 'xhr', `/api/recommendations?item=${rng.int(1, 5000)}`, 200);
        batch.push(plan({ t: at, host, res, referer: pageUrl, cookie: jarHeader(jar), lane: c.h2 ? 0 : 1 }));
        end = Math.max(end, at + res.durUs);
      }
    }
    batch.sort((a, b) => a.t - b.t);
    for (const p of batch) yield p;
    referer = pageUrl;
    uri = pagePath(host, rng);
    t = end + Math.round(o.think());
  }
}

/** Human think time: log-normal, median 12 s, clamped to [1 s, 30 min]. */
function humanThink(rng: Rng): () => number {
  const median = rng.uniform(6, 20) * S;
  return () => Math.min(1800 * S, Math.max(1 * S, rng.logNormal(median, 1.1)));
}

function humanSession(c: Client, rng: Rng, t: number): Session {
  return browse(c, rng, t, { pages: 1 + rng.geometric(5), think: humanThink(rng), searchReferer: 0.45, cookies: true, assets: true, login: 0.02 });
}

/** A loop of requests at machine pace: `gap()` after each response. */
function* loop(
  c: Client,
  rng: Rng,
  t: number,
  n: number,
  next: (i: number) => { host: string; kind: ResourceKind; uri: string; status: number; method?: string; https?: boolean; bodyBytes?: number; contentType?: string; referer?: string; agent?: Agent },
  gap: (durUs: number) => number,
  o: { closeAfter?: boolean; jar?: Jar; lanes?: number } = {},
): Session {
  const lanes = Math.max(1, o.lanes ?? 1);
  const free = new Array<number>(lanes).fill(t);
  for (let i = 0; i < n; i++) {
    // The lane free first takes the next request (a pool of workers).
    let lane = 0;
    for (let k = 1; k < lanes; k++) if (free[k]! < free[lane]!) lane = k;
    const at = free[lane]!;
    const r = next(i);
    const res = respond(rng, r.kind, r.uri, r.status);
    yield plan({
      t: at,
      host: r.host,
      https: r.https ?? true,
      method: r.method ?? 'GET',
      res,
      referer: r.referer,
      cookie: o.jar ? jarHeader(o.jar) : '',
      bodyBytes: r.bodyBytes ?? 0,
      contentType: r.contentType,
      lane: c.h2 ? 0 : lane,
      closeAfter: o.closeAfter ?? false,
      agent: r.agent,
    });
    if (o.jar && res.status < 400) setCookie(o.jar, rng, 'sid');
    free[lane] = at + res.durUs + c.rttUs + Math.round(gap(res.durUs));
  }
}

/** Timer-driven clients: regular period with a small relative jitter (cron, pollers, low-and-slow). */
const periodic = (rng: Rng, periodUs: number, jitter: number) => () => periodUs * (1 + jitter * (2 * rng.next() - 1));

// ---------------------------------------------------------------- families

const human = (name: string, share: number, pick: (rng: Rng) => { os: OsName; stack: StackName; pool: PoolName; agent: (country: string) => Agent }): FamilyDef => ({
  name,
  isBot: false,
  share,
  client: (rng, ips) => {
    const p = pick(rng);
    return makeClient(rng, ips, { family: name, isBot: false, botName: '', rttMs: p.pool === 'mobile' ? 70 : 35, ...p });
  },
  session: humanSession,
});

const chromeFor = (name: string, os: 'windows' | 'macos' | 'linux', brands: string, edge = false) => (country: string) => {
  const [ua, platform] = CHROME_UA[os]!;
  return chromeAgent({ name, userAgent: edge ? `${ua} Edg/116.0.1938.81` : ua, brands, platform, mobile: false, acceptLanguage: acceptLanguage(country, 'chrome') });
};

const osOf = (rng: Rng, w: [OsName, number][]) => rng.weighted(w);

export const HUMAN_DEFS: FamilyDef[] = [
  human('chrome', 22, (rng) => {
    const os = osOf(rng, [['windows', 65], ['macos', 25], ['linux', 10]]) as 'windows' | 'macos' | 'linux';
    return { os, stack: 'chrome', pool: 'residential', agent: chromeFor('Chrome', os, CHROME_BRANDS) };
  }),
  human('edge', 6, () => ({ os: 'windows', stack: 'chrome', pool: 'residential', agent: chromeFor('Edge', 'windows', EDGE_BRANDS, true) })),
  human('firefox', 7, (rng) => {
    const os = osOf(rng, [['windows', 60], ['linux', 25], ['macos', 15]]);
    return { os, stack: 'firefox', pool: 'residential', agent: (country) => firefoxAgent(FIREFOX_UA[os]!, acceptLanguage(country, 'firefox')) };
  }),
  human('safari', 6, () => ({
    os: 'macos',
    stack: 'safari-legacy',
    pool: 'residential',
    agent: (country) => safariAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Safari/605.1.15', acceptLanguage(country, 'safari')),
  })),
  human('chrome-mobile', 9, () => ({
    os: 'android',
    stack: 'chrome',
    pool: 'mobile',
    agent: (country) =>
      chromeAgent({
        name: 'Chrome Mobile',
        userAgent: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36',
        brands: CHROME_BRANDS,
        platform: 'Android',
        mobile: true,
        acceptLanguage: acceptLanguage(country, 'chrome'),
      }),
  })),
  human('safari-mobile', 5, () => ({
    os: 'ios',
    stack: 'safari-legacy',
    pool: 'mobile',
    agent: (country) => safariAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 13_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Mobile/15E148 Safari/604.1', acceptLanguage(country, 'safari')),
  })),
];

interface Tool {
  botName: string;
  stack: StackName;
  agent: Agent;
  os?: OsName;
}
const tool = (botName: string, stack: StackName, ua: string, headers: Parameters<typeof libraryAgent>[2], lower = false): Tool => ({ botName, stack, agent: libraryAgent(botName, ua, headers, lower) });

const bot = (
  name: string,
  share: number,
  pick: (rng: Rng) => Tool & { pool: PoolName; rttMs?: number; sni?: boolean },
  session: (c: Client, rng: Rng, t: number) => Session,
): FamilyDef => ({
  name,
  isBot: true,
  share,
  client: (rng, ips) => {
    const p = pick(rng);
    const os = p.os ?? (p.pool === 'hosting' ? rng.weighted<OsName>([['linux', 3], ['aws-linux', 1]]) : p.pool === 'residential' ? rng.weighted<OsName>([['windows', 3], ['linux', 2]]) : 'linux');
    return makeClient(rng, ips, { family: name, isBot: true, botName: p.botName, pool: p.pool, os, stack: p.stack, agent: () => p.agent, rttMs: p.rttMs ?? 40, sni: p.sni });
  },
  session,
});

const API_PATHS = ['/v1/products', '/v1/prices', '/v1/inventory', '/v1/orders', '/v1/status', '/graphql'];

export const BOT_DEFS: FamilyDef[] = [
  // curl from cron jobs, health checks and one-off commands: one connection per run.
  bot(
    'curl',
    3,
    (rng) => ({ ...tool('curl', 'curl', rng.pick(['curl/7.88.1', 'curl/7.81.0', 'curl/8.5.0']), CURL_HEADERS), pool: rng.chance(0.75) ? 'hosting' : 'residential' }),
    (c, rng, t) => {
      const host = rng.pick(['www.example.com', 'api.example.com']);
      const targets = [rng.pick(['/', '/health', '/v1/status', '/robots.txt', '/feed.xml']), pagePath('www.example.com', rng)];
      const https = rng.chance(0.8);
      const every = rng.chance(0.6) ? periodic(rng, rng.pick([30, 60, 120]) * S, 0.01) : () => rng.uniform(0.5, 5) * S;
      return loop(c, rng, t, rng.int(1, 30), () => {
        const uri = rng.pick(targets);
        return { host, kind: uri === '/robots.txt' ? 'robots' : uri === '/feed.xml' ? 'feed' : 'page', uri, status: 200, https };
      }, every, { closeAfter: true });
    },
  ),
  // python-requests scripts walking an API or a catalogue over one Session.
  bot(
    'python-requests',
    4,
    (rng) => ({ ...tool('python-requests', 'python-requests', rng.pick(['python-requests/2.31.0', 'python-requests/2.28.2', 'python-requests/2.32.3']), REQUESTS_HEADERS), pool: rng.chance(0.8) ? 'hosting' : 'residential' }),
    (c, rng, t) => {
      const api = rng.chance(0.5);
      const base = rng.int(10000, 40000);
      const jar: Jar = { names: [], values: new Map() };
      return loop(c, rng, t, rng.int(20, 200), (i) =>
        api
          ? { host: 'api.example.com', kind: 'api', uri: `/v1/products?page=${i + 1}&per_page=100`, status: rng.chance(0.02) ? 429 : 200 }
          : { host: 'shop.example.com', kind: 'page', uri: `/product/${base + i}`, status: rng.chance(0.06) ? 404 : 200 },
      () => rng.uniform(50_000, 800_000), { jar: rng.chance(0.5) ? jar : undefined });
    },
  ),
  // Go services polling feeds and prices on a timer.
  bot(
    'go-http',
    4,
    (rng) => ({ ...tool('Go-http-client', 'go', 'Go-http-client/2.0', GO_HEADERS), pool: 'hosting' }),
    (c, rng, t) => {
      const targets = [`/v1/prices?sku=${rng.int(1000, 9999)}`, '/feed.xml', '/sitemap.xml', `/v1/inventory?store=${rng.int(1, 40)}`];
      const host = rng.chance(0.6) ? 'api.example.com' : 'www.example.com';
      const period = rng.pick([2, 5, 10, 30]) * S;
      return loop(c, rng, t, rng.int(20, 150), (i) => {
        const uri = targets[i % targets.length]!;
        return { host, kind: uri.includes('feed') ? 'feed' : uri.includes('sitemap') ? 'sitemap' : 'api', uri, status: 200 };
      }, periodic(rng, period, 0.005));
    },
  ),
  // Puppeteer/Playwright: Chrome's TLS and headers, machine pace, Linux in a data centre.
  bot(
    'headless-chrome',
    4,
    (rng) => {
      const stealth = rng.chance(0.4);
      const agent = chromeAgent({
        name: 'HeadlessChrome',
        userAgent: stealth
          ? 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'
          : 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
        brands: stealth ? '"Chromium";v="156", "Not=A?Brand";v="24", "Google Chrome";v="156"' : HEADLESS_BRANDS,
        platform: 'Linux',
        mobile: false,
        acceptLanguage: rng.chance(0.7) ? 'en-US,en;q=0.9' : undefined,
      });
      return { botName: stealth ? 'HeadlessChrome (stealth)' : 'HeadlessChrome', stack: 'chromium-headless', agent, pool: 'hosting', os: rng.chance(0.5) ? 'linux' : 'aws-linux' };
    },
    (c, rng, t) => {
      return browse(c, rng, t, { pages: rng.int(10, 80), think: () => rng.uniform(0.8, 3) * S, searchReferer: 0, cookies: true, assets: rng.chance(0.7), login: 0 });
    },
  ),
  // Aggressive crawling: a pool of workers over the whole catalogue, rotated User-Agents.
  bot(
    'scraper',
    7,
    (rng) => {
      const scrapy = rng.chance(0.35);
      return scrapy
        ? { ...tool('Scrapy', 'python-requests', 'Scrapy/2.11.0 (+https://scrapy.org)', SCRAPY_HEADERS), pool: 'hosting' }
        : { ...tool('scraper (rotating UA)', rng.pick<StackName>(['python-requests', 'openssl', 'go']), BROWSER_USER_AGENTS[0], SCRAPY_HEADERS), pool: rng.chance(0.6) ? 'hosting' : 'residential' };
    },
    (c, rng, t) => {
      const rotate = c.botName !== 'Scrapy';
      const agents = rotate ? BROWSER_USER_AGENTS.map((ua) => libraryAgent(c.botName, ua, SCRAPY_HEADERS)) : undefined;
      const start = rng.int(10000, 45000);
      let category = `https://shop.example.com/category/${rng.pick(['shoes', 'bags', 'sale', 'outdoor'])}`;
      return loop(c, rng, t, rng.int(150, 1000), (i) => {
        if (i % 40 === 0) {
          const uri = `/category/${rng.pick(['shoes', 'jackets', 'bags', 'watches', 'outdoor', 'kids', 'sale', 'new'])}?page=${1 + Math.floor(i / 40)}`;
          category = `https://shop.example.com${uri}`;
          return { host: 'shop.example.com', kind: 'page', uri, status: 200, agent: agents ? rng.pick(agents) : undefined };
        }
        const id = start + i * rng.int(1, 3);
        return { host: 'shop.example.com', kind: 'page', uri: `/product/${id}`, status: rng.chance(0.05) ? 404 : 200, referer: category, agent: agents ? rng.pick(agents) : undefined };
      }, () => rng.uniform(0, 250_000), { lanes: rng.int(4, 16), jar: rng.chance(0.5) ? { names: [], values: new Map() } : undefined });
    },
  ),
  // Credential stuffing from residential proxies: each address tries a few logins.
  bot(
    'credential-stuffer',
    5,
    (rng) => {
      const ua = rng.pick(BROWSER_USER_AGENTS);
      const kind = rng.weighted<string>([['python', 5], ['go', 3], ['node', 2]]);
      const t =
        kind === 'python'
          ? tool('credential stuffer (python)', 'python-requests', ua, REQUESTS_HEADERS)
          : kind === 'go'
            ? tool('credential stuffer (Go)', 'go', ua, GO_HEADERS)
            : tool('credential stuffer (Node)', 'node-fetch', ua, UNDICI_HEADERS, true);
      return { ...t, pool: rng.chance(0.75) ? 'residential' : 'hosting' };
    },
    (c, rng, t) => {
      const jar: Jar = { names: [], values: new Map() };
      const host = rng.chance(0.7) ? 'www.example.com' : 'shop.example.com';
      const getFirst = rng.chance(0.6);
      const attempts = rng.int(1, 6);
      let success = false;
      return loop(c, rng, t, attempts + (getFirst ? 1 : 0), (i) => {
        if (getFirst && i === 0) return { host, kind: 'page', uri: '/login', status: 200 };
        if (success) return { host, kind: 'page', uri: '/account', status: 200, referer: `https://${host}/login` };
        success = rng.chance(0.04);
        const status = success ? 302 : rng.chance(0.03) ? 429 : 401;
        return { host, kind: 'form', uri: '/login', status, method: 'POST', bodyBytes: rng.int(45, 90), contentType: 'application/x-www-form-urlencoded', referer: rng.chance(0.5) ? `https://${host}/login` : undefined };
      }, () => rng.uniform(0.3, 4) * S, { jar: getFirst ? jar : undefined });
    },
  ),
  // Vulnerability scanners: 404 storms over odd paths, often by IP address, often cleartext.
  bot(
    'vuln-scanner',
    4,
    (rng) => {
      const which = rng.weighted<string>([['nuclei', 5], ['nikto', 2], ['sqlmap', 2], ['zgrab', 1]]);
      const sni = rng.chance(0.5);
      const base =
        which === 'nuclei'
          ? tool('Nuclei', 'go', rng.pick(BROWSER_USER_AGENTS), NUCLEI_HEADERS)
          : which === 'nikto'
            ? tool('Nikto', 'openssl', 'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)', NIKTO_HEADERS)
            : which === 'sqlmap'
              ? tool('sqlmap', 'python-requests', 'sqlmap/1.7.2#stable (https://sqlmap.org)', SQLMAP_HEADERS)
              : tool('zgrab', 'go', 'Mozilla/5.0 zgrab/0.x', GENERIC_BOT_HEADERS);
      return { ...base, pool: 'hosting', sni };
    },
    (c, rng, t) => {
      const http = rng.chance(0.4);
      const host = c.sni ? rng.pick(['www.example.com', 'shop.example.com', 'api.example.com']) : SERVER_IPV4;
      const sqlmap = c.botName === 'sqlmap';
      return loop(c, rng, t, rng.int(60, 600), (i) => {
        if (sqlmap) {
          const uri = `/search?q=${rng.pick(['boots', 'gift'])}${rng.pick(["'", '%27%20AND%201=1--', '%22%20OR%20%221%22=%221', '%27%20UNION%20SELECT%20NULL--', ')%20AND%20SLEEP(5)--'])}`;
          return { host, kind: 'page', uri, status: rng.chance(0.7) ? 200 : 500, https: !http };
        }
        const uri = i === 0 ? '/' : rng.pick(SCANNER_PATHS);
        const status = uri === '/' ? 200 : rng.weighted<number>([[404, 80], [403, 12], [400, 4], [401, 4]]);
        return { host, kind: uri === '/' ? 'page' : 'probe', uri, status, https: !http };
      }, () => rng.uniform(0, 120_000), { lanes: rng.int(1, 10) });
    },
  ),
  // Low and slow: a handful of requests, hours apart, on a precise timer, browser headers.
  bot(
    'low-and-slow',
    1,
    (rng) => {
      const stack = rng.pick<StackName>(['python-requests', 'node-https', 'go']);
      const headers = stack === 'go' ? SPOOF_GO_HEADERS : SPOOF_REQUESTS_HEADERS;
      return { ...tool(`low-and-slow (${stack})`, stack, BROWSER_USER_AGENTS[0], headers), pool: rng.chance(0.6) ? 'residential' : 'hosting' };
    },
    (c, rng, t) => {
      const targets = [`/product/${rng.int(10000, 50000)}`, '/account', '/cart', `/search?q=${rng.pick(['gift', 'boots'])}`];
      const mine = targets.slice(0, rng.int(1, 3));
      return loop(c, rng, t, rng.int(5, 40), (i) => ({ host: 'shop.example.com', kind: 'page', uri: mine[i % mine.length]!, status: 200 }), periodic(rng, rng.uniform(120, 900) * S, 0.002));
    },
  ),
  // A Chrome User-Agent and header values over a library's TLS stack.
  bot(
    'ua-spoofer',
    5,
    (rng) => {
      const stack = rng.weighted<StackName>([['python-requests', 5], ['go', 3], ['node-fetch', 2]]);
      const agent =
        stack === 'go'
          ? libraryAgent('ua-spoofer (Go)', BROWSER_USER_AGENTS[0], SPOOF_GO_HEADERS)
          : stack === 'node-fetch'
            ? libraryAgent('ua-spoofer (Node)', BROWSER_USER_AGENTS[0], UNDICI_HEADERS.filter(([n]) => n !== 'authorization'), true)
            : libraryAgent('ua-spoofer (python)', BROWSER_USER_AGENTS[0], SPOOF_REQUESTS_HEADERS);
      return { botName: agent.name, stack, agent, pool: rng.chance(0.6) ? 'hosting' : 'residential' };
    },
    (c, rng, t) => {
      const host = rng.chance(0.5) ? 'www.example.com' : 'shop.example.com';
      let referer: string | undefined;
      const mean = rng.uniform(1.5, 8) * S;
      return loop(c, rng, t, rng.int(10, 200), () => {
        const uri = pagePath(host, rng, false);
        const r = { host, kind: 'page' as const, uri, status: rng.chance(0.03) ? 404 : 200, referer: rng.chance(0.4) ? referer : undefined };
        referer = `https://${host}${uri}`;
        return r;
      }, () => rng.exp(mean), { jar: rng.chance(0.4) ? { names: [], values: new Map() } : undefined });
    },
  ),
  // Search and AI crawlers from their published ranges, and impostors with their User-Agent.
  bot(
    'crawler',
    4,
    (rng) => {
      const which = rng.weighted<string>([['Googlebot', 40], ['Bingbot', 20], ['GPTBot', 15], ['Applebot', 10], ['fake-Googlebot', 15]]);
      const GOOGLEBOT = 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
      switch (which) {
        case 'Googlebot':
          return { ...tool('Googlebot', 'chromium-headless', GOOGLEBOT, CRAWLER_HEADERS), pool: 'googlebot', rttMs: 15, os: 'linux' };
        case 'Bingbot':
          return { ...tool('Bingbot', 'chromium-headless', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', BINGBOT_HEADERS), pool: 'bingbot', rttMs: 30, os: 'windows' };
        case 'GPTBot':
          return { ...tool('GPTBot', 'python-requests', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot', GENERIC_BOT_HEADERS), pool: 'gptbot', rttMs: 25, os: 'linux' };
        case 'Applebot':
          return { ...tool('Applebot', 'node-https', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)', GENERIC_BOT_HEADERS), pool: 'applebot', rttMs: 30, os: 'macos' };
        default:
          return { ...tool('fake-Googlebot', 'python-requests', GOOGLEBOT, CRAWLER_HEADERS), pool: 'hosting' };
      }
    },
    (c, rng, t) => {
      const host = rng.pick(['www.example.com', 'shop.example.com']);
      const mean = rng.uniform(2, 20) * S;
      return loop(c, rng, t, rng.int(30, 250), (i) => {
        if (i === 0) return { host, kind: 'robots', uri: '/robots.txt', status: 200 };
        if (i === 1 && rng.chance(0.5)) return { host, kind: 'sitemap', uri: '/sitemap.xml', status: 200 };
        const uri = pagePath(host, rng, false);
        return { host, kind: 'page', uri, status: rng.weighted<number>([[200, 90], [301, 4], [404, 4], [304, 2]]) };
      }, () => rng.exp(mean));
    },
  ),
  // API integrations: authenticated JSON calls on a schedule, in bursts.
  bot(
    'api-client',
    4,
    (rng) => {
      const kind = rng.weighted<string>([['axios', 4], ['undici', 3], ['go', 3]]);
      return kind === 'axios'
        ? { ...tool('axios', 'node-https', 'axios/1.6.8', AXIOS_HEADERS), pool: 'hosting' }
        : kind === 'undici'
          ? { ...tool('node-fetch', 'node-fetch', 'node', UNDICI_HEADERS, true), pool: 'hosting' }
          : { ...tool('Go API client', 'go', 'Go-http-client/2.0', GO_HEADERS), pool: 'hosting' };
    },
    (c, rng, t) => {
      const period = rng.uniform(2, 30) * S;
      const burst = rng.int(1, 6);
      const every = periodic(rng, period, 0.03);
      return loop(c, rng, t, rng.int(30, 300), (i) => {
        const path = rng.pick(API_PATHS);
        const post = rng.chance(0.15);
        const status = rng.weighted<number>([[post ? 201 : 200, 95], [429, 2], [401, 1], [500, 1], [204, 1]]);
        return { host: 'api.example.com', kind: 'api', uri: post ? path : `${path}?id=${rng.int(1, 99999)}`, status, method: post ? 'POST' : 'GET', bodyBytes: post ? rng.int(80, 900) : 0, contentType: post ? 'application/json' : undefined };
      }, () => (rng.int(1, burst) === 1 ? every() : rng.uniform(5000, 50_000)));
    },
  ),
];

export const FAMILY_DEFS: readonly FamilyDef[] = [...HUMAN_DEFS, ...BOT_DEFS];
