// Campaigns across windows: clusters of one window that continue the same
// stored campaign (its members seen within CAMPAIGN_MEMORY_S) become that one
// campaign, written once. HDBSCAN may split a botnet in two; both halves used
// to be written under the prior campaign's id, in one insert, and the
// ReplacingMergeTree kept only one of the two rows.
import t from 'tap';
import { findCampaigns, writeCampaigns, type Campaign, type CampaignMemberRow } from '../src/detector/run/campaigns.js';
import { TABLES } from '../src/storage/index.js';
import { openTestStorage } from './helpers/storage-fixture.js';

t.test('two clusters continuing one stored campaign: one campaign, every member', async (t) => {
  const storage = await openTestStorage(t);
  const startS = 1_900_000_000 - (1_900_000_000 % 300);
  const ips = Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}`);
  const prior: Campaign = {
    id: 'c-prior', members: ips, ja4s: ['t13d1516h2_8daaf6152771_02713d6af862'], hosts: ['shop.example'],
    firstSeen: startS - 3600, lastSeen: startS - 300, detections: 40, maxScore: 0.99, meanScore: 0.95, threatLevel: 'high', topFeatures: ['iat_cv'],
  };
  await writeCampaigns(storage, [prior], '5m', 'v1', (startS - 300) * 1000);
  // two tight groups, far apart: two clusters for HDBSCAN
  const rows: CampaignMemberRow[] = ips.map((ip, i) => {
    const v = new Float64Array(4);
    const base = i < 10 ? 0 : 6;
    for (let j = 0; j < 4; j++) v[j] = base + ((i * 7 + j * 3) % 5) * 0.01;
    return { clientIp: ip, ja4: prior.ja4s[0]!, host: 'shop.example', score: 0.97, threatLevel: 'high', topFeatures: ['iat_cv'], vector: v };
  });
  const { byIp, campaigns } = await findCampaigns(storage, rows, { kind: '5m', startS, endS: startS + 300 });
  t.same(campaigns.map((c) => c.id), ['c-prior'], 'one campaign, the stored one continued');
  t.same(campaigns[0]!.members, [...ips].sort(), 'every member');
  t.equal(campaigns[0]!.detections, 40 + 20, 'the prior detections and this window\'s');
  t.ok(ips.every((ip) => byIp.get(ip) === 'c-prior'), 'every detection carries its id');
  await writeCampaigns(storage, campaigns, '5m', 'v1', startS * 1000);
  const [stored] = await storage.query<{ n: number; detections: number }>(`SELECT count() AS n, any(detections) AS detections FROM ${TABLES.mlCampaigns} FINAL WHERE campaign_id = 'c-prior'`);
  t.same(stored, { n: 1, detections: 60 });
});
