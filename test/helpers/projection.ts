// Projection checks shared by the tests of sql/0019-0020's projections:
// the projection exists, and the engine's plan for a query reads it.
import type { Test } from 'tap';
import type { QueryParams, Storage } from '../../src/storage/index.js';

/** Asserts that `table` has the projection `name` and that EXPLAIN of `sql` (with `params`) names it. */
export async function assertReadsProjection(t: Test, storage: Storage, table: string, name: string, sql: string, params: QueryParams): Promise<void> {
  const [p] = await storage.query<{ n: number }>(
    `SELECT count() AS n FROM system.projections WHERE database = 'ja4_processing' AND table = {table:String} AND name = {name:String}`,
    { table, name },
  );
  t.equal(p!.n, 1, `${name} on ${table}`);
  const plan = (await storage.query<{ explain: string }>(`EXPLAIN ${sql}`, params)).map((r) => r.explain).join('\n');
  t.match(plan, new RegExp(name), 'the plan reads the projection');
}
