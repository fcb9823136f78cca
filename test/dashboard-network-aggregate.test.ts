// agg_network_1h (sql/0014), the overview's top ASNs and countries: the
// view fills it from the storage fixture's requests (four clients, one per
// network), and the migration's backfill, run again on an emptied table,
// computes the same rows from agg_host_ip_ja4_1h (what an upgraded
// installation gets for its past hours).
import t from 'tap';
import { join } from 'node:path';
import { TABLES, loadReferenceData } from '../src/storage/index.js';
import { fixtureHourUs, fixtureRows, openTestStorage, storageScratchDir, writeTestReferenceDir } from './helpers/storage-fixture.js';
import { assertBackfillRecomputes } from './helpers/migration-backfill.js';

const storage = await openTestStorage(t);
await loadReferenceData(storage, writeTestReferenceDir(join(storageScratchDir(t), 'ref')));
await storage.insertRows(TABLES.httpLogsIngest, fixtureRows(fixtureHourUs()) as unknown as Record<string, unknown>[]);

const NETWORKS = `SELECT hour, asn, toString(country) AS country, sum(requests) AS requests, sum(automated) AS automated, sum(errors) AS errors,
                         uniqCombinedMerge(12)(client_ips) AS ips
                  FROM ${TABLES.aggNetwork} GROUP BY hour, asn, country ORDER BY requests DESC, asn`;

t.test('the view: one row per hour x ASN x country', async (t) => {
  const rows = await storage.query<Record<string, unknown>>(NETWORKS);
  const hourText = (us: number) => new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19);
  const hour = hourText(fixtureHourUs());
  const next = hourText(fixtureHourUs() + 3_600_000_000);
  // A (FR) 6 requests (404 and 500) and 1 the next hour; B (DE) 4, bot JA4, 403 + 3 x 404;
  // C (US) 2, bot network; D (NL) 1, bot JA4
  t.same(
    rows.map((r) => [r.hour, r.asn, r.country, r.requests, r.automated, r.errors, r.ips]),
    [
      [hour, 64500, 'FR', 6, 0, 2, 1],
      [hour, 64501, 'DE', 4, 4, 4, 1],
      [hour, 15169, 'US', 2, 2, 0, 1],
      [next, 64500, 'FR', 1, 0, 0, 1],
      [hour, 64502, 'NL', 1, 1, 0, 1],
    ],
  );
});

t.test('the backfill of an upgrade computes the same rows from agg_host_ip_ja4_1h', async (t) => {
  await assertBackfillRecomputes(t, storage, '0014_create_network_aggregate.sql', 1, [{ table: TABLES.aggNetwork, rows: NETWORKS }], 'the same hours, networks and counts');
});
