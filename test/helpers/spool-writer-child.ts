// A writer process for the kill -9 test (pipeline-kill.test.ts): writes
// numbered batches to the embedded database through the DurableWriter and
// its spool, with the database "down" every other 300 ms (flaky wrapper),
// and prints "ack <i>" once batch i is acknowledged (written or spooled).
// The parent kills it with SIGKILL at an arbitrary moment.
import { openStorage, validateStorageOptions } from '../../src/storage/index.js';
import { DurableWriter } from '../../src/pipeline/durable-writer.js';
import { Spool } from '../../src/pipeline/spool.js';
import { clickhouseSink } from '../../src/pipeline/sinks.js';
import { batchParts, flakyStorage } from './pipeline-fixture.js';
import { silentLogger } from '../../src/config/index.js';

const [dbDir, spoolDir, rowsText] = process.argv.slice(2) as [string, string, string];
const real = await openStorage(validateStorageOptions({ dataDir: dbDir }));
const storage = flakyStorage(real);
setInterval(() => {
  storage.down = !storage.down;
  storage.failAfterInsert = Math.random() < 0.5;
}, 300).unref();
const writer = new DurableWriter(clickhouseSink(storage), new Spool(spoolDir, 256 << 20, silentLogger()), { retryMinMs: 20, retryMaxMs: 100, log: silentLogger() });
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  await writer.submit(batchParts(i, Number(rowsText)));
  process.stdout.write(`ack ${i}\n`);
}
