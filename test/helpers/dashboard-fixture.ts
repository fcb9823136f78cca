// The dashboard over a real embedded database: the storage fixture's
// requests (four clients, see storage-fixture.ts) inserted the way the
// correlator writes them, detector scores and detections written directly
// (their values below), three users (one per role), and the server started
// in-process on an ephemeral loopback port. `api()` is a real HTTP client.
import { join } from 'node:path';
import { TABLES, loadReferenceData, type Storage } from '../../src/storage/index.js';
import { startDashboard, type Dashboard, type DashboardOptions } from '../../src/dashboard/server.js';
import { UserStore } from '../../src/dashboard/auth/user-store.js';
import { INJECTION, JA4_CHROME, JA4_GO, UA_CHROME, UA_GO, fixtureHourUs, fixtureRows, openTestStorage, storageScratchDir, writeTestReferenceDir } from './storage-fixture.js';
import type { Teardown } from './scratch-dir.js';
import { silentLogger } from '../../src/config/index.js';

export const PASSWORD = 'correct horse battery staple';
/** cheap scrypt for tests (the default costs ~100 ms per hash) */
export const TEST_SCRYPT_COST = 1024;
export const USERS = { admin: 'ada', analyst: 'ann', viewer: 'vic' } as const;
export const CAMPAIGN = 'camp-go-1';
export const IP_A = '203.0.113.10';
export const IP_B = '198.51.100.7';
export const IP_C = '66.249.66.1';
export const IP_D = '2001:db8::5';

export interface DashboardFixture {
  storage: Storage;
  dashboard: Dashboard;
  /** start of the fixture's hour (ms) */
  hourMs: number;
  users: UserStore;
}

/** The detections the fixture writes (ml_detected_anomalies), newest last. */
export function fixtureDetections(hourMs: number): Record<string, unknown>[] {
  const base = { window: '1h', window_start: Math.floor(hourMs / 1000), host: 'shop.example', model_version: 'm1', features: {} };
  return [
    {
      ...base,
      detected_at: hourMs + 30 * 60_000,
      client_ip: IP_B,
      ja4: JA4_GO,
      score: 0.93,
      threat_level: 'high',
      voices: ['iforest', 'gbt'],
      bot_name: 'Go net/http',
      campaign_id: CAMPAIGN,
      top_features: ['iat_cv', 'status_4xx_ratio'],
      top_contributions: [0.4, 0.3],
      requests: 4,
      asn: 64501,
      country: 'DE',
      user_agent: UA_GO,
    },
    {
      ...base,
      detected_at: hourMs + 31 * 60_000,
      client_ip: IP_D,
      ja4: JA4_GO,
      score: 0.97,
      threat_level: 'critical',
      voices: ['gbt'],
      bot_name: 'Go net/http',
      campaign_id: CAMPAIGN,
      top_features: ['ua_ja4_mismatch_ratio'],
      top_contributions: [0.8],
      requests: 1,
      asn: 64502,
      country: 'NL',
      user_agent: UA_CHROME,
    },
    {
      ...base,
      detected_at: hourMs + 40 * 60_000,
      client_ip: IP_A,
      ja4: JA4_CHROME,
      score: 0.71,
      threat_level: 'medium',
      voices: ['autoencoder'],
      bot_name: '',
      campaign_id: '',
      top_features: ['iat_cv'],
      top_contributions: [0.2],
      requests: 6,
      asn: 64500,
      country: 'FR',
      // stored and returned as data, never run
      user_agent: INJECTION,
    },
  ];
}

export function fixtureScores(hourMs: number): Record<string, unknown>[] {
  const base = { window: '1h', window_start: Math.floor(hourMs / 1000), model_version: 'm1', scored_at: hourMs + 29 * 60_000, score_iforest: 0.5, score_autoencoder: 0.5, score_gbt: 0.5, bot_name: '' };
  return [
    { ...base, client_ip: IP_A, ja4: JA4_CHROME, host: 'shop.example', score: 0.71, threat_level: 'medium', is_anomaly: true },
    { ...base, client_ip: IP_B, ja4: JA4_GO, host: 'shop.example', score: 0.93, score_gbt: 0.99, threat_level: 'high', is_anomaly: true, bot_name: 'Go net/http' },
    { ...base, client_ip: IP_C, ja4: JA4_CHROME, host: 'blog.example', score: 0.12, threat_level: 'low', is_anomaly: false },
    { ...base, client_ip: IP_D, ja4: JA4_GO, host: 'shop.example', score: 0.97, threat_level: 'critical', is_anomaly: true, bot_name: 'Go net/http' },
  ];
}

export async function startDashboardFixture(t: Teardown, opts: DashboardOptions = {}): Promise<DashboardFixture> {
  const storage = await openTestStorage(t);
  await loadReferenceData(storage, writeTestReferenceDir(join(storageScratchDir(t), 'ref')));
  const hourUs = fixtureHourUs();
  const hourMs = hourUs / 1000;
  await storage.insertRows(TABLES.httpLogsIngest, fixtureRows(hourUs) as unknown as Record<string, unknown>[]);
  await storage.insertRows(TABLES.mlAllScores, fixtureScores(hourMs));
  await storage.insertRows(TABLES.mlDetectedAnomalies, fixtureDetections(hourMs));
  const users = new UserStore(storage, TEST_SCRYPT_COST);
  for (const [role, name] of Object.entries(USERS)) await users.add(name, role as 'admin', PASSWORD);
  const dashboard = await startDashboard(storage, { listen: '127.0.0.1:0', scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger(), ...opts });
  // stop() makes no query, so its order with the storage's close() does not matter
  t.teardown(() => dashboard.stop());
  return { storage, dashboard, hourMs, users };
}

export interface Login {
  cookie: string;
  csrf: string;
}

export interface ApiResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A real HTTP request to the fixture's server. */
export async function api<T = any>(
  d: Dashboard,
  path: string,
  opts: { method?: string; body?: unknown; login?: Login; csrf?: string | false; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.login) headers.cookie = opts.login.cookie;
  const csrf = opts.csrf === undefined ? opts.login?.csrf : opts.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(d.url + path, { method: opts.method ?? 'GET', headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = text as T;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export async function login(d: Dashboard, name: string, password = PASSWORD): Promise<Login> {
  const r = await api<{ csrf_token: string }>(d, '/api/auth/login', { method: 'POST', body: { username: name, password } });
  if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${r.text}`);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie, csrf: r.body.csrf_token };
}
