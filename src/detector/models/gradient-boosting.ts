// Histogram-based second-order gradient boosting for a binary label
// (logistic loss), in the manner of XGBoost (Chen & Guestrin 2016) and
// LightGBM: features are bucketed once into at most `bins` quantile bins; a
// tree grows depth-first from per-node gradient/hessian histograms.
//
// XGBoost eq. 7, the gain of a split:
//   "L_split = 1/2 [ G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - (G_L+G_R)^2/(H_L+H_R+lambda) ] - gamma"
// and eq. 5, the optimal leaf weight "w* = -G / (H + lambda)".
// Sparsity-aware split finding (Algorithm 3): the rows whose value is missing
// (NaN) are tried on both sides and the better side is stored as the node's
// default direction.
//
// A node sends x left when x <= threshold (NaN: the learned direction), the
// same test as ONNX TreeEnsemble's BRANCH_LEQ. Every node keeps its cover,
// the hessian sum of the training rows that reached it: TreeSHAP weighs the
// branches by it.

import { checkMatrix, type Matrix } from './matrix.js';
import { finiteAtLeast, jsonError, nonNegativeInt, optionError, positiveInt, shapeError } from './errors.js';

export interface GbtOptions {
  /** boosting rounds = trees (default 100) */
  rounds?: number;
  /** maximum depth of a tree (default 6) */
  maxDepth?: number;
  /** shrinkage eta applied to every leaf (default 0.1) */
  learningRate?: number;
  /** L2 regularisation of leaf weights (default 1) */
  lambda?: number;
  /** minimum gain to split (default 0) */
  gamma?: number;
  /** minimum hessian sum in each child (default 1) */
  minChildWeight?: number;
  /** histogram bins per feature, 2..255 (default 255) */
  bins?: number;
  /** recorded with the model; training itself is deterministic */
  seed?: number;
  /** per-row weights (default 1) */
  weights?: Float64Array;
}

/** One tree: node 0 is the root, left < 0 marks a leaf. */
export interface GbtTree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** 1 when a missing value (NaN) goes left */
  missingLeft: Uint8Array;
  /** leaf value (learning rate applied); 0 on internal nodes */
  value: Float64Array;
  /** hessian sum of the training rows at the node */
  cover: Float64Array;
}

export interface GbtJson {
  kind: 'gradient-boosting';
  version: 1;
  cols: number;
  baseMargin: number;
  params: Required<Omit<GbtOptions, 'weights'>>;
  trees: { feature: number[]; threshold: number[]; left: number[]; right: number[]; missingLeft: number[]; value: number[]; cover: number[] }[];
}

export class GbtModel {
  constructor(
    readonly cols: number,
    /** log-odds of the (weighted) base rate: the margin before any tree */
    readonly baseMargin: number,
    readonly trees: GbtTree[],
    readonly params: Required<Omit<GbtOptions, 'weights'>>,
  ) {}

  /** Index of the leaf that `row` (at `off`) reaches in `tree`. */
  static leafOf(tree: GbtTree, row: ArrayLike<number>, off = 0): number {
    let node = 0;
    while (tree.left[node]! >= 0) {
      const v = row[off + tree.feature[node]!]!;
      const goLeft = Number.isNaN(v) ? tree.missingLeft[node] === 1 : v <= tree.threshold[node]!;
      node = goLeft ? tree.left[node]! : tree.right[node]!;
    }
    return node;
  }

  marginOfRow(row: ArrayLike<number>, off = 0): number {
    let m = this.baseMargin;
    for (const t of this.trees) m += t.value[GbtModel.leafOf(t, row, off)]!;
    return m;
  }

  predictMargin(X: Matrix): Float64Array {
    checkMatrix(X, 'X', { cols: this.cols, allowNaN: true });
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) out[i] = this.marginOfRow(X.data, i * this.cols);
    return out;
  }

  /** P(y = 1) = sigmoid(margin). */
  predictProba(X: Matrix): Float64Array {
    const m = this.predictMargin(X);
    for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]!);
    return m;
  }

  toJSON(): GbtJson {
    return {
      kind: 'gradient-boosting',
      version: 1,
      cols: this.cols,
      baseMargin: this.baseMargin,
      params: this.params,
      trees: this.trees.map((t) => ({
        feature: Array.from(t.feature),
        threshold: Array.from(t.threshold),
        left: Array.from(t.left),
        right: Array.from(t.right),
        missingLeft: Array.from(t.missingLeft),
        value: Array.from(t.value),
        cover: Array.from(t.cover),
      })),
    };
  }

  static fromJSON(json: unknown): GbtModel {
    const j = json as GbtJson;
    if (!j || j.kind !== 'gradient-boosting' || j.version !== 1) throw jsonError('gradient boosting', 'kind/version mismatch');
    if (!Number.isInteger(j.cols) || !Array.isArray(j.trees) || typeof j.baseMargin !== 'number') throw jsonError('gradient boosting', 'cols, baseMargin or trees missing');
    const trees = j.trees.map((t, k) => {
      const n = t.left.length;
      if ([t.feature, t.threshold, t.right, t.missingLeft, t.value, t.cover].some((a) => a.length !== n)) {
        throw jsonError('gradient boosting', `tree ${k} arrays have inconsistent lengths`);
      }
      return {
        feature: Int32Array.from(t.feature),
        threshold: Float64Array.from(t.threshold),
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        missingLeft: Uint8Array.from(t.missingLeft),
        value: Float64Array.from(t.value),
        cover: Float64Array.from(t.cover),
      };
    });
    return new GbtModel(j.cols, j.baseMargin, trees, j.params);
  }
}

export function sigmoid(m: number): number {
  return 1 / (1 + Math.exp(-m));
}

/** Bucketed features, column-major: bin index per (feature, row); MISSING for NaN. */
interface Binned {
  bins: Uint8Array;
  /** per feature, the cut values: bin b holds cuts[b-1] < x <= cuts[b] */
  cuts: Float64Array[];
}

const MISSING = 255;

function binFeatures(X: Matrix, maxBins: number): Binned {
  const n = X.rows;
  const d = X.cols;
  const bins = new Uint8Array(n * d);
  const cuts: Float64Array[] = [];
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = X.data[i * d + f]!;
      if (!Number.isNaN(v)) col[m++] = v;
    }
    const sorted = col.subarray(0, m).slice().sort();
    // distinct values; if there are few, every one is a cut, else quantiles
    const distinct: number[] = [];
    for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
    let c: number[];
    if (distinct.length <= maxBins) {
      c = distinct;
    } else {
      c = [];
      for (let b = 1; b <= maxBins; b++) {
        const v = sorted[Math.min(m - 1, Math.ceil((b * m) / maxBins) - 1)]!;
        if (c.length === 0 || v > c[c.length - 1]!) c.push(v);
      }
    }
    // the last cut is the column's maximum, so every value has a bin < cuts.length <= 255 (255 is MISSING)
    const fc = Float64Array.from(c);
    cuts.push(fc);
    for (let i = 0; i < n; i++) {
      const v = X.data[i * d + f]!;
      bins[f * n + i] = Number.isNaN(v) ? MISSING : lowerBound(fc, v);
    }
  }
  return { bins, cuts };
}

/** First index b with cuts[b] >= v (cuts.length when none). */
function lowerBound(cuts: Float64Array, v: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cuts[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function trainGradientBoosting(X: Matrix, y: Float64Array, opts: GbtOptions = {}): GbtModel {
  checkMatrix(X, 'X', { minRows: 1, allowNaN: true });
  for (let i = 0; i < X.data.length; i++) {
    const v = X.data[i]!;
    if (!Number.isNaN(v) && !Number.isFinite(v)) throw shapeError(`X row ${Math.floor(i / X.cols)} column ${i % X.cols} is infinite`);
  }
  if (!(y instanceof Float64Array) || y.length !== X.rows) throw shapeError(`y must be a Float64Array of ${X.rows} labels`);
  for (let i = 0; i < y.length; i++) if (y[i] !== 0 && y[i] !== 1) throw shapeError(`y[${i}] must be 0 or 1, got ${y[i]}`);
  const params = {
    rounds: positiveInt('rounds', opts.rounds, 100),
    maxDepth: positiveInt('maxDepth', opts.maxDepth, 6),
    learningRate: finiteAtLeast('learningRate', opts.learningRate, 0.1, 0, true),
    lambda: finiteAtLeast('lambda', opts.lambda, 1, 0),
    gamma: finiteAtLeast('gamma', opts.gamma, 0, 0),
    minChildWeight: finiteAtLeast('minChildWeight', opts.minChildWeight, 1, 0),
    bins: positiveInt('bins', opts.bins, 255),
    seed: nonNegativeInt('seed', opts.seed, 1),
  };
  if (params.bins < 2 || params.bins > 255) throw optionError('bins', 'must be between 2 and 255', params.bins);
  const w = opts.weights ?? new Float64Array(X.rows).fill(1);
  if (!(w instanceof Float64Array) || w.length !== X.rows) throw shapeError(`weights must be a Float64Array of ${X.rows} values`);
  for (let i = 0; i < w.length; i++) if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw optionError(`weights[${i}]`, 'must be a finite number >= 0', w[i]);

  const n = X.rows;
  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i]!;
    swy += w[i]! * y[i]!;
  }
  const p0 = Math.min(1 - 1e-6, Math.max(1e-6, sw > 0 ? swy / sw : 0.5));
  const baseMargin = Math.log(p0 / (1 - p0));
  const binned = binFeatures(X, params.bins);
  const margin = new Float64Array(n).fill(baseMargin);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: GbtTree[] = [];
  const grower = new TreeGrower(binned, X.cols, n, g, h, params);
  for (let r = 0; r < params.rounds; r++) {
    for (let i = 0; i < n; i++) {
      // logistic loss: g = p - y, h = p (1 - p)
      const p = sigmoid(margin[i]!);
      g[i] = (p - y[i]!) * w[i]!;
      h[i] = p * (1 - p) * w[i]!;
    }
    const tree = grower.grow();
    trees.push(tree);
    const leafOfRow = grower.leafOfRow;
    for (let i = 0; i < n; i++) margin[i] = margin[i]! + tree.value[leafOfRow[i]!]!;
  }
  return new GbtModel(X.cols, baseMargin, trees, params);
}

/** Histogram slots per feature: bins 0..254, slot 255 (= MISSING) for NaN. */
const SLOTS = 256;

/**
 * Grows one tree per call. Rows live in one index array, partitioned in
 * place as nodes split (each node owns a contiguous range); a node's
 * gradient/hessian histograms are built only for the smaller child, the
 * larger child's being the parent's minus the smaller's (the LightGBM
 * "histogram subtraction"), which halves the work per level.
 */
class TreeGrower {
  /** leaf reached by each training row in the last grown tree */
  readonly leafOfRow: Int32Array;
  private readonly rows: Int32Array;
  private readonly scratch: Int32Array;
  private readonly score: (G: number, H: number) => number;
  // the tree being grown
  private feature: number[] = [];
  private threshold: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private missingLeft: number[] = [];
  private value: number[] = [];
  private cover: number[] = [];

  constructor(
    private readonly b: Binned,
    private readonly d: number,
    private readonly n: number,
    private readonly g: Float64Array,
    private readonly h: Float64Array,
    private readonly p: Required<Omit<GbtOptions, 'weights'>>,
  ) {
    this.leafOfRow = new Int32Array(n);
    this.rows = new Int32Array(n);
    this.scratch = new Int32Array(n);
    this.score = (G, H) => (G * G) / (H + p.lambda);
  }

  grow(): GbtTree {
    for (let i = 0; i < this.n; i++) this.rows[i] = i;
    this.feature = [];
    this.threshold = [];
    this.left = [];
    this.right = [];
    this.missingLeft = [];
    this.value = [];
    this.cover = [];
    this.node(0, this.n, 0, this.histogram(0, this.n));
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float64Array.from(this.threshold),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      missingLeft: Uint8Array.from(this.missingLeft),
      value: Float64Array.from(this.value),
      cover: Float64Array.from(this.cover),
    };
  }

  /** Gradient and hessian histograms [feature * SLOTS + slot] of rows[start, end). */
  private histogram(start: number, end: number): { hg: Float64Array; hh: Float64Array } {
    const hg = new Float64Array(this.d * SLOTS);
    const hh = new Float64Array(this.d * SLOTS);
    const { rows, g, h, n } = this;
    const bins = this.b.bins;
    for (let f = 0; f < this.d; f++) {
      const base = f * n;
      const off = f * SLOTS;
      for (let q = start; q < end; q++) {
        const i = rows[q]!;
        const slot = off + bins[base + i]!;
        hg[slot] = hg[slot]! + g[i]!;
        hh[slot] = hh[slot]! + h[i]!;
      }
    }
    return { hg, hh };
  }

  private node(start: number, end: number, depth: number, hist: { hg: Float64Array; hh: Float64Array }): number {
    const { p, rows, g, h } = this;
    const id = this.feature.length;
    let G = 0;
    let H = 0;
    for (let q = start; q < end; q++) {
      G += g[rows[q]!]!;
      H += h[rows[q]!]!;
    }
    this.feature.push(0);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.missingLeft.push(0);
    this.value.push((-G / (H + p.lambda)) * p.learningRate);
    this.cover.push(H);
    const best = depth < p.maxDepth && end - start >= 2 ? this.bestSplit(hist, G, H) : undefined;
    if (!best) {
      for (let q = start; q < end; q++) this.leafOfRow[rows[q]!] = id;
      return id;
    }
    // stable in-place partition of rows[start, end)
    const base = best.feature * this.n;
    const bins = this.b.bins;
    let nl = 0;
    let nr = 0;
    for (let q = start; q < end; q++) {
      const i = rows[q]!;
      const bin = bins[base + i]!;
      const goLeft = bin === MISSING ? best.missingLeft : bin <= best.bin;
      if (goLeft) rows[start + nl++] = i;
      else this.scratch[nr++] = i;
    }
    rows.set(this.scratch.subarray(0, nr), start + nl);
    const mid = start + nl;
    this.feature[id] = best.feature;
    this.threshold[id] = this.b.cuts[best.feature]![best.bin]!;
    this.missingLeft[id] = best.missingLeft ? 1 : 0;
    this.value[id] = 0;
    // histogram of the smaller child; the larger one's by subtraction
    const leftSmaller = nl <= nr;
    const small = leftSmaller ? this.histogram(start, mid) : this.histogram(mid, end);
    const large = { hg: hist.hg, hh: hist.hh }; // the parent's arrays are no longer needed
    for (let k = 0; k < large.hg.length; k++) {
      large.hg[k] = large.hg[k]! - small.hg[k]!;
      large.hh[k] = large.hh[k]! - small.hh[k]!;
    }
    this.left[id] = this.node(start, mid, depth + 1, leftSmaller ? small : large);
    this.right[id] = this.node(mid, end, depth + 1, leftSmaller ? large : small);
    return id;
  }

  private bestSplit(hist: { hg: Float64Array; hh: Float64Array }, G: number, H: number): Split | undefined {
    const { p, score } = this;
    const parent = score(G, H);
    let best: Split = { gain: 0, feature: -1, bin: -1, missingLeft: false };
    for (let f = 0; f < this.d; f++) {
      const nb = this.b.cuts[f]!.length;
      if (nb < 2) continue;
      const off = f * SLOTS;
      const Gm = hist.hg[off + MISSING]!;
      const Hm = hist.hh[off + MISSING]!;
      let GL = 0;
      let HL = 0;
      // split after bin k: x <= cuts[k] goes left; the last bin cannot be a split
      for (let k = 0; k < nb - 1; k++) {
        GL += hist.hg[off + k]!;
        HL += hist.hh[off + k]!;
        // missing rows right, then (when there are any) left
        for (let side = 0; side < (Hm > 0 || Gm !== 0 ? 2 : 1); side++) {
          const mLeft = side === 1;
          const gl = mLeft ? GL + Gm : GL;
          const hl = mLeft ? HL + Hm : HL;
          const gr = G - gl;
          const hr = H - hl;
          if (hl < p.minChildWeight || hr < p.minChildWeight) continue;
          const gain = 0.5 * (score(gl, hl) + score(gr, hr) - parent) - p.gamma;
          if (gain > best.gain + 1e-12) best = { gain, feature: f, bin: k, missingLeft: mLeft };
        }
      }
    }
    return best.feature < 0 ? undefined : best;
  }
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
}
