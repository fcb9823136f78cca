// Data for the dashboard browser tests: a few hours of traffic from a small
// known population, written straight into the real tables (correlated
// requests into ja4_logs.http_logs_ingest, whose materialized views fill
// http_logs and the hourly aggregates; scores and detections into the
// detector's tables), plus the reference files that enrich them. Direct
// inserts rather than the simulator/correlator/detector chain so the test
// knows exactly what each page must show and runs in seconds.
import { join } from 'node:path';
import { TABLES, loadReferenceData, type Storage } from '../../src/storage/index.js';
import { JA4_CHROME, JA4_GO, UA_CHROME, UA_GO, UA_GOOGLEBOT, writeTestReferenceDir } from './storage-fixture.js';
import { mulberry32 as rng } from '../../src/detector/features/benford.js';

export const JA4_PYTHON = 't13d1812h1_85036bcba153_375ca2c5e164';
export const UA_PYTHON = 'python-requests/2.31.0';
export const CAMPAIGN_ID = 'cmp-go-scanners';

/** The population: who, from where, with which client, how busy, and whether the detector flags it. */
export interface Client {
  ip: string;
  ja4: string;
  ua: string;
  host: string;
  paths: string[];
  /** requests per hour */
  rate: number;
  /** flagged: threat level and score of its detections */
  detection?: { level: 'low' | 'medium' | 'high' | 'critical'; score: number; bot: string; campaign: string };
}

export const CLIENTS: readonly Client[] = [
  { ip: '203.0.113.10', ja4: JA4_CHROME, ua: UA_CHROME, host: 'shop.example', paths: ['/', '/cart', '/product/1', '/product/2'], rate: 40 },
  { ip: '203.0.113.11', ja4: JA4_CHROME, ua: UA_CHROME, host: 'shop.example', paths: ['/', '/search?q=x', '/product/3'], rate: 30 },
  { ip: '203.0.113.12', ja4: JA4_CHROME, ua: UA_CHROME, host: 'blog.example', paths: ['/', '/post/1', '/post/2'], rate: 20 },
  { ip: '66.249.66.1', ja4: JA4_CHROME, ua: UA_GOOGLEBOT, host: 'blog.example', paths: ['/robots.txt', '/post/1', '/post/2', '/post/3'], rate: 15 },
  {
    ip: '198.51.100.7',
    ja4: JA4_GO,
    ua: UA_GO,
    host: 'shop.example',
    paths: ['/admin', '/wp-admin', '/.env', '/admin/login'],
    rate: 60,
    detection: { level: 'critical', score: 0.97, bot: 'Go net/http', campaign: CAMPAIGN_ID },
  },
  {
    ip: '198.51.100.8',
    ja4: JA4_GO,
    ua: UA_GO,
    host: 'shop.example',
    paths: ['/admin', '/.git/config', '/phpmyadmin'],
    rate: 50,
    detection: { level: 'high', score: 0.88, bot: 'Go net/http', campaign: CAMPAIGN_ID },
  },
  {
    ip: '198.51.100.9',
    ja4: JA4_GO,
    ua: UA_CHROME,
    host: 'api.example',
    paths: ['/login', '/api/v1/session'],
    rate: 45,
    detection: { level: 'high', score: 0.83, bot: '', campaign: CAMPAIGN_ID },
  },
  {
    ip: '2001:db8::5',
    ja4: JA4_PYTHON,
    ua: UA_PYTHON,
    host: 'api.example',
    paths: ['/api/v1/items', '/api/v1/items/2'],
    rate: 25,
    detection: { level: 'medium', score: 0.71, bot: '', campaign: '' },
  },
];

/** hours of traffic, ending with the current hour */
export const HOURS = 4;

const hourMs = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export interface BrowserData {
  requests: number;
  detections: number;
  /** the start of the oldest hour, ms */
  fromMs: number;
}

/** Fills a migrated storage. Every row lies in the last HOURS hours (before now). */
export async function fillBrowserData(storage: Storage, scratch: string): Promise<BrowserData> {
  await loadReferenceData(storage, writeTestReferenceDir(join(scratch, 'ref')));
  const rand = rng(8);
  const now = Date.now();
  const firstHour = (Math.floor(now / hourMs) - (HOURS - 1)) * hourMs;
  const ingest: Record<string, unknown>[] = [];
  const scores: Record<string, unknown>[] = [];
  const detections: Record<string, unknown>[] = [];
  let n = 0;
  for (let h = 0; h < HOURS; h++) {
    const hourStart = firstHour + h * hourMs;
    // the current hour only up to a minute ago
    const span = Math.min(hourMs, now - 60_000 - hourStart);
    if (span <= 0) continue;
    for (const c of CLIENTS) {
      const count = Math.max(1, Math.round((c.rate * span) / hourMs));
      let port = 40000 + (n % 20000);
      for (let i = 0; i < count; i++) {
        const ts = hourStart + Math.floor(rand() * span);
        const path = c.paths[Math.floor(rand() * c.paths.length)]!;
        const bot = c.detection !== undefined;
        n++;
        if (i % 5 === 0) port++;
        ingest.push({
          ts: ts * 1000,
          request_id: `br-${n}`,
          conn_id: `conn-${c.ip}-${port}`,
          request_seq: (i % 5) + 1,
          client_ip: c.ip,
          client_port: port,
          method: path.startsWith('/login') ? 'POST' : 'GET',
          scheme: 'https',
          host: c.host,
          uri: path,
          protocol: c.ja4.startsWith('t13d1516h2') ? 'HTTP/2' : 'HTTP/1.1',
          status: bot && rand() < 0.6 ? 404 : rand() < 0.05 ? 500 : 200,
          bytes_out: 500 + Math.floor(rand() * 5000),
          header_names: bot ? ['Host', 'User-Agent'] : ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Referer'],
          headers: bot ? { 'user-agent': c.ua } : { 'user-agent': c.ua, accept: 'text/html', 'accept-language': 'fr-FR', referer: `https://${c.host}/` },
          cookie_names: bot ? [] : ['sid'],
          ja4h: bot ? 'ge11nn020000_aaaaaaaaaaaa_000000000000_000000000000' : 'ge20cr05frfr_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc',
          alpn: c.ja4.startsWith('t13d1516h2') ? 'h2' : 'http/1.1',
          sni: c.host,
          ja4: c.ja4,
          correlation_status: 'matched',
        });
      }
      const windowStart = iso(hourStart).slice(0, 19);
      const scoredAt = iso(Math.min(hourStart + hourMs, now - 30_000));
      const d = c.detection;
      const score = d?.score ?? 0.05 + rand() * 0.1;
      scores.push({
        scored_at: scoredAt,
        window_start: windowStart,
        window: '1h',
        client_ip: c.ip,
        ja4: c.ja4,
        host: c.host,
        model_version: 'test-model-1',
        score,
        score_iforest: Math.min(1, score + 0.02),
        score_autoencoder: Math.max(0, score - 0.05),
        score_gbt: score,
        threat_level: d?.level ?? 'low',
        is_anomaly: d !== undefined,
        bot_name: d?.bot ?? '',
      });
      if (d !== undefined) {
        detections.push({
          detected_at: scoredAt,
          window_start: windowStart,
          window: '1h',
          client_ip: c.ip,
          ja4: c.ja4,
          host: c.host,
          model_version: 'test-model-1',
          score: d.score,
          threat_level: d.level,
          voices: d.score > 0.85 ? ['iforest', 'gbt'] : ['gbt'],
          bot_name: d.bot,
          campaign_id: d.campaign,
          top_features: ['status_4xx_ratio', 'no_referer_ratio', 'iat_cv'],
          top_contributions: [0.31, 0.22, 0.12],
          features: { status_4xx_ratio: 0.6, no_referer_ratio: 1, iat_cv: 0.08 },
          requests: count,
          asn: c.ip.startsWith('198.51.100.') ? 64501 : c.ip.startsWith('2001:db8:') ? 64502 : 64500,
          country: c.ip.startsWith('198.51.100.') ? 'DE' : c.ip.startsWith('2001:db8:') ? 'NL' : 'FR',
          user_agent: c.ua,
        });
      }
    }
  }
  await storage.insertRows(TABLES.httpLogsIngest, ingest);
  await storage.insertRows(TABLES.mlAllScores, scores);
  await storage.insertRows(TABLES.mlDetectedAnomalies, detections);
  return { requests: ingest.length, detections: detections.length, fromMs: firstHour };
}

/** A detection as the detector would publish it live (for the wall test). */
export function liveDetection(ip = '198.51.100.77'): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    detected_at: now,
    window_start: now.slice(0, 14) + '00:00.000Z',
    window: '5m',
    client_ip: ip,
    ja4: JA4_GO,
    host: 'shop.example',
    model_version: 'test-model-1',
    score: 0.99,
    threat_level: 'critical',
    voices: ['iforest', 'gbt'],
    bot_name: 'Go net/http',
    campaign_id: CAMPAIGN_ID,
    top_features: ['status_4xx_ratio'],
    top_contributions: [0.4],
    requests: 120,
    asn: 64501,
    country: 'DE',
    user_agent: UA_GO,
  };
}
