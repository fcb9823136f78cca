// At-least-once writing: the spool's files (durable, ordered, bounded with
// counted drops), and the writer over the real embedded engine through a
// database outage: no batch lost, none stored twice.
//
// The outage is a wrapper around the real Storage that throws while "down"
// (helpers/pipeline-fixture.ts): the embedded engine cannot be made
// unreachable, and a ClickHouse server is not available here; the wrapper
// also lets a test fail an insert *after* the engine took it (a response
// timeout), the case deduplication tokens exist for. A server-mode client on
// a dead port checks that a real connection error is treated as an outage.
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spool, type Batch } from '../src/pipeline/spool.js';
import { DurableWriter, isDataError } from '../src/pipeline/durable-writer.js';
import { clickhouseSink } from '../src/pipeline/sinks.js';
import { openStorage, validateStorageOptions, TABLES } from '../src/storage/index.js';
import { openTestStorage } from './helpers/storage-fixture.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { batchParts, countRequests, flakyStorage } from './helpers/pipeline-fixture.js';
import { Batcher } from '../src/pipeline/batcher.js';
import { BatchCorrelator } from '../src/correlator/batch-correlator.js';
import { httpRecord, lines } from './helpers/correlator-records.js';
import { silentLogger } from '../src/config/index.js';
import { memoryLogger } from './helpers/memory-logger.js';

const batch = (token: string, text: string): Batch => ({ token, parts: [{ table: 't', body: Buffer.from(text), rows: text.split('\n').length - 1 }] });

t.test('spool: segments survive a reopen in order; unacknowledged .tmp files are discarded', async (t) => {
  const dir = scratchDir(t);
  const s1 = new Spool(dir, 1 << 20, silentLogger());
  await s1.append(batch('a', '{"x":1}\n'));
  await s1.append(batch('b', '{"x":2}\n{"x":3}\n'));
  writeFileSync(join(dir, '0000000000000003.1.tmp'), 'JA4SPOOL1\n{"tok'); // a write cut by kill -9
  const s2 = new Spool(dir, 1 << 20, silentLogger());
  t.same(s2.depth.segments, 2);
  t.same(readdirSync(dir).sort(), ['0000000000000001.1.seg', '0000000000000002.2.seg']);
  const first = await s2.oldest();
  t.same([first!.batch.token, first!.batch.parts[0]!.body.toString()], ['a', '{"x":1}\n']);
  await s2.remove(first!.seq);
  const second = await s2.oldest();
  t.same([second!.batch.token, second!.batch.parts[0]!.rows], ['b', 2]);
  await s2.append(batch('c', '{"x":4}\n'));
  t.same(readdirSync(dir).sort(), ['0000000000000002.2.seg', '0000000000000003.1.seg'], 'numbering goes on after the reopen');
});

t.test('spool: a corrupt segment is set aside and counted; the next one is served', async (t) => {
  const dir = scratchDir(t);
  const s = new Spool(dir, 1 << 20, silentLogger());
  await s.append(batch('a', '{"x":1}\n'));
  await s.append(batch('b', '{"x":2}\n'));
  writeFileSync(join(dir, '0000000000000001.1.seg'), 'JA4SPOOL1\n{"token":"a","parts":[{"table":"t","bytes":99,"rows":1}]}\n{"x":1}\n');
  const seg = await s.oldest();
  t.equal(seg!.batch.token, 'b');
  t.equal(s.stats().corrupt_segments, 1);
  t.same(readdirSync(join(dir, 'rejected')), ['0000000000000001.1.seg']);

  // a header that is valid JSON but no header (a flipped bit in "parts"):
  // corrupt too, not an exception that blocked the replay for good
  const s2 = new Spool(dir, 1 << 20, silentLogger());
  await s2.append(batch('c', '{"x":3}\n'));
  const names = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();
  writeFileSync(join(dir, names.at(-1)!), 'JA4SPOOL1\n{"token":"c","partz":[]}\n{"x":3}\n');
  await s2.append(batch('d', '{"x":4}\n'));
  let next = await s2.oldest();
  while (next && next.batch.token !== 'd') {
    await s2.remove(next.seq);
    next = await s2.oldest();
  }
  t.equal(next?.batch.token, 'd', 'the batch behind it is served');
  t.equal(s2.stats().corrupt_segments, 1);
});

t.test('spool: set-aside segments keep their names unique across restarts (an empty spool numbered from 1 again)', async (t) => {
  const dir = scratchDir(t);
  const s1 = new Spool(dir, 1 << 20, silentLogger());
  await s1.append(batch('run1', '{"x":1}\n'));
  await s1.reject((await s1.oldest())!.seq, 'refused');
  const s2 = new Spool(dir, 1 << 20, silentLogger()); // restarted, spool empty
  await s2.append(batch('run2', '{"x":2}\n'));
  await s2.reject((await s2.oldest())!.seq, 'refused');
  const kept = readdirSync(join(dir, 'rejected')).sort();
  t.same(kept, ['0000000000000001.1.seg', '0000000000000002.1.seg'], 'both set-aside batches are there, oldest first by name');
});

t.test('spool full: the oldest segments are dropped, counted in segments and rows, and logged loudly', async (t) => {
  const dir = scratchDir(t);
  const mem = memoryLogger();
  const s = new Spool(dir, 300, mem.log);
  const body = `${'{"x":"' + 'y'.repeat(40) + '"}\n'}`.repeat(2); // 2 rows, ~90 bytes with the header
  for (const tok of ['a', 'b', 'c', 'd', 'e']) await s.append(batch(tok, body));
  const st = s.stats();
  t.ok(st.bytes <= 300, `within the bound (${st.bytes} bytes)`);
  t.same([st.dropped_segments, st.dropped_rows, st.segments], [5 - st.segments, 2 * (5 - st.segments), st.segments]);
  t.ok(st.dropped_segments >= 2);
  const logged = mem.records();
  t.equal(logged.length, st.dropped_segments, 'one log line per dropped segment');
  t.match(logged[0], { level: 'warn', reason: 'spool_full', max_bytes: 300, segment: /0000000000000001\.2\.seg$/, rows: 2, dropped_segments: 1, dropped_rows: 2 });
  t.match(logged[0]!.msg, /^spool full: dropped the oldest segment/);
  t.equal((await s.oldest())!.batch.token, ['a', 'b', 'c', 'd', 'e'][st.dropped_segments]!, 'the newest are kept');
});

t.test('writer over the real engine: an outage mid-stream, then recovery; every batch once', async (t) => {
  const real = await openTestStorage(t);
  const storage = flakyStorage(real);
  const spool = new Spool(scratchDir(t), 64 << 20, silentLogger());
  const mem = memoryLogger();
  const writer = new DurableWriter(clickhouseSink(storage), spool, { retryMinMs: 20, retryMaxMs: 100, log: mem.log });
  const ROWS = 50;
  for (let i = 0; i < 30; i++) {
    if (i === 8) storage.down = true; // connection refused from batch 8
    if (i === 14) storage.failAfterInsert = true; // then the engine takes the rows but the answer is lost
    if (i === 20) storage.lostAnswerTable = TABLES.httpRequests; // then only the last part's answer: both parts landed
    await writer.submit(batchParts(i, ROWS, true)); // acknowledged: written or spooled (raw tables on)
    if (i === 10) t.equal(writer.stats().mode, 'spooling', 'spooling during the outage');
  }
  t.ok(spool.depth.segments > 0, `batches waiting in the spool (${spool.depth.segments})`);
  await new Promise((r) => setTimeout(r, 300)); // replays keep failing meanwhile
  storage.down = false;
  storage.failAfterInsert = false;
  storage.lostAnswerTable = undefined;
  t.ok(await writer.drain(30_000), 'the spool drained');
  await writer.close();
  t.same(await countRequests(real), { rows: 30 * ROWS, distinct: 30 * ROWS }, 'no loss, no duplicate (replays of inserted batches deduplicated)');
  // the raw table's window (sql/0021): without it, every replay of a batch the engine had taken was stored again
  t.same(await countRequests(real, TABLES.httpRequests), { rows: 30 * ROWS, distinct: 30 * ROWS }, 'the raw http_requests table: no loss, no duplicate either');
  const [agg] = await real.query<{ n: number }>(`SELECT sum(requests) AS n FROM ${TABLES.aggHostIpJa4}`);
  t.equal(agg!.n, 30 * ROWS, 'the hourly aggregate counted each request once too');
  t.equal(spool.depth.segments, 0);
  t.ok(storage.attempts > 30, `inserts were retried (${storage.attempts} attempts)`);
  // the outage is a warning with the error as a field; the recovery an info line after it
  const logged = mem.records();
  const failed = logged.findIndex((r) => r.msg === 'writing failed: spooling until the database is back');
  t.ok(failed >= 0, 'the outage is logged');
  t.match(logged[failed], { level: 'warn', error: /ECONNREFUSED/, spool_dir: spool.dir });
  t.ok(logged.slice(failed + 1).some((r) => r.level === 'info' && r.msg === 'spool drained: writing directly again'), 'then the recovery');
  t.same(writer.stats().mode, 'direct');
});

t.test('a server-mode client on a dead port: the error is an outage (spooled and retried), not bad data', async (t) => {
  const storage = await openStorage(validateStorageOptions({ url: 'http://127.0.0.1:9', requestTimeoutMs: 2000 }));
  t.teardown(() => storage.close());
  let error: unknown;
  try {
    await storage.insertEncoded(TABLES.httpLogsIngest, Buffer.from('{}\n'), 'JSONEachRow');
  } catch (err) {
    error = err;
  }
  t.match(String(error), /ECONNREFUSED/);
  t.equal(isDataError(error), false);
  const spool = new Spool(scratchDir(t), 1 << 20, silentLogger());
  const writer = new DurableWriter(clickhouseSink(storage), spool, { retryMinMs: 1000, log: silentLogger() });
  await writer.submit(batchParts(0, 3));
  t.same([spool.depth.segments, writer.stats().mode], [1, 'spooling'], 'acknowledged by the spool');
  await writer.close();
  t.equal(spool.depth.segments, 1, 'kept for the next start');
});

t.test('what counts as bad data (set aside) and what is an outage or a local fault (retried)', async (t) => {
  const data = [
    'Code: 27. DB::Exception: Cannot parse input: expected \'"\' before: \'x\': (at row 1)',
    'Code: 33. DB::Exception: Cannot read all data. Bytes read: 5. Bytes expected: 8.: (in file/uri /tmp/ja4-insert-1/1.native): While executing Native. (CANNOT_READ_ALL_DATA)',
    'Code: 53. DB::Exception: Type mismatch in IN or VALUES section. (TYPE_MISMATCH)',
    'Code: 117. DB::Exception: Unknown field found while parsing JSONEachRow format: foo: (at row 1)',
    // rows over more than 100 days' partitions: refused whole, every time
    'Code: 252. DB::Exception: Too many partitions for single INSERT block (more than 100). The limit is controlled by \'max_partitions_per_insert_block\' setting. (TOO_MANY_PARTS)',
  ];
  const retried = [
    'Code: 74. DB::Exception: Cannot read from file /tmp/ja4-insert-1/1.native, errno: 5, strerror: Input/output error. (CANNOT_READ_FROM_FILE_DESCRIPTOR)',
    "TypeError: Cannot read properties of undefined (reading 'length')",
    'Code: 1001. DB::Exception: std::__1::__fs::filesystem::filesystem_error: filesystem error: in create_directories: No space left on device. (STD_EXCEPTION)',
    'Code: 158. DB::Exception: Limit for rows (controlled by \'max_rows_to_read\' setting) exceeded. (TOO_MANY_ROWS)',
    'connect ECONNREFUSED 127.0.0.1:8123',
    'Timeout error.',
    // merges behind inserts, the same code: it passes
    'Code: 252. DB::Exception: Too many parts (3001 with average size of 1.00 KiB) in table \'ja4_processing.http_logs\'. Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)',
  ];
  t.same(data.map((m) => isDataError(new Error(m))), data.map(() => true), 'the data: set aside');
  t.same(retried.map((m) => isDataError(new Error(m))), retried.map(() => false), 'not the data: retried');
});

t.test('the database refusing the data itself: the batch is set aside, the queue goes on', async (t) => {
  const real = await openTestStorage(t);
  const dir = scratchDir(t);
  const spool = new Spool(dir, 1 << 20, silentLogger());
  const writer = new DurableWriter(clickhouseSink(real), spool, { retryMinMs: 20, log: silentLogger() });
  await writer.submit([{ table: TABLES.httpLogsIngest, body: Buffer.from('{"ts":"not a time","client_ip":"::1"}\n'), rows: 1 }]);
  await writer.submit(batchParts(1, 5));
  t.ok(await writer.drain(20_000));
  await writer.close();
  t.same(await countRequests(real), { rows: 5, distinct: 5 });
  t.equal(spool.stats().rejected_segments, 1);
  t.equal(readdirSync(join(dir, 'rejected')).length, 1);
});

t.test("the spool's disk refusing writes during an outage: the batch waits unacknowledged, nothing crashes, nothing is lost", async (t) => {
  const real = await openTestStorage(t);
  const storage = flakyStorage(real);
  const dir = scratchDir(t);
  const spool = new Spool(dir, 1 << 20, silentLogger());
  const mem = memoryLogger();
  const writer = new DurableWriter(clickhouseSink(storage), spool, { retryMinMs: 20, retryMaxMs: 50, log: mem.log });
  // a disk that refuses: the spool directory replaced by a file (ENOTDIR on every open)
  const breakDisk = (): void => {
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
  };
  const repairDisk = (): void => {
    rmSync(dir, { force: true });
    mkdirSync(dir);
  };
  const acked = (p: Promise<void>): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);

  breakDisk();
  storage.down = true;
  const first = writer.submit(batchParts(0, 4));
  t.equal(await acked(first), false, 'neither the database nor the spool took it: not acknowledged (the batcher waits)');
  const st = writer.stats();
  t.ok(st.spool_write_errors >= 2, `the refused appends are counted and retried (${st.spool_write_errors})`);
  t.match(st.last_spool_error, /ENOTDIR/);
  const logged = mem.records().filter((r) => r.msg === 'the spool cannot write: holding the batch in memory and retrying; input waits meanwhile');
  t.equal(logged.length, 1, 'logged once, not once per retry');
  t.match(logged[0], { level: 'error', spool_dir: dir, error: /ENOTDIR/, rows: 4 });

  // the database is back, the disk still refuses: with nothing older in the spool, the sink takes the batch
  storage.down = false;
  await first;
  t.same(await countRequests(real), { rows: 4, distinct: 4 }, 'written directly once the database answered');

  // down again: the next batch waits until the disk is repaired, then is spooled and replayed
  storage.down = true;
  const second = writer.submit(batchParts(1, 4)); // the direct write fails, the spool refuses
  const third = writer.submit(batchParts(2, 4)); // spooling: queued behind it, in order
  t.same([await acked(second), await acked(third)], [false, false], 'both wait');
  repairDisk();
  await Promise.all([second, third]);
  t.ok(spool.depth.segments >= 1, `acknowledged by the repaired spool (${spool.depth.segments} segments)`);
  storage.down = false;
  t.ok(await writer.drain(20_000), 'the spool drained');
  await writer.close();
  t.same(await countRequests(real), { rows: 12, distinct: 12 }, 'every batch once');
  t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no partial segment left');
});

t.test('while the spool refuses a batch, the batcher submits no other one: rows wait in it (bounded), not in a growing queue of batches', async (t) => {
  const dir = scratchDir(t);
  const spool = new Spool(dir, 1 << 20, silentLogger());
  const writer = new DurableWriter({ name: 'never', format: 'Native', async write() { throw new Error('connect ECONNREFUSED'); }, async close() {} }, spool, { spoolMode: 'always', retryMinMs: 20, retryMaxMs: 50, log: silentLogger() });
  const batcher = new Batcher(writer, { ingest: TABLES.httpLogsIngest, requests: TABLES.httpRequests, tlsEvents: TABLES.tlsEvents }, { maxDelayMs: 20 });
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, 'not a directory');
  const bc = new BatchCorrelator({ rawTables: false, format: 'Native' });
  const t0 = (Date.now() - 3_600_000) * 1000;
  for (let i = 0; i < 20; i++) {
    void batcher.add(bc.process(lines(httpRecord({ ts: t0 + i, port: 1024 + i, scheme: 'http' })), undefined, Date.now() * 1000)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 25)); // the timer's delay passes between adds
  }
  t.equal(writer.stats().batches, 1, 'one batch submitted and waiting; the later rows stay in the batcher');
  t.equal(writer.stats().rows + batcher.buffered, 20, 'every row either in that batch or in the batcher');
  rmSync(dir, { force: true });
  mkdirSync(dir);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(batcher.buffered, 0, 'once the disk took the first, the rest follow');
  t.equal(spool.stats().appended, 2);
  await batcher.close();
  await writer.close();
});

t.test('--spool-always: one failed insert marks the writer failing (/healthz 503) until the next insert goes through', async (t) => {
  let failures = 1;
  const sink = { name: 'flaky', format: 'JSONEachRow' as const, async write() { if (failures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:8123'); }, async close() {} };
  const spool = new Spool(scratchDir(t), 1 << 20, silentLogger());
  const writer = new DurableWriter(sink, spool, { spoolMode: 'always', retryMinMs: 10, log: silentLogger() });
  const seen: boolean[] = [];
  const watch = setInterval(() => seen.push(writer.stats().failing), 2);
  await writer.submit([{ table: 't', body: Buffer.from('{}\n'), rows: 1 }]);
  t.ok(await writer.drain(5000));
  clearInterval(watch);
  const s = writer.stats();
  t.same([s.mode, s.failing, s.sink_errors, s.last_error], ['spooling', false, 1, 'connect ECONNREFUSED 127.0.0.1:8123'], 'always "spooling" by design, but not failing: healthy');
  t.ok(seen.includes(true), 'failing while the insert was refused');
  await writer.close();
});

t.test('spool: rejected/ is bounded like the spool (a schema refusing every insert would fill the disk): the oldest set-aside segments go, counted and logged', async (t) => {
  const dir = scratchDir(t);
  const mem = memoryLogger();
  const s = new Spool(dir, 300, mem.log);
  const body = `{"x":"${'y'.repeat(60)}"}\n`; // ~70 bytes of rows, ~150 with the header
  for (const tok of ['a', 'b', 'c', 'd', 'e']) {
    await s.append(batch(tok, body));
    const seg = await s.oldest();
    await s.reject(seg!.seq, 'Code: 27. DB::Exception: Cannot parse input');
  }
  const left = readdirSync(join(dir, 'rejected')).sort();
  const bytes = left.reduce((n, f) => n + readFileSync(join(dir, 'rejected', f)).length, 0);
  t.ok(bytes <= 300, `within the bound (${bytes} bytes in ${left.length} files)`);
  t.equal(left.at(-1), '0000000000000005.1.seg', 'the newest kept');
  t.same([s.stats().rejected_segments, s.stats().rejected_dropped], [5, 5 - left.length]);
  const dropped = mem.records().filter((r) => r.msg === 'spool rejected/ full: deleted the oldest segment set aside');
  t.equal(dropped.length, 5 - left.length);
  t.match(dropped[0], { level: 'error', reason: 'rejected_full', segment: /rejected\/0000000000000001\.1\.seg$/, max_bytes: 300 });
});

t.test('recovery keeps the order: a batch still being spooled when the spool drains is written before the next one', async (t) => {
  const written: string[] = [];
  let down = true;
  const sink = { name: 'order', format: 'JSONEachRow' as const, async write(b: Batch) { if (down) throw new Error('connect ECONNREFUSED'); written.push(b.token); }, async close() {} };
  const spool = new Spool(scratchDir(t), 1 << 20, silentLogger());
  // the second batch's append is slow (a busy disk)
  const append = spool.append.bind(spool);
  spool.append = async (b: Batch) => {
    if (b.token === 'b2') await new Promise((r) => setTimeout(r, 150));
    return append(b);
  };
  const writer = new DurableWriter(sink, spool, { retryMinMs: 10, retryMaxMs: 20, log: silentLogger() });
  await writer.submit([{ table: 't', body: Buffer.from('{}\n'), rows: 1 }], 'b1'); // refused: spooled
  const b2 = writer.submit([{ table: 't', body: Buffer.from('{}\n'), rows: 1 }], 'b2'); // spooling: its append takes 150 ms
  down = false; // the replay writes b1 and finds the spool empty while b2 is still being written
  await new Promise((r) => setTimeout(r, 50));
  await writer.submit([{ table: 't', body: Buffer.from('{}\n'), rows: 1 }], 'b3');
  await b2;
  t.ok(await writer.drain(5000));
  await writer.close();
  t.same(written, ['b1', 'b2', 'b3']);
});
