// Autoencoder: Adam-trained MLP, the error-to-score mapping, and its ONNX
// (Gemm/Relu, double) form scored by onnxruntime.
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { AutoencoderModel, Random, matrixFromRows, trainAutoencoder, type Matrix } from '../src/detector/models/index.js';
import { exportAutoencoder } from '../src/detector/onnx/index.js';

/** Rows on a 2-dimensional plane inside 6 dimensions, plus a little noise. */
function onPlane(n: number, seed: number): Matrix {
  const r = new Random(seed);
  const d = 6;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = r.normal();
    const b = r.normal();
    data.set([a, b, a + b, a - b, 2 * a, 10 + 0.5 * b].map((v) => v + 0.01 * r.normal()), i * d);
  }
  return { rows: n, cols: d, data };
}

t.test('learns the plane; off-plane rows score near 1, the median row near 0.5', async (t) => {
  const X = onPlane(2000, 1);
  const m = trainAutoencoder(X, { hidden: [8, 3, 8], epochs: 30, learningRate: 0.01, batchSize: 32, seed: 2 });
  const errors = m.reconstructionErrors(X);
  const sorted = Float64Array.from(errors).sort();
  t.ok(sorted[1000]! < 0.05, `median training error ${sorted[1000]} (standardised units)`);
  const scores = m.scoreRows(X);
  const sortedScores = Float64Array.from(scores).sort();
  t.ok(Math.abs(sortedScores[1000]! - 0.5) < 0.1, `median training score ${sortedScores[1000]}`);
  // a row that breaks the plane's relations: x2 != x0 + x1
  const probe = m.scoreRows(matrixFromRows([[1, 1, -3, 0, 2, 10.5], [0.5, -0.5, 0, 1, 1, 9.75]]));
  t.ok(probe[0]! > 0.99, `off-plane row ${probe[0]}`);
  t.ok(probe[1]! < 0.9, `on-plane row ${probe[1]}`);
  t.same(trainAutoencoder(X, { hidden: [8, 3, 8], epochs: 2, seed: 2 }).toJSON(), trainAutoencoder(X, { hidden: [8, 3, 8], epochs: 2, seed: 2 }).toJSON());
  const back = AutoencoderModel.fromJSON(JSON.parse(JSON.stringify(m)));
  t.same(Array.from(back.scoreRows(X)).slice(0, 20), Array.from(scores).slice(0, 20));
});

t.test('a constant column does not break standardisation', async (t) => {
  const X = matrixFromRows(Array.from({ length: 50 }, (_, i) => [i % 7, 3]));
  const m = trainAutoencoder(X, { epochs: 2 });
  t.equal(m.scale[1], 1);
  t.ok(m.scoreRows(X).every((v) => v >= 0 && v <= 1), 'scores in [0, 1]');
});

t.test('options are validated with the option name', async (t) => {
  const X = onPlane(10, 3);
  t.throws(() => trainAutoencoder(X, { hidden: [4, 0] }), { code: 'ERR_MODEL_OPTION', message: 'hidden must be a non-empty list of positive integers, got [4,0]' });
  t.throws(() => trainAutoencoder(X, { epochs: -1 }), { message: 'epochs must be a positive integer, got -1' });
  t.throws(() => trainAutoencoder(X, { learningRate: 0 }), { message: 'learningRate must be a finite number > 0, got 0' });
  t.throws(() => AutoencoderModel.fromJSON({ kind: 'autoencoder', version: 1, cols: 2, mean: [0, 0], scale: [1, 1], layers: [{ inputs: 2, outputs: 3, weights: [], bias: [] }] }), { code: 'ERR_MODEL_JSON' });
});

t.test('ONNX (Gemm/Relu, double) equals the reference scores', async (t) => {
  const X = onPlane(1000, 4);
  const m = trainAutoencoder(X, { hidden: [8, 3, 8], epochs: 5, seed: 5 });
  const test = onPlane(500, 6);
  for (let i = 0; i < 50; i++) test.data[i * 6 + 2] = test.data[i * 6 + 2]! + 3; // some anomalies
  const session = await ort.InferenceSession.create(exportAutoencoder(m));
  t.teardown(() => session.release());
  const out = await session.run({ X: new ort.Tensor('float64', test.data, [test.rows, test.cols]) });
  const got = out.score!.data as Float64Array;
  const ref = m.scoreRows(test);
  t.same(out.score!.dims, [500]);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  t.ok(worst <= 1e-9, `max |onnx - ts| = ${worst}`);
  t.ok(ref.some((v) => v > 0.95) && ref.some((v) => v < 0.5), `the set spans the score range (${Math.min(...ref)} .. ${Math.max(...ref)})`);
});
