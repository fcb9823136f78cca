// The detector benchmark (`node bench/detector.bench.js [options]`, after
// `npx tsc -p tsconfig.json`):
//
// 1. Scoring throughput of the three-voice ensemble (EIF + autoencoder + GBT,
//    the ONNX files in bench/.data/detector-models, trained on a synthetic
//    population with the options `ja4 detector train` and the shipped model
//    use, DEFAULT_VOICE_OPTIONS, unless overridden): --workers piscina
//    workers at --batch rows per batch, with --inflight batches queued per
//    worker, vs the same ONNX models run directly in this thread, one batch
//    at a time (the baseline). Prints rows/s for both and the ratio
//    pool / direct; contenders interleaved --runs times, medians reported.
//    Target: >= 200k rows/s for the pool. Also each voice alone (direct), and
//    rows per CPU-second (process-wide CPU time, all threads): on a shared
//    machine the wall-clock rate says as much about the neighbours as about us.
// 2. Training time of each voice on --train-rows rows (default 1M), wall and
//    CPU seconds (training is single-threaded).
//
//   --features N      feature columns (default 24)
//   --score-rows N    rows scored per measurement (default 262144)
//   --batch N         rows per batch (default 1024)   --workers N (default 2)
//   --inflight N      batches in flight per worker (default 4)
//   --runs N          interleaved measurements per contender (default 3)
//   --trees N --psi N --normal-pool N   EIF size (default: DEFAULT_VOICE_OPTIONS.eif;
//                     --normal-pool 0 = a fresh normal per split, the paper's forest)
//   --gbt-rounds N --gbt-depth N        GBT size (default: DEFAULT_VOICE_OPTIONS.gbt)
//   --train-rows N    rows of part 2 (default 1000000; 0 skips it)
//   --ae-epochs N     autoencoder epochs in part 2 (default 5)
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Random, trainAutoencoder, trainExtendedIsolationForest, trainGradientBoosting } from '../dist/detector/models/index.js';
import { eifProjection, writeOnnxModels } from '../dist/detector/onnx/index.js';
import { DEFAULT_VOICE_OPTIONS } from '../dist/detector/training/train.js';
import * as ort from 'onnxruntime-node';
import { loadVoiceSessions, openDirectScorer, openScoringPool, VOICES } from '../dist/detector/scoring/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = join(root, 'bench', '.data', 'detector-models');
const TARGET_ROWS_PER_S = 200_000;

const { values: opt } = parseArgs({
  options: {
    features: { type: 'string', default: '24' },
    'score-rows': { type: 'string', default: '262144' },
    batch: { type: 'string', default: '1024' },
    workers: { type: 'string', default: '2' },
    inflight: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    trees: { type: 'string', default: String(DEFAULT_VOICE_OPTIONS.eif.trees) },
    psi: { type: 'string', default: String(DEFAULT_VOICE_OPTIONS.eif.sampleSize) },
    'normal-pool': { type: 'string', default: String(DEFAULT_VOICE_OPTIONS.eif.normalPool ?? 0) },
    'train-rows': { type: 'string', default: '1000000' },
    'ae-epochs': { type: 'string', default: '5' },
    'gbt-rounds': { type: 'string', default: String(DEFAULT_VOICE_OPTIONS.gbt.rounds) },
    'gbt-depth': { type: 'string', default: String(DEFAULT_VOICE_OPTIONS.gbt.maxDepth) },
  },
});
const num = (name) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got "${opt[name]}"`);
  return v;
};
const d = num('features');
const scoreRows = num('score-rows');
const batch = num('batch');
const workers = num('workers');
const inflight = Math.max(1, num('inflight'));
const runs = Math.max(1, num('runs'));
const trainRows = num('train-rows');
const eifOptions = { trees: num('trees'), sampleSize: num('psi'), normalPool: num('normal-pool'), seed: 1 };
const gbtOptions = { ...DEFAULT_VOICE_OPTIONS.gbt, rounds: num('gbt-rounds'), maxDepth: num('gbt-depth') };
const aeOptions = { ...DEFAULT_VOICE_OPTIONS.autoencoder, seed: 1 };

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const log = (s) => process.stdout.write(`${s}\n`);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** Feature-like rows: a correlated human population and 5% shifted bots (label 1). */
function population(n, seed) {
  const r = new Random(seed);
  const data = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const bot = r.next() < 0.05;
    y[i] = bot ? 1 : 0;
    const a = r.normal();
    const b = r.normal();
    for (let j = 0; j < d; j++) {
      const base = (j % 3 === 0 ? a : j % 3 === 1 ? b : a - b) + 0.3 * r.normal();
      data[i * d + j] = bot && j % 4 === 0 ? base + 3 : base;
    }
  }
  return { X: { rows: n, cols: d, data }, y };
}

/** process CPU seconds (user + system, every thread) */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function timed(fn) {
  const t0 = performance.now();
  const c0 = cpuNow();
  const value = fn();
  return { value, s: (performance.now() - t0) / 1000, cpu: cpuNow() - c0 };
}

// ---- part 1: scoring throughput ----
const eifName = `EIF ${eifOptions.trees} trees psi ${eifOptions.sampleSize} normal pool ${eifOptions.normalPool || 'none'}`;
log(`detector bench: ${d} features, batch ${batch}, ${workers} workers, ${eifName}`);
const small = population(20_000, 1);
const models = {
  iforest: trainExtendedIsolationForest(small.X, eifOptions),
  // the scoring cost does not depend on the epochs: 3 keep the set-up short
  autoencoder: trainAutoencoder(small.X, { ...aeOptions, epochs: 3 }),
  gbt: trainGradientBoosting(small.X, small.y, gbtOptions),
};
rmSync(modelDir, { recursive: true, force: true });
mkdirSync(modelDir, { recursive: true });
writeOnnxModels(modelDir, models);
const splits = models.iforest.trees.reduce((s, t) => s + t.left.filter((l) => l >= 0).length, 0);
const projected = eifProjection(models.iforest).columns.length;
log(
  `models: EIF projection ${d} x ${projected} (${splits} splits), GBT ${models.gbt.trees.length} trees depth ${gbtOptions.maxDepth}, ` +
    `AE ${[d, ...models.autoencoder.layers.map((l) => l.outputs)].join('-')}`,
);

const batches = Math.ceil(scoreRows / batch);
const source = population(batches * batch, 2).X.data;
const batchData = (k) => source.slice(k * batch * d, (k + 1) * batch * d);

const direct = await openDirectScorer({ modelDir });
const pool = await openScoringPool({ modelDir, workers });

async function runDirect() {
  const t0 = performance.now();
  const c0 = cpuNow();
  for (let k = 0; k < batches; k++) await direct.score({ rows: batch, cols: d, data: batchData(k) });
  return { wall: (batches * batch) / ((performance.now() - t0) / 1000), cpu: (batches * batch) / (cpuNow() - c0) };
}

async function runPool() {
  const t0 = performance.now();
  const c0 = cpuNow();
  let next = 0;
  const lane = async () => {
    while (next < batches) {
      const k = next++;
      await pool.score({ rows: batch, cols: d, data: batchData(k) });
    }
  };
  await Promise.all(Array.from({ length: workers * inflight }, lane));
  return { wall: (batches * batch) / ((performance.now() - t0) / 1000), cpu: (batches * batch) / (cpuNow() - c0) };
}

// warm-up: first runs compile and fault pages in
await runDirect();
await runPool();
const directRates = [];
const poolRates = [];
for (let r = 0; r < runs; r++) {
  directRates.push(await runDirect());
  poolRates.push(await runPool());
}
await pool.close();
await direct.close();
const poolRate = median(poolRates.map((r) => r.wall));
const directRate = median(directRates.map((r) => r.wall));
log(`scoring ${fmt(batches * batch)} rows x ${runs} runs (medians):`);
log(`  direct, one thread        ${fmt(directRate)} rows/s   ${fmt(median(directRates.map((r) => r.cpu)))} rows per CPU-second`);
log(`  pool, ${workers} workers            ${fmt(poolRate)} rows/s   ${fmt(median(poolRates.map((r) => r.cpu)))} rows per CPU-second`);
log(`  ratio pool / direct       ${(poolRate / directRate).toFixed(2)}`);
log(`  target >= ${fmt(TARGET_ROWS_PER_S)} rows/s: ${poolRate >= TARGET_ROWS_PER_S ? 'met' : 'NOT met'}`);
// on a shared machine the wall-clock rate measures the neighbours; the CPU
// rate times the workers is what the pool would do with a core per worker
log(`  (estimate with ${workers} idle cores: ${fmt(workers * median(poolRates.map((r) => r.cpu)))} rows/s = pool rows per CPU-second x ${workers}; the verdict above is measured)`);

// each voice alone, direct, one batch at a time
const sessions = await loadVoiceSessions(modelDir);
const perVoice = [];
for (const voice of VOICES) {
  const s = sessions[voice];
  const feed = (k) => ({ [s.inputNames[0]]: new ort.Tensor('float64', batchData(k), [batch, d]) });
  await s.run(feed(0));
  const n = Math.min(batches, 32);
  const t0 = performance.now();
  const c0 = cpuNow();
  for (let k = 0; k < n; k++) await s.run(feed(k));
  perVoice.push(`${voice} ${fmt((n * batch) / ((performance.now() - t0) / 1000))} (${fmt((n * batch) / (cpuNow() - c0))}/CPU-s)`);
  await s.release();
}
log(`  each voice alone, rows/s: ${perVoice.join(', ')}`);

// ---- part 2: training time ----
if (trainRows > 0) {
  const big = population(trainRows, 3);
  log(`training on ${fmt(trainRows)} rows x ${d} features:`);
  const eif = timed(() => trainExtendedIsolationForest(big.X, eifOptions));
  const secs = (r) => `${r.s.toFixed(1)} s (${r.cpu.toFixed(1)} CPU-s)`;
  log(`  extended isolation forest (${eifName.slice(4)})   ${secs(eif)}`);
  const ae = timed(() => trainAutoencoder(big.X, { ...aeOptions, epochs: num('ae-epochs') }));
  log(`  autoencoder (${aeOptions.hidden.join('-')} hidden, ${opt['ae-epochs']} epochs, batch ${aeOptions.batchSize}, Adam)      ${secs(ae)}`);
  const gbt = timed(() => trainGradientBoosting(big.X, big.y, gbtOptions));
  log(`  gradient boosting (${gbtOptions.rounds} rounds, depth ${gbtOptions.maxDepth}, 255 bins)  ${secs(gbt)}`);
}
