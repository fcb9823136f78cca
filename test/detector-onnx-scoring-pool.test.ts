// The scoring pool: piscina workers with their own onnxruntime sessions
// score transferred batches, and agree with the TypeScript reference models.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random, trainAutoencoder, trainExtendedIsolationForest, trainGradientBoosting, type Matrix } from '../src/detector/models/index.js';
import { writeOnnxModels, type VoiceModels } from '../src/detector/onnx/index.js';
import { openDirectScorer, openScoringPool } from '../src/detector/scoring/index.js';
import { scratchDir } from './helpers/scratch-dir.js';

const D = 4;

function rows(n: number, seed: number): Matrix {
  const r = new Random(seed);
  const data = new Float64Array(n * D);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  return { rows: n, cols: D, data };
}

function trainModels(): VoiceModels {
  const X = rows(1500, 1);
  const y = new Float64Array(X.rows).map((_, i) => (X.data[i * D]! + X.data[i * D + 1]! > 1 ? 1 : 0));
  return {
    iforest: trainExtendedIsolationForest(X, { trees: 30, sampleSize: 128, seed: 2 }),
    autoencoder: trainAutoencoder(X, { hidden: [6, 2, 6], epochs: 3, seed: 3 }),
    gbt: trainGradientBoosting(X, y, { rounds: 20, maxDepth: 4 }),
  };
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

t.test('pool scores equal the reference models, for float64 and float32 batches', async (t) => {
  const dir = scratchDir(t);
  const models = trainModels();
  writeOnnxModels(join(dir, 'set'), models);
  const pool = await openScoringPool({ modelDir: join(dir, 'set'), workers: 2 });
  t.teardown(() => pool.close());
  t.equal(pool.workers, 2);

  const X = rows(1000, 9);
  const reference = { iforest: models.iforest.scoreRows(X), autoencoder: models.autoencoder.scoreRows(X), gbt: models.gbt.predictProba(X) };
  const batch = { rows: X.rows, cols: X.cols, data: X.data.slice() };
  const got = await pool.score(batch);
  t.equal(batch.data.byteLength, 0, 'the batch buffer was transferred (detached here)');
  for (const voice of ['iforest', 'autoencoder', 'gbt'] as const) {
    t.ok(maxDiff(got[voice], reference[voice]) <= 1e-12, `${voice}: max |pool - ts| = ${maxDiff(got[voice], reference[voice])}`);
  }

  // float32 over the wire: scored as the widened doubles
  const f32 = Float32Array.from(X.data);
  const widened: Matrix = { rows: X.rows, cols: D, data: Float64Array.from(f32) };
  const got32 = await pool.score({ rows: X.rows, cols: D, data: f32 });
  t.ok(maxDiff(got32.gbt, models.gbt.predictProba(widened)) <= 1e-12, 'float32 batch, gbt');
  t.ok(maxDiff(got32.iforest, models.iforest.scoreRows(widened)) <= 1e-12, 'float32 batch, iforest');

  // a view into a larger buffer is copied, not transferred
  const big = new Float64Array(2000 * D);
  big.set(X.data);
  const view = { rows: 500, cols: D, data: big.subarray(0, 500 * D) };
  const part = await pool.score(view);
  t.equal(big.length, 2000 * D, 'the larger buffer is still usable');
  t.ok(maxDiff(part.gbt, reference.gbt.subarray(0, 500)) <= 1e-12, 'view scored');

  // many batches at once, spread over both workers, each answer for its own batch
  const batches = Array.from({ length: 8 }, (_, k) => rows(257 + k, 100 + k));
  const expected = batches.map((b) => models.gbt.predictProba(b));
  const answers = await Promise.all(batches.map((b) => pool.score({ rows: b.rows, cols: D, data: b.data.slice() })));
  t.same(answers.map((a, k) => maxDiff(a.gbt, expected[k]!) <= 1e-12), new Array(8).fill(true), '8 concurrent batches');

  const empty = await pool.score({ rows: 0, cols: D, data: new Float64Array(0) });
  t.same([empty.iforest.length, empty.autoencoder.length, empty.gbt.length], [0, 0, 0]);
});

t.test('direct (one-thread) scorer gives the same scores', async (t) => {
  const dir = scratchDir(t);
  const models = trainModels();
  writeOnnxModels(dir, models);
  const direct = await openDirectScorer({ modelDir: dir });
  t.teardown(() => direct.close());
  const X = rows(300, 5);
  const got = await direct.score(X);
  t.ok(maxDiff(got.autoencoder, models.autoencoder.scoreRows(X)) <= 1e-12, 'autoencoder');
});

t.test('errors: options, missing models, bad batches, closed pool', async (t) => {
  const dir = scratchDir(t);
  await t.rejects(openScoringPool({ modelDir: join(dir, 'nope') }), { code: 'ERR_SCORING_OPTION', message: `modelDir ${join(dir, 'nope')} is not a directory` });
  await t.rejects(openScoringPool({ modelDir: dir, workers: 0 }), { code: 'ERR_SCORING_OPTION', message: 'workers must be a positive integer, got 0' });
  await t.rejects(openScoringPool({ modelDir: dir }), { code: 'ERR_SCORING_MODEL', message: `model file ${join(dir, 'eif.onnx')} is missing (iforest)` });
  const broken = join(dir, 'broken');
  writeOnnxModels(broken, trainModels());
  writeFileSync(join(broken, 'gbt.onnx'), 'not a model');
  await t.rejects(openScoringPool({ modelDir: broken }), { code: 'ERR_SCORING_MODEL' });

  const good = join(dir, 'good');
  mkdirSync(good);
  writeOnnxModels(good, trainModels());
  const pool = await openScoringPool({ modelDir: good, workers: 1 });
  await t.rejects(pool.score({ rows: 2, cols: D, data: new Float64Array(3) }), { code: 'ERR_SCORING_INPUT', message: 'batch data has 3 values, rows*cols = 8' });
  await t.rejects(pool.score({ rows: 2, cols: 3, data: new Float64Array(6) }), { code: 'ERR_SCORING_INPUT' });
  // the worker survives a rejected batch
  const ok = await pool.score(rows(10, 1));
  t.equal(ok.gbt.length, 10);
  await pool.close();
  await t.rejects(pool.score(rows(1, 1)), { code: 'ERR_SCORING_CLOSED' });
});
