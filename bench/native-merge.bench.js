// The batcher's merge of the correlator's Native blocks into one insert
// body (`npm run bench:merge`, i.e. `node --expose-gc
// bench/native-merge.bench.js [--rows N --blocks N --runs N]`; `make build`
// first). At full rate a batch is ~100k rows, ~70 MiB, made of the blocks
// of ~70 correlation steps. Each merge's result is dropped and collected
// before the next, as in `ja4 run` (the insert is done with it), so the
// merge can write into the buffer of the one before (native/core/buffer_pool.h).
// Baseline in the same process: Buffer.concat of the same blocks, the same
// bytes copied once into new memory, what a merge into a new buffer pays at
// least. CPU time (user + system: zeroing fresh pages is system time).
import { parseArgs } from 'node:util';
import { setImmediate as turn } from 'node:timers/promises';
import { mergeNativeBlocks } from '../dist/correlator/native-merge.js';
import { correlatorWorkload, encodeWorkload } from './lib/correlator-workload.js';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench:merge)');
const { values: opt } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, blocks: { type: 'string', default: '69' }, runs: { type: 'string', default: '9' } } });
const blocks = Number(opt.blocks);
const per = Math.ceil(Number(opt.rows) / blocks);
const runs = Number(opt.runs);
const t0 = Date.now() * 1000;
const bodies = [];
for (let k = 0; k < blocks; k++) bodies.push(encodeWorkload(correlatorWorkload(per, t0 + k * 1e6), 'Native'));
const rows = per * blocks;
const bytes = bodies.reduce((n, b) => n + b.length, 0);

/** CPU ms of `f` once, its result collected before (finalizers run on a later turn of the loop) */
async function cpuMs(f) {
  globalThis.gc();
  await turn();
  await turn();
  const c0 = process.cpuUsage();
  const out = f();
  const u = process.cpuUsage(c0);
  if (out.length === 0) throw new Error('empty result');
  return { total: (u.user + u.system) / 1000, system: u.system / 1000 };
}

const contenders = { merge: () => mergeNativeBlocks(bodies), concat: () => Buffer.concat(bodies) };
const times = { merge: [], concat: [] };
for (let r = 0; r < runs; r++) for (const [name, f] of r % 2 ? Object.entries(contenders).reverse() : Object.entries(contenders)) times[name].push(await cpuMs(f));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`== native merge: ${blocks} blocks, ${rows.toLocaleString('en-US')} rows, ${(bytes / 1048576).toFixed(1)} MiB, ${runs} interleaved runs, CPU per call (medians)`);
for (const [name, xs] of Object.entries(times)) {
  const total = median(xs.map((x) => x.total));
  console.log(`  ${name.padEnd(7)} ${total.toFixed(1).padStart(7)} ms (system ${median(xs.map((x) => x.system)).toFixed(1)} ms), ${((total * 1000) / rows).toFixed(2)} us per row  (runs: ${xs.map((x) => x.total.toFixed(1)).join(', ')})`);
}
console.log(`  merge / concat = ${(median(times.merge.map((x) => x.total)) / median(times.concat.map((x) => x.total))).toFixed(2)}`);
