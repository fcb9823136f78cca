// Run in a child under `ulimit -f` by test/pipeline-stage-failures.test.ts:
// batches of two 309-byte lines through the jsonl sink until the file size
// limit refuses; prints "ok N" or "fail N <error>" per batch.
import { jsonlFileSink } from '../../src/pipeline/sinks.js';

// past the limit the kernel sends SIGXFSZ (default: terminate): caught, the write fails with EFBIG instead
process.on('SIGXFSZ', () => undefined);

const sink = await jsonlFileSink(process.argv[2]!, 't');
const line = `{"x":"${'y'.repeat(300)}"}\n`;
for (let i = 0; i < 5; i++) {
  try {
    await sink.write({ token: String(i), parts: [{ table: 't', body: Buffer.from(line.repeat(2)), rows: 2 }] });
    process.stdout.write(`ok ${i}\n`);
  } catch (err) {
    process.stdout.write(`fail ${i} ${(err as NodeJS.ErrnoException).code ?? ''}\n`);
  }
}
await sink.close();
