// The correlation step alone (`node bench/correlator-step.bench.js [--requests N --runs N]`;
// `make build` first): the worker's work per request without sockets or a
// database, the same records through BatchCorrelator as `ja4 run` inserts
// them (Native: the native request path, records parsed in C++) and through
// the JavaScript reader (JSON.parse + toHttpRecord) with the RowBinary and
// JSONEachRow encoders, interleaved in one process (the machine's noise
// hits all alike); CPU per request, medians, and the ratio to the
// JavaScript reader. Workload: bench/lib/correlator-workload.js, as
// bench/correlator.bench.js.
import { parseArgs } from 'node:util';
import { BatchCorrelator } from '../dist/correlator/batch-correlator.js';
import { correlatorWorkload } from './lib/correlator-workload.js';

const { values: opt } = parseArgs({ options: { requests: { type: 'string', default: '200000' }, runs: { type: 'string', default: '7' } } });
const N = Number(opt.requests);
const runs = Math.max(1, Number(opt.runs));
const work = correlatorWorkload(N, 1_700_000_000_000_000);
const tls = Buffer.concat(work.tls);

/** CPU microseconds per request of one pass over the workload. */
function step(format) {
  const before = process.cpuUsage();
  const bc = new BatchCorrelator({ clock: 'event', rawTables: false, format, reuseBuffers: true });
  let rows = bc.process(undefined, tls, 0).ingestRows;
  for (const b of work.http) rows += bc.process(b, undefined, 0).ingestRows;
  rows += bc.flush().ingestRows;
  const used = process.cpuUsage(before);
  if (rows !== N) throw new Error(`${format}: ${rows} rows for ${N} requests`);
  return (used.user + used.system) / N;
}

const formats = ['Native', 'RowBinary', 'JSONEachRow'];
const times = Object.fromEntries(formats.map((f) => [f, []]));
step('Native'); // warm-up: the addon, the JIT
for (let i = 0; i < runs; i++) for (const f of formats) times[f].push(step(f));
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`== correlation step: ${N.toLocaleString('en-US')} requests, ${work.tls.length.toLocaleString('en-US')} TLS events, ${runs} interleaved runs, CPU per request`);
for (const f of formats) {
  const reader = f === 'Native' ? 'native request path' : 'JavaScript reader';
  console.log(`  ${f.padEnd(11)} ${`(${reader})`.padEnd(21)} ${median(times[f]).toFixed(2).padStart(6)} us  (runs: ${times[f].map((x) => x.toFixed(2)).join(', ')})`);
}
const native = median(times.Native);
console.log(`  Native / RowBinary = ${(native / median(times.RowBinary)).toFixed(2)}, Native / JSONEachRow = ${(native / median(times.JSONEachRow)).toFixed(2)}`);
