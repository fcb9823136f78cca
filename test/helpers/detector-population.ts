// A small labeled population for the detector pipeline tests, written as the
// correlator writes requests (ja4_logs.http_logs_ingest): browsers with
// bursty page loads and log-normal think times, and three bot kinds that
// differ from them in different ways (a known library JA4 crawling fast and
// regularly; a Chrome UA over an unknown library JA4; a perfect Chrome
// look-alike, low and slow, machine-regular). Deterministic (mulberry32).
// The full simulator (src/simulator) drives the eval tests; this keeps the
// pipeline tests small and independent of it.
import type { IngestRow } from './storage-fixture.js';
import { JA4_CHROME, JA4_GO, UA_CHROME, UA_GO } from './storage-fixture.js';
import { mulberry32 } from '../../src/detector/features/benford.js';

export const JA4_PY = 't13d191000_9dc949149365_e7c285222651';
export const UA_PY = 'python-requests/2.31';

export interface PopulationLabel {
  client_ip: string;
  family: string;
  is_bot: boolean;
  bot_name: string;
}

export interface Population {
  rows: IngestRow[];
  labels: PopulationLabel[];
}

/** Requests of [startUs, startUs + hours h): humans, scrapers, spoofers, low-and-slow bots. */
export function makePopulation(startUs: number, opts: { seed?: number; hours?: number; humans?: number; botsPerKind?: number } = {}): Population {
  const rand = mulberry32(opts.seed ?? 1);
  const hours = opts.hours ?? 2;
  const endUs = startUs + hours * 3_600_000_000;
  const rows: IngestRow[] = [];
  const labels: PopulationLabel[] = [];
  let seq = 0;
  const pages = Array.from({ length: 40 }, (_, i) => `/product/${i}`);
  const push = (ip: string, ts: number, p: Partial<IngestRow> & Pick<IngestRow, 'ja4'>): void => {
    seq++;
    rows.push({
      ts: Math.round(ts),
      request_id: `pop-${seq}`,
      client_ip: ip,
      client_port: 30000 + (seq % 30000),
      host: 'shop.example',
      uri: '/',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes_out: 5000,
      headers: {},
      header_names: ['Host', 'User-Agent'],
      cookie_names: [],
      ja4h: 'ge11nn020000_aaaaaaaaaaaa_000000000000_000000000000',
      alpn: '',
      correlation_status: 'matched',
      ...p,
    });
  };
  const lognormal = (mu: number, sigma: number): number => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };

  const humans = opts.humans ?? 60;
  for (let h = 0; h < humans; h++) {
    const ip = `192.0.2.${h + 1}`;
    labels.push({ client_ip: ip, family: 'chrome', is_bot: false, bot_name: '' });
    let ts = startUs + rand() * 1_800_000_000;
    let referer = '';
    while (ts < endUs) {
      const page = pages[Math.floor(rand() * pages.length)]!;
      const headers = { 'user-agent': UA_CHROME, accept: 'text/html', 'accept-language': 'en-US', ...(referer ? { referer } : {}) };
      const names = ['Host', 'User-Agent', 'Accept', 'Accept-Language', ...(referer ? ['Referer'] : []), 'Cookie'];
      push(ip, ts, { ja4: JA4_CHROME, uri: page, protocol: 'HTTP/2', alpn: 'h2', headers, header_names: names, cookie_names: ['sid'], status: rand() < 0.1 ? 304 : 200, ja4h: 'ge20cr06enus_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc' });
      // the page's assets, a few ms apart
      const assets = 2 + Math.floor(rand() * 4);
      for (let a = 0; a < assets; a++) {
        ts += 5_000 + rand() * 60_000;
        push(ip, ts, { ja4: JA4_CHROME, uri: `/static/${Math.floor(rand() * 20)}.js`, protocol: 'HTTP/2', alpn: 'h2', headers: { ...headers, referer: `https://shop.example${page}` }, header_names: names, cookie_names: ['sid'], bytes_out: 20000, ja4h: 'ge20cr06enus_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc' });
      }
      referer = `https://shop.example${page}`;
      ts += lognormal(Math.log(40_000_000), 1.1); // think time, median 40 s
    }
  }

  const kinds = opts.botsPerKind ?? 10;
  for (let b = 0; b < kinds; b++) {
    // scrapers: a known bot JA4 (Go), fast and regular, every page
    const ip = `198.51.100.${b + 10}`;
    labels.push({ client_ip: ip, family: 'scraper', is_bot: true, bot_name: 'Go net/http' });
    let i = 0;
    for (let ts = startUs + rand() * 60_000_000; ts < endUs; ts += 20_000_000 + rand() * 400_000) {
      push(ip, ts, { ja4: JA4_GO, uri: `/product/${i++ % 400}`, headers: { 'user-agent': UA_GO }, status: rand() < 0.2 ? 404 : 200 });
    }
  }
  for (let b = 0; b < kinds; b++) {
    // spoofers: a Chrome UA over a library JA4, Poisson arrivals, probing
    const ip = `192.0.2.${200 + b}`;
    labels.push({ client_ip: ip, family: 'ua-spoofer', is_bot: true, bot_name: '' });
    for (let ts = startUs + rand() * 60_000_000; ts < endUs; ts += -Math.log(Math.max(rand(), 1e-9)) * 15_000_000) {
      push(ip, ts, { ja4: JA4_PY, uri: rand() < 0.5 ? `/search?q=${Math.floor(rand() * 1e6)}` : pages[Math.floor(rand() * pages.length)]!, headers: { 'user-agent': UA_CHROME, accept: '*/*' }, header_names: ['Host', 'User-Agent', 'Accept'], status: rand() < 0.3 ? 404 : 200 });
    }
  }
  for (let b = 0; b < kinds; b++) {
    // low and slow: a perfect Chrome look-alike, one login attempt every 7.5 minutes exactly
    const ip = `192.0.2.${220 + b}`;
    labels.push({ client_ip: ip, family: 'low-and-slow', is_bot: true, bot_name: '' });
    for (let ts = startUs + rand() * 300_000_000; ts < endUs; ts += 450_000_000) {
      push(ip, ts, { ja4: JA4_CHROME, uri: '/login', headers: { 'user-agent': UA_CHROME, accept: 'text/html', 'accept-language': 'en-US' }, header_names: ['Host', 'User-Agent', 'Accept', 'Accept-Language'], status: 401, bytes_out: 300 });
    }
  }
  rows.sort((x, y) => x.ts - y.ts);
  return { rows, labels };
}
