// The traffic simulator's benchmark (`node bench/simulate.bench.js [options]`,
// after `npm run build:ts`): requests generated per second by
// simulate({realtime: false}) (the mod_reqin_log records plus the TLS flow
// and close events, labels, everything the correlator benchmark is fed),
// against a baseline measured in the same process on the same records:
// JSON.stringify of the parsed objects, i.e. the cost of merely serializing
// that output. Target: comfortably above 100k requests/s.
//
// The simulation's start-up (catalog through the engine, the families'
// session statistics, the warm-up that puts the population in steady state)
// is timed apart: it is paid once per run, not per request.
//
//   --rate N       requests/s of simulated time (default 5000)
//   --duration S   simulated seconds (default 60)
//   --runs N       interleaved measurements; medians (default 3)
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { simulate } from '../dist/simulator/index.js';
import { loadCatalog } from '../dist/simulator/catalog.js';

const TARGET = 100_000;
const { values: opt } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '60' },
    runs: { type: 'string', default: '3' },
  },
});
const rate = Number(opt.rate);
const durationS = Number(opt.duration);
const runs = Number(opt.runs);
for (const [k, v] of [['--rate', rate], ['--duration', durationS], ['--runs', runs]]) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${k} must be a positive number`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
await loadCatalog();
const catalogMs = performance.now() - t0;

// CPU time as well as wall time: on a shared machine the wall clock also
// counts other processes' time slices; the ratio uses CPU time.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function simRun(seed) {
  const start = performance.now();
  let firstAt = 0;
  let firstCpu = 0;
  let http = 0;
  let tls = 0;
  let keep;
  for await (const b of simulate({ seed, rate, durationS, startUs: 1_795_305_600_000_000 })) {
    if (!firstAt) {
      firstAt = performance.now();
      firstCpu = cpuMs();
    }
    http += b.http.length;
    tls += b.tls.length;
    keep ??= b; // one batch kept for the baseline's records
  }
  const end = performance.now();
  return { setupMs: firstAt - start, genMs: end - firstAt, genCpuMs: cpuMs() - firstCpu, http, tls };
}

/** The baseline: JSON.stringify of every record of one run, parsed beforehand (not timed). */
async function baseline(seed) {
  const objs = [];
  for await (const b of simulate({ seed, rate, durationS, startUs: 1_795_305_600_000_000 })) {
    for (const l of b.http) objs.push(JSON.parse(l));
    for (const l of b.tls) objs.push(JSON.parse(l));
  }
  const start = performance.now();
  const c0 = cpuMs();
  let bytes = 0;
  for (const o of objs) bytes += JSON.stringify(o).length;
  const ms = performance.now() - start;
  return { ms, cpu: cpuMs() - c0, records: objs.length, bytes };
}

// Warm both paths once (JIT, the session statistics cache).
await simRun(99);
const sims = [];
const bases = [];
for (let i = 0; i < runs; i++) {
  sims.push(await simRun(1 + i));
  bases.push(await baseline(1 + i));
}
const s = sims.map((r) => ({
  ...r,
  reqPerS: r.http / (r.genMs / 1000),
  recPerS: (r.http + r.tls) / (r.genMs / 1000),
  reqPerCpuS: r.http / (r.genCpuMs / 1000),
  recPerCpuS: (r.http + r.tls) / (r.genCpuMs / 1000),
}));
const b = bases.map((r) => ({ ...r, recPerS: r.records / (r.ms / 1000), recPerCpuS: r.records / (r.cpu / 1000) }));
const simReq = median(s.map((r) => r.reqPerS));
const simRec = median(s.map((r) => r.recPerS));
const baseRec = median(b.map((r) => r.recPerS));
const simReqCpu = median(s.map((r) => r.reqPerCpuS));
const simRecCpu = median(s.map((r) => r.recPerCpuS));
const baseRecCpu = median(b.map((r) => r.recPerCpuS));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

console.log(`simulate({rate: ${rate}, durationS: ${durationS}}), ${runs} interleaved runs, medians`);
console.log(`  catalog (engine over the hellos, once per process): ${catalogMs.toFixed(0)} ms`);
console.log(`  start-up per run (session statistics cached, warm-up): ${fmt(median(s.map((r) => r.setupMs)))} ms`);
console.log(`  requests per run: ${fmt(median(s.map((r) => r.http)))} mod_reqin_log records + ${fmt(median(s.map((r) => r.tls)))} TLS events`);
console.log('');
console.log('| | records/s (wall) | requests/s (wall) | records per CPU-s | requests per CPU-s |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| simulate (generation, after start-up) | ${fmt(simRec)} | ${fmt(simReq)} | ${fmt(simRecCpu)} | ${fmt(simReqCpu)} |`);
console.log(`| baseline: JSON.stringify of the same records | ${fmt(baseRec)} | | ${fmt(baseRecCpu)} | |`);
console.log('');
console.log(`ratio simulate / JSON.stringify (records per CPU-s): ${(simRecCpu / baseRecCpu).toFixed(3)} (wall: ${(simRec / baseRec).toFixed(3)})`);
console.log(`requests per CPU-s ${fmt(simReqCpu)} vs target ${fmt(TARGET)}: ${simReqCpu >= TARGET ? 'met' : 'NOT met'}`);
