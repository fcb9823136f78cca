// The upgrade backfill of an aggregate migration (its INSERT ... SELECT
// statements), checked the same way by each aggregate's test: what the
// tables hold now, emptied, then recomputed by the backfill, is the same.
import type { Test } from 'tap';
import { DEFAULT_RETENTION, loadMigrationFiles, renderMigration, type Storage } from '../../src/storage/index.js';

export interface BackfillTarget {
  table: string;
  /** a query of the table's rows, in a stable order */
  rows: string;
}

/** Asserts that migration `name`'s `inserts` INSERT statements rebuild every target's rows exactly. */
export async function assertBackfillRecomputes(t: Test, storage: Storage, name: string, inserts: number, targets: BackfillTarget[], what: string): Promise<void> {
  const rowsOf = () => Promise.all(targets.map((x) => storage.query(x.rows)));
  const before = await rowsOf();
  const file = loadMigrationFiles().find((f) => f.name === name);
  t.ok(file, 'the migration file');
  const backfill = renderMigration(file!, { server: false, retention: DEFAULT_RETENTION }).filter((s) => s.includes('INSERT INTO'));
  t.equal(backfill.length, inserts, `${inserts} INSERT${inserts === 1 ? '' : 's'}`);
  for (const x of targets) await storage.command(`TRUNCATE TABLE ${x.table}`);
  t.same(await rowsOf(), targets.map(() => []), 'emptied');
  for (const sql of backfill) await storage.command(sql);
  t.same(await rowsOf(), before, what);
}
