// kill -9 while writing: a child process writes numbered batches through the
// spool to the real embedded engine (the database flapping up and down, and
// sometimes taking a batch but losing the answer), and is killed with
// SIGKILL at an arbitrary moment. A restart on the same database and spool
// replays what was left; then every batch the child acknowledged is in
// http_logs exactly once, and nothing at all is there twice.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, openStorage, validateStorageOptions, TABLES } from '../src/storage/index.js';
import { DurableWriter } from '../src/pipeline/durable-writer.js';
import { Spool } from '../src/pipeline/spool.js';
import { clickhouseSink } from '../src/pipeline/sinks.js';
import { scratchDir } from './helpers/scratch-dir.js';
import { silentLogger } from '../src/config/index.js';

const ROWS = 20;

for (const killAfterAcks of [6]) {
  t.test(`SIGKILL after ${killAfterAcks}+ acknowledged batches, then restart`, async (t) => {
    const dir = scratchDir(t);
    const dbDir = join(dir, 'db');
    const spoolDir = join(dir, 'spool');
    {
      const s = await openStorage(validateStorageOptions({ dataDir: dbDir }));
      await migrate(s);
      await s.close();
    }
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./helpers/spool-writer-child.ts', import.meta.url)), dbDir, spoolDir, String(ROWS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: number[] = [];
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
        if (acked.length >= killAfterAcks) {
          // an arbitrary moment after that: 0-150 ms later
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, Math.floor(Math.random() * 150));
          child.stdout!.removeAllListeners('data');
          child.stdout!.on('data', (c: Buffer) => {
            // acks printed before the kill landed still count
            buffered += c.toString();
            const ls = buffered.split('\n');
            buffered = ls.pop()!;
            for (const l of ls) if (l.startsWith('ack ')) acked.push(Number(l.slice(4)));
          });
        }
      });
    });
    t.equal(await exited, 'SIGKILL');

    // restart: same database, same spool
    const storage = await openStorage(validateStorageOptions({ dataDir: dbDir }));
    t.teardown(() => storage.close());
    const spool = new Spool(spoolDir, 256 << 20, silentLogger());
    const left = spool.depth.segments;
    const writer = new DurableWriter(clickhouseSink(storage), spool, { retryMinMs: 20, log: silentLogger() });
    t.ok(await writer.drain(60_000), `the ${left} segments left by the killed process were replayed`);
    await writer.close();

    const perBatch = await storage.query<{ b: number; n: number; d: number }>(
      `SELECT toUInt32(extract(request_id, '^b(\\\\d+)-')) AS b, count() AS n, uniqExact(request_id) AS d FROM ${TABLES.httpLogs} GROUP BY b ORDER BY b`,
    );
    const byBatch = new Map(perBatch.map((r) => [r.b, r]));
    const missing = acked.filter((i) => byBatch.get(i)?.n !== ROWS);
    t.same(missing, [], `all ${acked.length} acknowledged batches have their ${ROWS} rows`);
    t.same(perBatch.filter((r) => r.n !== r.d), [], 'no request stored twice');
    t.ok(perBatch.every((r) => r.n === ROWS), 'no batch half written');
  });
}
