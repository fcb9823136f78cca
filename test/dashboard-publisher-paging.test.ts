// The live detections feed (src/dashboard/publisher.ts) on the real engine:
// one scoring pass writes all its detections with one detected_at, so a
// pass larger than one query's page must not stop the feed; and the API's
// times without a zone are UTC whatever the server's zone.
import t from 'tap';
import type { Detection } from '../src/dashboard/api-types.js';
import { rangeParam } from '../src/dashboard/http/params.js';
import { startPublisher } from '../src/dashboard/publisher.js';
import type { Hub } from '../src/dashboard/ws/hub.js';
import { openTestStorage } from './helpers/storage-fixture.js';

const JA4 = 't13d190900_9dc949149365_97f8aa674fd9';

function detection(atMs: number, i: number, host = 'shop.example'): Record<string, unknown> {
  return {
    detected_at: atMs,
    window_start: Math.floor(atMs / 1000) - 300,
    window: '5m',
    client_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    ja4: JA4,
    host,
    model_version: 'm1',
    score: 0.9,
    threat_level: 'high',
    voices: ['gbt'],
    bot_name: '',
    campaign_id: '',
    top_features: [],
    top_contributions: [],
    features: {},
    requests: 1,
    asn: 1,
    country: 'DE',
    user_agent: 'x',
  };
}

t.test('a scoring pass larger than a page does not stop the live feed', async (t) => {
  const storage = await openTestStorage(t);
  const table = storage.tables.write('mlDetectedAnomalies');
  const published: Detection[] = [];
  const hub = { publishDetection: (d: Detection) => published.push(d), publish: () => 0, subscribers: () => 0 } as unknown as Hub;
  const pub = startPublisher(storage, hub, async () => ({}) as never, { detectionsMs: 0, kpisMs: 0, healthMs: 0, batchLimit: 500, maxPagesPerPoll: 3 });
  t.teardown(() => pub.stop());
  await pub.pollDetections(); // learns the (empty) table

  const T = Date.now();
  // one pass: 1,200 detections with one detected_at, two of them per client
  // (two hosts), more than two pages of 500
  const pass = Array.from({ length: 1200 }, (_, i) => detection(T, i >> 1, i % 2 ? 'a.example' : 'b.example'));
  await storage.insertRows(table, pass);
  t.equal(await pub.pollDetections(), 1200, 'the whole pass in one poll (three pages)');
  t.equal(new Set(published.map((d) => `${d.client_ip}|${d.host}`)).size, 1200, 'each detection once');
  t.equal(await pub.pollDetections(), 0, 'nothing twice on the next poll (the pass is still in the look-back)');

  await storage.insertRows(table, [detection(T + 5000, 900_001), detection(T + 5000, 900_002)]);
  t.equal(await pub.pollDetections(), 2, 'the next pass, 5 s later, is published: the feed did not stall');

  // more than one poll reads (3 pages of 500): the rest comes on the next polls
  const big = Array.from({ length: 2000 }, (_, i) => detection(T + 10_000, 100_000 + i));
  await storage.insertRows(table, big);
  const first = await pub.pollDetections();
  t.equal(first, 1500, 'a poll stops at its page limit (three pages of 500 after the last key read)');
  let rest = 0;
  for (let i = 0; i < 4; i++) rest += await pub.pollDetections();
  t.equal(first + rest, 2000, 'the following polls go on from where it stopped');
  await storage.insertRows(table, [detection(T + 15_000, 900_003)]);
  t.equal(await pub.pollDetections(), 1, 'and newer detections still come through');
  // a row written late, behind newer ones (inside the look-back)
  await storage.insertRows(table, [detection(T + 1000, 900_004)]);
  const late = await pub.pollDetections();
  t.equal(late, 1, 'a detection written late is published too');
  t.equal(published.at(-1)?.client_ip, '10.13.187.164', 'the late one');
  t.equal(await pub.pollDetections(), 0, 'and only once');
  t.equal(published.length, 1200 + 2 + 2000 + 1 + 1, 'none published twice');
});

t.test('a time without a zone is UTC, not the server\'s local time', async (t) => {
  const tz = process.env.TZ;
  process.env.TZ = 'Europe/Paris';
  t.teardown(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });
  t.equal(new Date(2026, 10, 22, 10).getUTCHours(), 9, 'the process runs in Paris time (UTC+1 in November)');
  const q = new URLSearchParams({ from: '2026-11-22 10:00:00', to: '2026-11-22T11:30' });
  const r = rangeParam(q, { now: new Date('2026-11-23T00:00:00Z') });
  t.equal(r.from.toISOString(), '2026-11-22T10:00:00.000Z');
  t.equal(r.to.toISOString(), '2026-11-22T11:30:00.000Z');
  const zoned = rangeParam(new URLSearchParams({ from: '2026-11-22T10:00:00+01:00', to: '2026-11-23' }), { now: new Date('2026-11-24T00:00:00Z') });
  t.equal(zoned.from.toISOString(), '2026-11-22T09:00:00.000Z', 'an explicit offset is kept');
  t.equal(zoned.to.toISOString(), '2026-11-23T00:00:00.000Z', 'a date alone is midnight UTC');
});
