// A statement's settings apply to that statement only, in the embedded
// engine too: chDB's connection runs `clickhouse_settings` as session-wide
// SETs, so an insert's deduplication token stayed for the whole process and
// every later insert into a table with a deduplication window was dropped
// as a duplicate (storage/settings-clause.ts).
import t from 'tap';
import { openTestStorage } from './helpers/storage-fixture.js';
import { settingsClause, withSettings } from '../src/storage/settings-clause.js';

const T = 'default.settings_scope';

t.test('settings clause: names checked, values quoted', async (t) => {
  t.equal(settingsClause({ insert_deduplication_token: "a'b", max_execution_time: 3, x: true } as never), "SETTINGS insert_deduplication_token = 'a\\'b', max_execution_time = 3, x = 1");
  t.equal(settingsClause({}), '');
  t.equal(withSettings('SELECT 1 -- why\n;  ', { max_threads: 1 }), 'SELECT 1 -- why\nSETTINGS max_threads = 1');
  t.throws(() => settingsClause({ 'a;b': 1 } as never), { message: 'invalid setting name "a;b"' });
});

t.test('embedded: an insert\'s deduplication token, a query\'s and a command\'s settings do not outlive their statement', async (t) => {
  const storage = await openTestStorage(t, { migrate: false });
  await storage.command(`CREATE TABLE ${T} (x UInt32) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 100`);
  const rows = async (): Promise<number[]> => (await storage.query<{ x: number }>(`SELECT x FROM ${T} ORDER BY x`)).map((r) => r.x);
  const setting = async (name: string): Promise<string> => (await storage.query<{ v: string }>('SELECT toString(getSetting({n:String})) AS v', { n: name }))[0]!.v;

  await storage.insertEncoded(T, Buffer.from('{"x":1}\n'), 'JSONEachRow', { insert_deduplication_token: 'batch-1' });
  await storage.insertEncoded(T, Buffer.from('{"x":2}\n'), 'JSONEachRow', { insert_deduplication_token: 'batch-1' });
  t.same(await rows(), [1], 'the token applies to its insert: a replay with the same token is dropped');
  await storage.insertRows(T, [{ x: 3 }]);
  await storage.insertRows(T, [{ x: 4 }]);
  await storage.insertEncoded(T, Buffer.from('{"x":5}\n'), 'JSONEachRow');
  t.same(await rows(), [1, 3, 4, 5], 'later inserts without a token are all kept');
  t.equal(await setting('insert_deduplication_token'), '', 'the session has no token');

  await storage.insertRows(T, [{ x: 6 }], { insert_deduplication_token: 'rows-1' });
  await storage.insertRows(T, [{ x: 7 }], { insert_deduplication_token: 'rows-1' });
  await storage.insertRows(T, [{ x: 8 }]);
  t.same(await rows(), [1, 3, 4, 5, 6, 8], 'insertRows: the token applies to its insert only');

  t.same(await storage.query<{ v: string }>("SELECT toString(getSetting('max_execution_time')) AS v", {}, { max_execution_time: 7 }), [{ v: '7' }], 'a query sees its settings');
  t.equal(await setting('max_execution_time'), '0', 'the next one does not');
  await storage.command(`INSERT INTO ${T} SELECT 9`, {}, { max_insert_block_size: '12345' });
  t.not(await setting('max_insert_block_size'), '12345', 'a command\'s settings end with it');
  t.same(await rows(), [1, 3, 4, 5, 6, 8, 9]);
});
