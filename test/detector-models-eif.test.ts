// Extended isolation forest: the reference scores, its path attribution, and
// the ONNX form (MatMul projection + double TreeEnsemble) scored by onnxruntime.
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { EifModel, Random, averagePathLength, eifAttribution, matrixFromRows, trainExtendedIsolationForest, type Matrix } from '../src/detector/models/index.js';
import { eifProjection, exportEif } from '../src/detector/onnx/index.js';

function gaussian(n: number, d: number, seed: number): Matrix {
  const r = new Random(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = r.normal();
  return { rows: n, cols: d, data };
}

t.test('c(n), and a two-row forest by hand', async (t) => {
  t.equal(averagePathLength(0), 0);
  t.equal(averagePathLength(1), 0);
  t.equal(averagePathLength(2), 1);
  t.equal(averagePathLength(256), 2 * (Math.log(255) + 0.5772156649015329) - (2 * 255) / 256);
  // psi = 2 in one dimension: height limit 1, and the threshold drawn
  // uniformly in (0, 1) always separates the two rows, so every tree is a
  // root and two leaves of one row: h = 1 + c(1) = 1 everywhere, and
  // s = 2^(-1 / c(2)) = 0.5 for any point
  const m = trainExtendedIsolationForest(matrixFromRows([[0], [1]]), { trees: 5, seed: 3 });
  for (const tree of m.trees) {
    t.same(Array.from(tree.depth), [0, 1, 1]);
    t.same(Array.from(tree.size), [2, 1, 1]);
  }
  t.same(Array.from(m.scoreRows(matrixFromRows([[0], [-5], [0.5]]))), [0.5, 0.5, 0.5]);
});

t.test('structure: height limit, subsample sizes, extension level', async (t) => {
  const X = gaussian(1000, 4, 1);
  const full = trainExtendedIsolationForest(X, { trees: 20, sampleSize: 64, seed: 2 });
  t.equal(full.extensionLevel, 3);
  const nonZero = (tree: EifModel['trees'][number], i: number): number => Array.from(tree.normal.subarray(i * 4, i * 4 + 4)).filter((v) => v !== 0).length;
  let maxDepth = 0;
  const leafRows = new Set<number>();
  const fullNormals = new Set<number>();
  for (const tree of full.trees) {
    let rows = 0;
    for (let i = 0; i < tree.left.length; i++) {
      maxDepth = Math.max(maxDepth, tree.depth[i]!);
      if (tree.left[i]! < 0) rows += tree.size[i]!;
      else fullNormals.add(nonZero(tree, i));
    }
    leafRows.add(rows);
  }
  t.equal(maxDepth, 6, 'depth reaches ceil(log2 64) and no further');
  t.same([...leafRows], [64], 'every sampled row ends in exactly one leaf');
  t.same([...fullNormals], [4], 'fully extended normals: 4 non-zero coordinates');
  const axis = trainExtendedIsolationForest(X, { trees: 5, sampleSize: 64, extensionLevel: 0, seed: 2 });
  const axisNormals = new Set<number>();
  for (const tree of axis.trees) for (let i = 0; i < tree.left.length; i++) if (tree.left[i]! >= 0) axisNormals.add(nonZero(tree, i));
  t.same([...axisNormals], [1], 'extension level 0: axis-parallel splits');
});

t.test('outliers score high, inliers low; seeded; JSON round trip', async (t) => {
  const X = gaussian(2000, 3, 4);
  const m = trainExtendedIsolationForest(X, { trees: 100, seed: 9 });
  const probe = matrixFromRows([[0, 0, 0], [6, 6, -6], [0, 8, 0]]);
  const s = m.scoreRows(probe);
  t.ok(s[0]! < 0.45, `centre ${s[0]}`);
  t.ok(s[1]! > 0.65, `far corner ${s[1]}`);
  t.ok(s[2]! > 0.65, `far on one axis ${s[2]}`);
  const train = m.scoreRows(X);
  const above = train.filter((v) => v > 0.6).length;
  t.ok(above < 40, `${above} training rows above 0.6`);
  t.same(trainExtendedIsolationForest(X, { trees: 100, seed: 9 }).toJSON(), m.toJSON(), 'same seed, same forest');
  t.not(JSON.stringify(trainExtendedIsolationForest(X, { trees: 100, seed: 10 }).toJSON()), JSON.stringify(m.toJSON()));
  const back = EifModel.fromJSON(JSON.parse(JSON.stringify(m)));
  t.same(Array.from(back.scoreRows(probe)), Array.from(s));
  t.throws(() => EifModel.fromJSON({ kind: 'extended-isolation-forest', version: 2 }), { code: 'ERR_MODEL_JSON' });
});

t.test('path attribution names the deviating feature', async (t) => {
  const X = gaussian(2000, 4, 5);
  const m = trainExtendedIsolationForest(X, { trees: 100, seed: 1 });
  const phi = eifAttribution(m, Float64Array.of(0.1, -0.2, 7, 0.3));
  t.ok(Math.abs(phi.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'sums to 1');
  t.equal(phi.indexOf(Math.max(...phi)), 2, `feature 2 leads: ${Array.from(phi).map((v) => v.toFixed(3))}`);
  t.ok(phi[2]! > 0.5, 'and carries most of the credit');
  t.throws(() => eifAttribution(m, new Float64Array(3)), { code: 'ERR_MODEL_SHAPE' });
});

t.test('options are validated with the option name', async (t) => {
  const X = gaussian(10, 2, 6);
  t.throws(() => trainExtendedIsolationForest(X, { trees: 0 }), { code: 'ERR_MODEL_OPTION', message: 'trees must be a positive integer, got 0' });
  t.throws(() => trainExtendedIsolationForest(X, { sampleSize: 1.5 }), { message: 'sampleSize must be a positive integer, got 1.5' });
  t.throws(() => trainExtendedIsolationForest(X, { extensionLevel: 2 }), { message: 'extensionLevel must be at most cols - 1 = 1, got 2' });
  t.throws(() => trainExtendedIsolationForest(X, { normalPool: -1 }), { code: 'ERR_MODEL_OPTION', message: 'normalPool must be a non-negative integer, got -1' });
  t.throws(() => trainExtendedIsolationForest(matrixFromRows([[1, 2]]), {}), { code: 'ERR_MODEL_SHAPE', message: 'X needs at least 2 rows, got 1' });
  t.throws(() => trainExtendedIsolationForest(matrixFromRows([[1, NaN], [1, 2]]), {}), { message: 'X row 0 column 1 is not finite (NaN)' });
  const m = trainExtendedIsolationForest(X, { trees: 2 });
  t.throws(() => m.scoreRows(matrixFromRows([[1, 2, 3]])), { message: 'X has 3 columns, the model was trained on 2' });
});

t.test('ONNX (MatMul + double TreeEnsemble) equals the reference on every row, hyperplane neighbours included', async (t) => {
  const d = 5;
  const X = gaussian(3000, d, 7);
  const m = trainExtendedIsolationForest(X, { trees: 60, sampleSize: 128, seed: 11 });
  const test = gaussian(1000, d, 8);
  // rows placed 1e-9 either side of split hyperplanes: a float32 projection
  // (relative error ~6e-8) cannot tell their side, the double graph must
  const near: number[][] = [];
  let flipsInFloat32 = 0;
  for (const tree of m.trees.slice(0, 20)) {
    const n = tree.normal.subarray(0, d);
    const nn = n.reduce((s, v) => s + v * v, 0);
    for (const delta of [-1e-9, 1e-9]) {
      const row = Array.from(n, (v) => ((tree.threshold[0]! + delta) / nn) * v);
      near.push(row);
      const dot32 = row.reduce((s, v, j) => Math.fround(s + Math.fround(Math.fround(v) * Math.fround(n[j]!))), 0);
      const dot64 = row.reduce((s, v, j) => s + v * n[j]!, 0);
      if (dot32 < Math.fround(tree.threshold[0]!) !== dot64 < tree.threshold[0]!) flipsInFloat32++;
    }
  }
  t.ok(flipsInFloat32 > 0, `float32 would send ${flipsInFloat32} of ${near.length} rows down the other root branch`);
  const all: Matrix = { rows: test.rows + near.length, cols: d, data: new Float64Array((test.rows + near.length) * d) };
  all.data.set(test.data);
  all.data.set(near.flat(), test.data.length);
  const session = await ort.InferenceSession.create(exportEif(m));
  t.teardown(() => session.release());
  const out = await session.run({ X: new ort.Tensor('float64', all.data, [all.rows, d]) });
  const got = out.score!.data as Float64Array;
  const ref = m.scoreRows(all);
  t.same(out.score!.dims, [all.rows]);
  let worst = 0;
  for (let i = 0; i < all.rows; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  t.ok(worst <= 1e-6, `max |onnx - ts| = ${worst} over ${all.rows} rows`);
  t.ok(worst <= 1e-12, 'in fact to double rounding');
});

t.test('normal pool: every split uses one of M normals, and the ONNX projection has one column per distinct normal', async (t) => {
  const d = 6;
  const X = gaussian(3000, d, 12);
  const pooled = trainExtendedIsolationForest(X, { trees: 40, sampleSize: 128, normalPool: 16, extensionLevel: 3, seed: 13 });
  t.equal(pooled.normalPool, 16);
  const distinct = new Set<string>();
  const nonZero = new Set<number>();
  let splits = 0;
  for (const tree of pooled.trees) {
    for (let i = 0; i < tree.left.length; i++) {
      if (tree.left[i]! < 0) continue;
      splits++;
      const n = Array.from(tree.normal.subarray(i * d, (i + 1) * d));
      nonZero.add(n.filter((v) => v !== 0).length);
      distinct.add(n.join(','));
    }
  }
  t.ok(splits > 16 * 20, `${splits} splits`);
  t.equal(distinct.size, 16, 'the splits share exactly the 16 normals of the pool');
  t.same([...nonZero], [4], 'extension level 3: every pooled normal has 4 non-zero coordinates');
  const projection = eifProjection(pooled);
  t.equal(projection.columns.length, 16, 'one projected column per distinct normal');
  t.same(
    projection.columns.map((c) => Array.from(c).join(',')),
    [...new Set(pooled.trees.flatMap((tree) => Array.from(tree.left).flatMap((l, i) => (l >= 0 ? [Array.from(tree.normal.subarray(i * d, (i + 1) * d)).join(',')] : []))))],
    'columns in order of first use, tree by tree',
  );
  // a forest with a fresh normal per split keeps one column per split
  const fresh = trainExtendedIsolationForest(X, { trees: 5, sampleSize: 64, seed: 13 });
  const freshSplits = fresh.trees.reduce((n, tree) => n + tree.left.filter((l) => l >= 0).length, 0);
  t.equal(eifProjection(fresh).columns.length, freshSplits);
  t.equal(fresh.normalPool, 0);

  // JSON keeps the pool size; a file written before the option existed reads as 0
  const json = JSON.parse(JSON.stringify(pooled.toJSON())) as Record<string, unknown>;
  t.equal(json.normalPool, 16);
  t.equal(EifModel.fromJSON(json).normalPool, 16);
  delete json.normalPool;
  t.equal(EifModel.fromJSON(json).normalPool, 0);

  // parity: the ONNX score equals the reference on every row
  const test = gaussian(2000, d, 14);
  const session = await ort.InferenceSession.create(exportEif(pooled));
  t.teardown(() => session.release());
  const got = (await session.run({ X: new ort.Tensor('float64', test.data, [test.rows, d]) })).score!.data as Float64Array;
  const ref = pooled.scoreRows(test);
  let worst = 0;
  for (let i = 0; i < test.rows; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  t.ok(worst <= 1e-12, `max |onnx - ts| = ${worst} over ${test.rows} rows`);
});
