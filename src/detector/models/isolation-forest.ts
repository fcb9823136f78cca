// Extended isolation forest (Hariri, Kind & Brunner, "Extended Isolation
// Forest", 2018): every split is a random hyperplane instead of an
// axis-parallel cut, which removes the axis-aligned "ghost" regions of the
// original isolation forest's score map.
//
// "the branching criterion for the data splitting for a given point x is
//  (x - p) . n <= 0" with "n ... drawn from a normal distribution N(0,1)"
// and "p ... drawn from a uniform distribution over the range of values
// present at each branching point" (Algorithm 2). The extension level sets
// how many coordinates of n stay non-zero (0 = the original forest).
//
// We store each split as its normal n and threshold t = p . n and go left
// when x . n < t: the ONNX form computes x . n with one MatMul and compares it
// with t in a tree ensemble, so the reference must test exactly the same
// quantity (x . n - p . n and (x - p) . n round differently).
//
// Normal pool (`normalPool` M > 0): the forest draws M random normals up
// front and every split picks one of them (its threshold is still drawn in
// the node's bounding box). Scoring pays one projected column per distinct
// normal: a fresh normal per split costs ~60 columns per tree of psi 128 (a
// MatMul 60x wider than the tree walk reads), a pool of 64 costs 64 columns
// for the whole forest. M = d axis normals would be the original forest; a
// few times d random directions keep the extended forest's oblique cuts
// (measured: the same ROC AUC as fresh normals on our synthetic populations,
// see docs/detector-models.md).

import { checkMatrix, type Matrix } from './matrix.js';
import { Random } from './random.js';
import { jsonError, nonNegativeInt, optionError, positiveInt, shapeError } from './errors.js';

export interface EifOptions {
  /** number of trees (default 100) */
  trees?: number;
  /** rows drawn (without replacement) per tree, psi (default 256, capped at the row count) */
  sampleSize?: number;
  /** non-zero coordinates of each normal minus one; 0 = axis-parallel, cols - 1 = fully extended (default) */
  extensionLevel?: number;
  /**
   * distinct split normals the forest draws from (default 0: a fresh normal
   * for every split, as in the paper); each split picks one of the pool's
   * normals at random and keeps its own threshold
   */
  normalPool?: number;
  seed?: number;
}

/** One tree as flat node arrays; node 0 is the root. */
export interface EifTree {
  /** left child, or -1 for a leaf */
  left: Int32Array;
  right: Int32Array;
  /** split threshold t = p . n (internal nodes) */
  threshold: Float64Array;
  /** normals, cols per node (zeros for leaves) */
  normal: Float64Array;
  /** depth of the node (root 0) */
  depth: Int32Array;
  /** training rows that reached the node (leaves use it for c(size)) */
  size: Int32Array;
}

export interface EifJson {
  kind: 'extended-isolation-forest';
  version: 1;
  cols: number;
  sampleSize: number;
  extensionLevel: number;
  /** 0 (or absent, in files written before it existed): a fresh normal per split */
  normalPool?: number;
  seed: number;
  trees: { left: number[]; right: number[]; threshold: number[]; normal: number[]; depth: number[]; size: number[] }[];
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * Average path length of an unsuccessful BST search over n points, used both
 * to normalise the score and to credit a leaf that still holds n points:
 * "c(n) = 2H(n-1) - (2(n-1)/n)" with "H(i) ... estimated by ln(i) + 0.5772156649"
 * (Liu, Ting & Zhou 2008, eq. 1).
 */
export function averagePathLength(n: number): number {
  if (n > 2) return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
  if (n === 2) return 1;
  return 0;
}

export class EifModel {
  constructor(
    readonly cols: number,
    readonly sampleSize: number,
    readonly extensionLevel: number,
    readonly seed: number,
    readonly trees: EifTree[],
    readonly normalPool = 0,
  ) {}

  /** c(psi): the score's normaliser. */
  get normaliser(): number {
    return averagePathLength(this.sampleSize);
  }

  /** Path length h(x) in one tree: depth of the leaf plus c(size at the leaf). */
  pathLength(tree: EifTree, row: Float64Array, off = 0): number {
    const d = this.cols;
    let node = 0;
    for (;;) {
      const l = tree.left[node]!;
      if (l < 0) return tree.depth[node]! + averagePathLength(tree.size[node]!);
      let dot = 0;
      const base = node * d;
      for (let j = 0; j < d; j++) dot += row[off + j]! * tree.normal[base + j]!;
      node = dot < tree.threshold[node]! ? l : tree.right[node]!;
    }
  }

  /** Mean path length E[h(x)] over the trees, per row. */
  meanPathLengths(X: Matrix): Float64Array {
    checkMatrix(X, 'X', { cols: this.cols });
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let sum = 0;
      for (const tree of this.trees) sum += this.pathLength(tree, X.data, i * this.cols);
      out[i] = sum / this.trees.length;
    }
    return out;
  }

  /** Anomaly score s(x, psi) = 2^(-E[h(x)] / c(psi)), in (0, 1]; above 0.5 is anomalous. */
  scoreRows(X: Matrix): Float64Array {
    const e = this.meanPathLengths(X);
    const c = this.normaliser;
    for (let i = 0; i < e.length; i++) e[i] = Math.pow(2, -e[i]! / c);
    return e;
  }

  toJSON(): EifJson {
    return {
      kind: 'extended-isolation-forest',
      version: 1,
      cols: this.cols,
      sampleSize: this.sampleSize,
      extensionLevel: this.extensionLevel,
      normalPool: this.normalPool,
      seed: this.seed,
      trees: this.trees.map((t) => ({
        left: Array.from(t.left),
        right: Array.from(t.right),
        threshold: Array.from(t.threshold),
        normal: Array.from(t.normal),
        depth: Array.from(t.depth),
        size: Array.from(t.size),
      })),
    };
  }

  static fromJSON(json: unknown): EifModel {
    const j = json as EifJson;
    if (!j || j.kind !== 'extended-isolation-forest' || j.version !== 1) throw jsonError('extended isolation forest', 'kind/version mismatch');
    if (!Number.isInteger(j.cols) || !Array.isArray(j.trees) || j.trees.length === 0) throw jsonError('extended isolation forest', 'cols or trees missing');
    const trees = j.trees.map((t, k) => {
      const n = t.left.length;
      if ([t.right, t.threshold, t.depth, t.size].some((a) => a.length !== n) || t.normal.length !== n * j.cols) {
        throw jsonError('extended isolation forest', `tree ${k} arrays have inconsistent lengths`);
      }
      return {
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        threshold: Float64Array.from(t.threshold),
        normal: Float64Array.from(t.normal),
        depth: Int32Array.from(t.depth),
        size: Int32Array.from(t.size),
      };
    });
    return new EifModel(j.cols, j.sampleSize, j.extensionLevel, j.seed, trees, j.normalPool ?? 0);
  }
}

export function trainExtendedIsolationForest(X: Matrix, opts: EifOptions = {}): EifModel {
  checkMatrix(X, 'X', { minRows: 2 });
  const trees = positiveInt('trees', opts.trees, 100);
  const sampleSize = Math.min(positiveInt('sampleSize', opts.sampleSize, 256), X.rows);
  if (sampleSize < 2) throw optionError('sampleSize', 'must be at least 2', opts.sampleSize);
  const extensionLevel = nonNegativeInt('extensionLevel', opts.extensionLevel, X.cols - 1);
  if (extensionLevel > X.cols - 1) throw optionError('extensionLevel', `must be at most cols - 1 = ${X.cols - 1}`, extensionLevel);
  const normalPool = nonNegativeInt('normalPool', opts.normalPool, 0);
  const seed = nonNegativeInt('seed', opts.seed, 1);
  const rng = new Random(seed);
  const pool = normalPool > 0 ? Array.from({ length: normalPool }, () => randomNormal(X.cols, extensionLevel, rng)) : undefined;
  // "the tree height limit l is automatically set by the subsampling size:
  //  l = ceiling(log2 psi)" (Liu et al. 2008, section 4)
  const heightLimit = Math.ceil(Math.log2(sampleSize));
  const out: EifTree[] = [];
  for (let t = 0; t < trees; t++) {
    out.push(buildTree(X, rng.sample(X.rows, sampleSize), heightLimit, extensionLevel, rng, pool));
  }
  return new EifModel(X.cols, sampleSize, extensionLevel, seed, out, normalPool);
}

/** n ~ N(0, I) with extensionLevel + 1 coordinates kept and the others zeroed. */
function randomNormal(d: number, extensionLevel: number, rng: Random): Float64Array {
  const n = new Float64Array(d);
  for (let j = 0; j < d; j++) n[j] = rng.normal();
  for (const j of rng.sample(d, d - extensionLevel - 1)) n[j] = 0;
  return n;
}

function buildTree(X: Matrix, sample: Int32Array, heightLimit: number, extensionLevel: number, rng: Random, pool: Float64Array[] | undefined): EifTree {
  const d = X.cols;
  const left: number[] = [];
  const right: number[] = [];
  const threshold: number[] = [];
  const normal: number[] = [];
  const depth: number[] = [];
  const size: number[] = [];
  const lo = new Float64Array(d);
  const hi = new Float64Array(d);
  const build = (rows: Int32Array, level: number): number => {
    const id = left.length;
    left.push(-1);
    right.push(-1);
    threshold.push(0);
    depth.push(level);
    size.push(rows.length);
    for (let j = 0; j < d; j++) normal.push(0);
    if (level >= heightLimit || rows.length <= 1) return id;
    lo.fill(Infinity);
    hi.fill(-Infinity);
    for (const r of rows) {
      for (let j = 0; j < d; j++) {
        const v = X.data[r * d + j]!;
        if (v < lo[j]!) lo[j] = v;
        if (v > hi[j]!) hi[j] = v;
      }
    }
    const n = pool ? pool[rng.int(pool.length)]! : randomNormal(d, extensionLevel, rng);
    let t = 0;
    for (let j = 0; j < d; j++) t += rng.uniform(lo[j]!, hi[j]!) * n[j]!;
    const dots = new Float64Array(rows.length);
    let dmin = Infinity;
    let dmax = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += X.data[r * d + j]! * n[j]!;
      dots[i] = dot;
      if (dot < dmin) dmin = dot;
      if (dot > dmax) dmax = dot;
    }
    // Liu et al. 2008 grow an iTree "until: (i) the tree reaches a height
    // limit, (ii) |X| = 1 or (iii) all data in X have the same values". Here:
    // when every row projects to the same value (identical rows, such as a
    // bot's repeated windows, or a normal living only on constant
    // coordinates) the threshold lands exactly on them, and which side they
    // fall on would depend on the summation order (ONNX's MatMul and this
    // loop differ): such a node is a leaf.
    if (dmin === dmax) {
      for (let j = 0; j < d; j++) normal[id * d + j] = 0;
      return id;
    }
    const goLeft: number[] = [];
    const goRight: number[] = [];
    for (let i = 0; i < rows.length; i++) (dots[i]! < t ? goLeft : goRight).push(rows[i]!);
    threshold[id] = t;
    for (let j = 0; j < d; j++) normal[id * d + j] = n[j]!;
    left[id] = build(Int32Array.from(goLeft), level + 1);
    right[id] = build(Int32Array.from(goRight), level + 1);
    return id;
  };
  build(sample, 0);
  return {
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    threshold: Float64Array.from(threshold),
    normal: Float64Array.from(normal),
    depth: Int32Array.from(depth),
    size: Int32Array.from(size),
  };
}

/**
 * Path-based attribution for one row (DIFFI-style, Carletti et al. 2020, in
 * spirit): in every tree, each split on the row's path credits the features by
 * their share |n_j * (x_j - m_j)| of the split's decision, where m is the
 * hyperplane's closest point to the origin along n (so the shares say which
 * coordinates put x on its side); a tree's total credit is 1 / h(x), so the
 * trees that isolate the row quickly count most. The result is normalised to
 * sum to 1 (all zeros when no split had any weight).
 */
export function eifAttribution(model: EifModel, row: Float64Array): Float64Array {
  const d = model.cols;
  if (row.length !== d) throw shapeError(`row has ${row.length} values, the model was trained on ${d}`);
  const phi = new Float64Array(d);
  const share = new Float64Array(d);
  for (const tree of model.trees) {
    const h = model.pathLength(tree, row);
    const w = h > 0 ? 1 / h : 0;
    let node = 0;
    while (tree.left[node]! >= 0) {
      const base = node * d;
      let nn = 0;
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const nj = tree.normal[base + j]!;
        nn += nj * nj;
        dot += row[j]! * nj;
      }
      const scale = nn > 0 ? tree.threshold[node]! / nn : 0;
      let total = 0;
      for (let j = 0; j < d; j++) {
        const nj = tree.normal[base + j]!;
        share[j] = Math.abs(nj * (row[j]! - scale * nj));
        total += share[j]!;
      }
      if (total > 0) for (let j = 0; j < d; j++) phi[j] = phi[j]! + (w * share[j]!) / total;
      node = dot < tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
    }
  }
  let sum = 0;
  for (let j = 0; j < d; j++) sum += phi[j]!;
  if (sum > 0) for (let j = 0; j < d; j++) phi[j] = phi[j]! / sum;
  return phi;
}
