// Paging through detections and an IP's scores on the real engine, when
// many rows tie on the sort key: one scoring pass writes its detections
// with one detected_at, and a catch-up pass scores many windows of one
// client at one scored_at. Rows in several parts (several inserts) are read
// in an order that may change between queries unless the ORDER BY ends in
// the row's whole key: every row must be seen once over all pages.
import t from 'tap';
import { UserStore } from '../src/dashboard/auth/user-store.js';
import { startDashboard } from '../src/dashboard/server.js';
import { silentLogger } from '../src/config/index.js';
import { PASSWORD, TEST_SCRYPT_COST, api, login } from './helpers/dashboard-fixture.js';
import { openTestStorage } from './helpers/storage-fixture.js';

const JA4 = 't13d190900_9dc949149365_97f8aa674fd9';

t.test('every row once over all pages, ties on the sort key included', async (t) => {
  const storage = await openTestStorage(t);
  const users = new UserStore(storage, TEST_SCRYPT_COST);
  await users.add('vic', 'viewer', PASSWORD);
  const T = Date.now() - 30_000;
  const windowS = Math.floor(T / 3_600_000) * 3600;

  // one pass: 50 clients x 2 hosts x 2 windows x 8 parts, one detected_at
  for (let part = 0; part < 8; part++) {
    const rows: Record<string, unknown>[] = [];
    for (let i = part * 50; i < part * 50 + 50; i++) {
      for (const host of ['a.example', 'b.example']) {
        for (const w of [0, 1]) {
          rows.push({
            detected_at: T, window_start: windowS - 300 * (w + 1), window: '5m', client_ip: `10.1.${i >> 8}.${i & 255}`, ja4: JA4, host,
            model_version: 'm1', score: 0.9, threat_level: 'high', voices: ['gbt'], bot_name: '', campaign_id: '', top_features: [], top_contributions: [],
            features: {}, requests: 1, asn: 1, country: 'DE', user_agent: 'x',
          });
        }
      }
    }
    await storage.insertRows(storage.tables.write('mlDetectedAnomalies'), rows);
  }
  // a catch-up pass: 240 five-minute windows of one client, one scored_at, in 6 parts
  for (let part = 0; part < 6; part++) {
    const rows = Array.from({ length: 40 }, (_, k) => ({
      scored_at: T, window_start: windowS - 300 * (part * 40 + k), window: '5m', client_ip: '203.0.113.9', ja4: JA4, host: 'shop.example',
      model_version: 'm1', score: 0.2, score_iforest: 0.1, score_autoencoder: 0.1, score_gbt: 0.1, threat_level: 'low', is_anomaly: false, bot_name: '',
    }));
    await storage.insertRows(storage.tables.write('mlAllScores'), rows);
  }

  const d = await startDashboard(storage, { listen: '127.0.0.1:0', scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger() });
  t.teardown(() => d.stop());
  const vic = await login(d, 'vic');
  const from = new Date((windowS - 86_400) * 1000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();

  for (const sort of ['detected_at', 'score']) {
    const seen = new Map<string, number>();
    for (let offset = 0; offset < 1600; offset += 50) {
      const r = await api(d, `/api/detections?limit=50&offset=${offset}&sort=${sort}&from=${from}&to=${to}`, { login: vic });
      t.equal(r.status, 200);
      for (const x of r.body.items as { client_ip: string; host: string; window_start: string }[]) {
        const k = `${x.client_ip}|${x.host}|${x.window_start}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
    }
    t.equal(seen.size, 1600, `sort=${sort}: every detection seen`);
    t.same([...seen.values()].filter((n) => n > 1), [], `sort=${sort}: none on two pages`);
  }

  const seen = new Map<string, number>();
  for (let offset = 0; offset < 240; offset += 20) {
    const r = await api(d, `/api/ip/203.0.113.9/scores?limit=20&offset=${offset}&from=${from}&to=${to}`, { login: vic });
    t.equal(r.status, 200);
    for (const x of r.body.items as { window_start: string }[]) seen.set(x.window_start, (seen.get(x.window_start) ?? 0) + 1);
  }
  t.equal(seen.size, 240, "an IP's scores: every window seen");
  t.same([...seen.values()].filter((n) => n > 1), [], "an IP's scores: none on two pages");
});
