// `ja4 db import`: an http_logs export (JSONEachRow or Native) goes back in,
// optionally shifted to now, and feeds the aggregates; plus the storage
// options and the one-thread rule of the embedded engine.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { main } from '../src/cli/main.js';
import { TABLES, importFormatOf, openStorage, validateStorageOptions } from '../src/storage/index.js';
import { fixtureHourUs, fixtureRows, openTestStorage, storageScratchDir } from './helpers/storage-fixture.js';

async function ja4(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

t.test('export, then import with and without --shift-to-now', async (t) => {
  const scratch = storageScratchDir(t);
  const jsonl = join(scratch, 'http_logs.jsonl');
  const native = join(scratch, 'http_logs.native');
  const rows = fixtureRows(fixtureHourUs() - 48 * 3_600_000_000); // two days older
  {
    const src = await openTestStorage(t, { dir: join(scratch, 'src') });
    await src.insertRows(TABLES.httpLogsIngest, rows as unknown as Record<string, unknown>[]);
    const rs = await src.client.query({ query: `SELECT * FROM ${TABLES.httpLogs} ORDER BY ts`, format: 'JSONEachRow' });
    writeFileSync(jsonl, await rs.text());
    // Native is binary: the engine writes it itself
    await src.command(`SELECT * FROM ${TABLES.httpLogs} ORDER BY ts INTO OUTFILE {p:String} FORMAT Native`.replace('{p:String}', `'${native}'`));
    await src.close();
  }
  t.ok(existsSync(native), 'Native export written');
  const dir = join(scratch, 'dst');
  t.equal((await ja4(['db', 'migrate', '--db-dir', dir])).code, 0);
  const plain = await ja4(['db', 'import', jsonl, '--db-dir', dir]);
  t.equal(plain.code, 0, plain.err);
  t.equal(plain.out, `${rows.length} rows imported from ${jsonl} (JSONEachRow)\n`);
  const shifted = await ja4(['db', 'import', native, '--shift-to-now', '--db-dir', dir]);
  t.equal(shifted.code, 0, shifted.err);
  t.match(shifted.out, new RegExp(`^${rows.length} rows imported from .*http_logs\\.native \\(Native\\), timestamps shifted by \\d+ s\\n$`));

  const storage = await openTestStorage(t, { dir, migrate: false });
  const [r] = await storage.query<Record<string, number>>(
    `SELECT count() AS n, countIf(ts > now() - INTERVAL 1 HOUR) AS recent,
            dateDiff('second', max(ts), now()) AS age_s, uniqExact(request_id) AS ids,
            (SELECT sum(requests) FROM ${TABLES.aggJa4}) AS aggregated,
            (SELECT count() FROM system.tables WHERE name LIKE 'import_staging_%') AS staging_left
     FROM ${TABLES.httpLogs}`,
  );
  t.equal(r!.n, rows.length * 2, 'both imports landed');
  t.ok(r!.age_s! >= 0 && r!.age_s! < 120, 'the shifted copy ends now');
  t.ok(r!.recent! >= 1, 'shifted rows are recent');
  t.equal(r!.aggregated, rows.length * 2, 'the hourly aggregates saw every imported row');
  t.equal(r!.staging_left, 0, 'no staging table left behind');
  const [gaps] = await storage.query<{ same: number }>(
    `SELECT count() = 0 AS same FROM (
       SELECT request_id, max(ts) - min(ts) AS d FROM ${TABLES.httpLogs} GROUP BY request_id
     ) WHERE d != (SELECT max(d) FROM (SELECT request_id, max(ts) - min(ts) AS d FROM ${TABLES.httpLogs} GROUP BY request_id))`,
  );
  t.equal(gaps!.same, 1, 'every row shifted by the same amount (gaps kept)');
  await storage.close();

  const missing = await ja4(['db', 'import', join(scratch, 'nope.jsonl'), '--db-dir', dir]);
  t.equal(missing.code, 2);
  t.match(missing.err, /nope\.jsonl: no such file \[ERR_IMPORT\]/);
  writeFileSync(join(scratch, 'bad.jsonl'), '{"ts": "not a time"\n');
  const bad = await ja4(['db', 'import', join(scratch, 'bad.jsonl'), '--db-dir', dir]);
  t.equal(bad.code, 2);
  t.match(bad.err, /bad\.jsonl: not a JSONEachRow export of http_logs/);
  // JSON lines that are not an http_logs export: refused whole (they loaded
  // as rows of defaults, client ::, which the aggregates keep for good)
  writeFileSync(join(scratch, 'other.jsonl'), '{"foo":1}\n{"foo":2}\n');
  const other = await ja4(['db', 'import', join(scratch, 'other.jsonl'), '--db-dir', dir]);
  t.equal(other.code, 2);
  t.match(other.err, /other\.jsonl: not an export of http_logs: 2 of 2 rows lack ts, request_id or client_ip; nothing imported/);
  // a name with glob characters is read as it is (file() expanded it)
  const literal = join(scratch, 'lit-{a,b}.jsonl');
  writeFileSync(literal, readFileSync(jsonl, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
  writeFileSync(join(scratch, 'lit-a.jsonl'), readFileSync(jsonl, 'utf8'));
  const lit = await ja4(['db', 'import', literal, '--db-dir', dir]);
  t.equal(lit.code, 0, lit.err);
  t.match(lit.out, /^2 rows imported from .*lit-\{a,b\}\.jsonl/, 'the file named, not lit-a.jsonl');
  t.equal(lit.err, '', 'two days old: within the retention, nothing to say');
  // rows older than the http_logs retention: imported (the aggregates count
  // them) but dropped from http_logs by its TTL, so the command says so
  const aged = join(scratch, 'aged.jsonl');
  const back = (ts: string) => new Date(Date.parse(`${ts.replace(' ', 'T')}Z`) - 40 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '000');
  writeFileSync(aged, readFileSync(jsonl, 'utf8').split('\n').filter(Boolean).slice(0, 3).map((l) => {
    const o = JSON.parse(l) as { ts: string };
    return JSON.stringify({ ...o, ts: back(o.ts) });
  }).join('\n') + '\n');
  const old = await ja4(['db', 'import', aged, '--db-dir', dir]);
  t.equal(old.code, 0, old.err);
  t.equal(old.err, 'ja4 db import: 3 of them are older than the http_logs retention (30 days): the hourly aggregates count them, http_logs drops them (--shift-to-now moves them to now)\n');
  // an export spanning 120 days (one daily partition each): one insert of
  // 120 partitions, above the engine's default of 100 per block
  const first = JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]!) as { ts: string; request_id: string };
  const spread = join(scratch, 'spread.jsonl');
  writeFileSync(spread, Array.from({ length: 120 }, (_, d) => JSON.stringify({
    ...first,
    request_id: `${first.request_id}-d${d}`,
    ts: new Date(Date.parse(`${first.ts.replace(' ', 'T')}Z`) - d * 86_400_000).toISOString().replace('T', ' ').replace('Z', '000'),
  })).join('\n') + '\n');
  const wide = await ja4(['db', 'import', spread, '--shift-to-now', '--db-dir', dir]);
  t.equal(wide.code, 0, wide.err);
  t.match(wide.out, /^120 rows imported/);
  const check = await openTestStorage(t, { dir, migrate: false });
  const [after] = await check.query<{ n: number; defaults: number }>(`SELECT count() AS n, countIf(client_ip = toIPv6('::')) AS defaults FROM ${TABLES.httpLogs}`);
  t.same([after!.n >= rows.length * 2 + 2, after!.defaults], [true, 0], 'nothing from the refused file, the rows of the literal one');
  await check.close();
  t.throws(() => importFormatOf('x.csv'), { code: 'ERR_IMPORT', message: /give --format/ });
  t.equal(importFormatOf('x.csv', 'native'), 'Native');
});

t.test('storage options are validated with the option named', async (t) => {
  t.match(validateStorageOptions({}), { mode: 'embedded', dataDir: '/var/lib/ja4/db', retention: { http_logs: 30 } });
  const server = validateStorageOptions({ url: 'https://ja4:s%40cret@ch.example:8443/', cluster: 'ja4_c' });
  t.match(server, { mode: 'server', url: 'https://ch.example:8443', username: 'ja4', password: 's@cret', cluster: 'ja4_c' }, 'credentials moved out of the URL');
  t.same(validateStorageOptions({ retention: 'http_logs=14, raw=3' }).retention, { raw: 3, http_logs: 14, aggregates: 180, scores: 30, anomalies: 180, audit: 730, reference: 3650, classifications: 3650 });
  const bad: [Parameters<typeof validateStorageOptions>[0], RegExp][] = [
    [{ url: 'ftp://x' }, /^url \(--clickhouse-url \/ CLICKHOUSE_URL\) must be http:\/\/ or https:\/\//],
    [{ url: 'not a url' }, /^url .* is not a URL/],
    [{ cluster: 'c1' }, /^cluster .* needs a server/],
    [{ url: 'http://h:8123', cluster: 'bad name' }, /^cluster .* must be a ClickHouse cluster name/],
    [{ url: 'http://h:8123', caCertPath: '/x.pem' }, /^tls .* needs an https:\/\/ --clickhouse-url/],
    [{ url: 'https://h:8443', certPath: '/c.pem' }, /a client certificate needs its key/],
    [{ url: 'https://h:8443', caCertPath: '/nonexistent/ca.pem' }, /^tls\.caCert \(--clickhouse-ca\) cannot read/],
    [{ retention: 'logs=3' }, /^retention has unknown table family "logs"/],
    [{ retention: 'toString=5' }, /^retention has unknown table family "toString"/],
    [{ retention: 'raw=abc' }, /^retention\.raw must be a whole number of days/],
    // past 2106 a DateTime TTL wraps around and would drop every part
    [{ retention: 'audit=25001' }, /^retention\.audit must be a whole number of days between 1 and 25000, got "25001"/],
    [{ dataDir: '' }, /^dataDir \(--db-dir\) must be a non-empty path/],
  ];
  for (const [input, message] of bad) t.throws(() => validateStorageOptions(input), { code: 'ERR_STORAGE_OPTION', message });
});

t.test('one embedded directory per process, and never from a worker thread', async (t) => {
  const scratch = storageScratchDir(t);
  const a = await openStorage(validateStorageOptions({ dataDir: join(scratch, 'a') }));
  await t.rejects(openStorage(validateStorageOptions({ dataDir: join(scratch, 'b') })), { code: 'ERR_STORAGE_ALREADY_OPEN' });
  await a.close();
  await t.rejects(a.query('SELECT 1'), { code: 'ERR_STORAGE_CLOSED' });
  const b = await openStorage(validateStorageOptions({ dataDir: join(scratch, 'b') }));
  t.same(await b.query('SELECT 1 AS one'), [{ one: 1 }], 'another directory once the first is closed');
  await b.close();
  const code = await new Promise<string>((resolve, reject) => {
    const w = new Worker(new URL('./helpers/storage-worker-open.ts', import.meta.url), { workerData: { dir: join(scratch, 'w') }, execArgv: process.execArgv });
    w.once('message', resolve);
    w.once('error', reject);
  });
  t.equal(code, 'ERR_STORAGE_THREAD', 'a worker is refused');
});
