// Gradient boosting (histogram, second order, learned missing direction),
// its exact TreeSHAP, and their ONNX form scored by onnxruntime.
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { GbtModel, Random, matrixFromRows, rowOf, trainGradientBoosting, treeShap, expectedMargin, type GbtTree, type Matrix } from '../src/detector/models/index.js';
import { exportGbt } from '../src/detector/onnx/index.js';

/** Labels: bot when x0 > 0.6 and x1 < 0.5, or when x2 is missing (a header never sent). */
function dataset(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const r = new Random(seed);
  const d = 4;
  const data = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = r.next();
    const x1 = r.next();
    const missing = r.next() < 0.15;
    data.set([x0, x1, missing ? NaN : r.normal(), r.normal()], i * d);
    y[i] = (x0 > 0.6 && x1 < 0.5) || missing ? 1 : 0;
  }
  return { X: { rows: n, cols: d, data }, y };
}

t.test('one stump by hand: gain, threshold and leaf weights of XGBoost eq. 5 and 7', async (t) => {
  // margin 0 at start (base rate 1/2): g = p - y = +-0.5, h = 0.25
  const X = matrixFromRows([[1], [2], [3], [4]]);
  const y = Float64Array.of(0, 0, 1, 1);
  const m = trainGradientBoosting(X, y, { rounds: 1, maxDepth: 1, learningRate: 1, lambda: 1, minChildWeight: 0 });
  t.equal(m.baseMargin, 0);
  const tree = m.trees[0]!;
  t.same(Array.from(tree.left), [1, -1, -1]);
  t.equal(tree.feature[0], 0);
  t.equal(tree.threshold[0], 2, 'x <= 2 goes left');
  // left: G = 0.5 + 0.5 = 1, H = 0.5 -> w = -1 / 1.5; right w = +1 / 1.5
  t.equal(tree.value[1], -1 / 1.5);
  t.equal(tree.value[2], 1 / 1.5);
  t.same(Array.from(tree.cover), [1, 0.5, 0.5]);
  t.same(Array.from(m.predictMargin(X)), [-1 / 1.5, -1 / 1.5, 1 / 1.5, 1 / 1.5]);
});

t.test('learns the rule and the missing-value direction', async (t) => {
  const { X, y } = dataset(3000, 1);
  const m = trainGradientBoosting(X, y, { rounds: 40, maxDepth: 3, learningRate: 0.3, seed: 1 });
  const test = dataset(1000, 2);
  const p = m.predictProba(test.X);
  let errors = 0;
  for (let i = 0; i < p.length; i++) if ((p[i]! > 0.5 ? 1 : 0) !== test.y[i]) errors++;
  t.ok(errors <= 10, `held-out errors ${errors} of 1000`);
  const probe = m.predictProba(matrixFromRows([[0.1, 0.9, NaN, 0], [0.1, 0.9, 0.3, 0], [0.9, 0.1, 0.3, 0]]));
  t.ok(probe[0]! > 0.95, `NaN in x2 -> bot (${probe[0]})`);
  t.ok(probe[1]! < 0.05, `x2 present, rule off -> human (${probe[1]})`);
  t.ok(probe[2]! > 0.95, `rule on -> bot (${probe[2]})`);
  // same seed, same data -> identical model
  t.same(trainGradientBoosting(X, y, { rounds: 40, maxDepth: 3, learningRate: 0.3, seed: 1 }).toJSON(), m.toJSON());
  // JSON round trip
  const back = GbtModel.fromJSON(JSON.parse(JSON.stringify(m)));
  t.same(Array.from(back.predictMargin(test.X)), Array.from(m.predictMargin(test.X)));
});

t.test('regularisation: gamma prunes, minChildWeight bounds leaves', async (t) => {
  const { X, y } = dataset(500, 3);
  const pruned = trainGradientBoosting(X, y, { rounds: 1, maxDepth: 4, gamma: 1e6 });
  t.same(Array.from(pruned.trees[0]!.left), [-1], 'no split is worth gamma = 1e6');
  const m = trainGradientBoosting(X, y, { rounds: 3, maxDepth: 6, minChildWeight: 20 });
  for (const tr of m.trees) for (let i = 0; i < tr.left.length; i++) t.ok(tr.cover[i]! >= 20, 'cover >= minChildWeight');
});

t.test('a weight of 2 is the same as the row twice', async (t) => {
  // values on a 0.01 grid: fewer distinct values than bins, so duplicating
  // rows cannot move the cut points
  const r = new Random(8);
  const base: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 300; i++) {
    const row = [Math.round(r.next() * 100) / 100, Math.round(r.next() * 100) / 100];
    base.push(row);
    labels.push(row[0]! + 0.3 * row[1]! > 0.6 ? 1 : 0);
  }
  const twice = base.flatMap((row, i) => (labels[i] ? [row, row] : [row]));
  const twiceLabels = labels.flatMap((l) => (l ? [1, 1] : [0]));
  const weighted = trainGradientBoosting(matrixFromRows(base), Float64Array.from(labels), { rounds: 10, maxDepth: 3, weights: Float64Array.from(labels, (l) => (l ? 2 : 1)) });
  const duplicated = trainGradientBoosting(matrixFromRows(twice), Float64Array.from(twiceLabels), { rounds: 10, maxDepth: 3 });
  t.same(weighted.trees.map((tr) => Array.from(tr.feature)), duplicated.trees.map((tr) => Array.from(tr.feature)), 'same splits');
  const a = weighted.predictMargin(matrixFromRows(base));
  const b = duplicated.predictMargin(matrixFromRows(base));
  t.ok(a.every((v, i) => Math.abs(v - b[i]!) < 1e-9), 'same margins');
  t.throws(() => trainGradientBoosting(matrixFromRows(base), Float64Array.from(labels), { weights: new Float64Array(300).fill(-1) }), { message: 'weights[0] must be a finite number >= 0, got -1' });
});

t.test('option and shape errors name the option', async (t) => {
  const { X, y } = dataset(10, 4);
  t.throws(() => trainGradientBoosting(X, y, { rounds: 0 }), { code: 'ERR_MODEL_OPTION', message: 'rounds must be a positive integer, got 0' });
  t.throws(() => trainGradientBoosting(X, y, { bins: 300 }), { message: 'bins must be between 2 and 255, got 300' });
  t.throws(() => trainGradientBoosting(X, y, { lambda: -1 }), { message: 'lambda must be a finite number >= 0, got -1' });
  t.throws(() => trainGradientBoosting(X, Float64Array.of(1)), { code: 'ERR_MODEL_SHAPE' });
  t.throws(() => trainGradientBoosting(X, new Float64Array(10).fill(2)), { message: 'y[0] must be 0 or 1, got 2' });
  t.throws(() => GbtModel.fromJSON({ kind: 'x' }), { code: 'ERR_MODEL_JSON' });
});

/** E[f(x) | x_S] of one tree, by definition (Lundberg et al. Algorithm 1). */
function expValue(tr: GbtTree, x: Float64Array, S: Set<number>, node = 0): number {
  if (tr.left[node]! < 0) return tr.value[node]!;
  const f = tr.feature[node]!;
  const l = tr.left[node]!;
  const r = tr.right[node]!;
  if (S.has(f)) {
    const v = x[f]!;
    const goLeft = Number.isNaN(v) ? tr.missingLeft[node] === 1 : v <= tr.threshold[node]!;
    return expValue(tr, x, S, goLeft ? l : r);
  }
  return (tr.cover[l]! * expValue(tr, x, S, l) + tr.cover[r]! * expValue(tr, x, S, r)) / tr.cover[node]!;
}

function repeatsFeature(tr: GbtTree, node: number, seen: Set<number>): boolean {
  if (tr.left[node]! < 0) return false;
  const f = tr.feature[node]!;
  if (seen.has(f)) return true;
  const next = new Set(seen).add(f);
  return repeatsFeature(tr, tr.left[node]!, next) || repeatsFeature(tr, tr.right[node]!, next);
}

function bruteForceShap(m: GbtModel, x: Float64Array): Float64Array {
  const M = m.cols;
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const v = (S: Set<number>): number => m.trees.reduce((s, tr) => s + expValue(tr, x, S), m.baseMargin);
  const phi = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    for (let mask = 0; mask < 1 << M; mask++) {
      if (mask & (1 << i)) continue;
      const S = new Set<number>();
      for (let j = 0; j < M; j++) if (mask & (1 << j)) S.add(j);
      const w = (fact(S.size) * fact(M - S.size - 1)) / fact(M);
      const without = v(S);
      S.add(i);
      phi[i] = phi[i]! + w * (v(S) - without);
    }
  }
  return phi;
}

t.test('TreeSHAP equals brute-force Shapley values and is additive', async (t) => {
  const { X, y } = dataset(400, 5);
  // an interval on x0 needs two splits on x0 along one path
  const band = y.map((_, i) => ((X.data[i * 4]! > 0.3 && X.data[i * 4]! < 0.7) || Number.isNaN(X.data[i * 4 + 2]!) ? 1 : 0));
  const small = trainGradientBoosting(X, band, { rounds: 4, maxDepth: 4, learningRate: 0.5, minChildWeight: 0.5 });
  t.ok(small.trees.some((tr) => tr.left.length >= 9), 'trees have several levels');
  t.ok(small.trees.some((tr) => repeatsFeature(tr, 0, new Set())), 'some path splits twice on one feature (the UNWIND case)');
  let worst = 0;
  for (const i of [0, 1, 2, 3, 7, 11, 50]) {
    const x = rowOf(X, i).slice();
    const fast = treeShap(small, x);
    const slow = bruteForceShap(small, x);
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(fast[j]! - slow[j]!));
  }
  t.ok(worst < 1e-9, `max |TreeSHAP - brute force| = ${worst}`);
  // a row with a missing value
  const x = Float64Array.of(0.7, 0.2, NaN, 1);
  const d = treeShap(small, x);
  const b = bruteForceShap(small, x);
  t.ok(Math.max(...d.map((v, j) => Math.abs(v - b[j]!))) < 1e-9, 'NaN row agrees');

  const big = trainGradientBoosting(X, y, { rounds: 30, maxDepth: 6 });
  const margins = big.predictMargin(X);
  const base = expectedMargin(big);
  let worstSum = 0;
  for (let i = 0; i < 50; i++) {
    const phi = treeShap(big, rowOf(X, i).slice());
    worstSum = Math.max(worstSum, Math.abs(phi.reduce((s, v) => s + v, 0) + base - margins[i]!));
  }
  t.ok(worstSum < 1e-9, `sum(phi) + E[f] == margin (max error ${worstSum})`);
  t.throws(() => treeShap(big, new Float64Array(2)), { code: 'ERR_MODEL_SHAPE' });
});

t.test('ONNX TreeEnsemble (double) equals the TypeScript probabilities', async (t) => {
  const { X, y } = dataset(2000, 6);
  const m = trainGradientBoosting(X, y, { rounds: 50, maxDepth: 5 });
  const test = dataset(1000, 7);
  const session = await ort.InferenceSession.create(exportGbt(m));
  t.teardown(() => session.release());
  const out = await session.run({ X: new ort.Tensor('float64', test.X.data, [test.X.rows, test.X.cols]) });
  const got = out.proba!.data as Float64Array;
  const ref = m.predictProba(test.X);
  t.same(out.proba!.dims, [1000]);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  t.ok(worst <= 1e-12, `max |onnx - ts| = ${worst}`);
  t.ok(test.X.data.some((v) => Number.isNaN(v)), 'the test set has missing values');
});
