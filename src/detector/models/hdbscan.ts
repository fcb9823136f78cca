// HDBSCAN (Campello, Moulavi & Sander, "Density-Based Clustering Based on
// Hierarchical Density Estimates", 2013; the steps as in McInnes & Healy's
// hdbscan library) to group anomalous clients into campaigns:
//   1. core distance: distance to the minSamples-th nearest neighbour (the
//      point itself counts as the first);
//   2. mutual reachability "d_mreach(a, b) = max{core(a), core(b), d(a, b)}";
//   3. a minimum spanning tree of that graph (Prim, O(n^2) on the dense graph);
//   4. the single-linkage hierarchy from the sorted MST edges;
//   5. the condensed tree: walking down from the root at lambda = 1 / distance,
//      a split where one side has fewer than minClusterSize points is "points
//      falling out of the cluster", not a new cluster;
//   6. excess of mass: cluster stability "S(C) = sum_{x in C} (lambda_max(x, C)
//      - lambda_min(C))"; a cluster is kept when its stability is at least the
//      sum of its children's selected stabilities (the root only with
//      allowSingleCluster).
// Dense O(n^2) distances: meant for the few thousand anomalous clients of a
// window, not for every row.

import { checkMatrix, type Matrix } from './matrix.js';
import { optionError, positiveInt } from './errors.js';

export interface HdbscanOptions {
  /** smallest group reported as a cluster (default 5) */
  minClusterSize?: number;
  /** neighbours for the core distance, self included (default minClusterSize) */
  minSamples?: number;
  /**
   * let the root be the one cluster (default false). As in the hdbscan
   * library, only the root's points that stay to its largest lambda are then
   * members; the ones that fell out earlier are noise.
   */
  allowSingleCluster?: boolean;
}

export interface HdbscanResult {
  /** cluster per row, 0..k-1, or -1 for noise */
  labels: Int32Array;
  /** strength of membership in [0, 1] (0 for noise) */
  probabilities: Float64Array;
}

/** A condensed-tree edge: `child` (a point < n, or a cluster id >= n) leaves `parent` at `lambda`. */
interface CondensedEdge {
  parent: number;
  child: number;
  lambda: number;
  size: number;
}

export function hdbscan(X: Matrix, opts: HdbscanOptions = {}): HdbscanResult {
  checkMatrix(X, 'X');
  const minClusterSize = positiveInt('minClusterSize', opts.minClusterSize, 5);
  const minSamples = positiveInt('minSamples', opts.minSamples, minClusterSize);
  if (opts.allowSingleCluster !== undefined && typeof opts.allowSingleCluster !== 'boolean') {
    throw optionError('allowSingleCluster', 'must be a boolean', opts.allowSingleCluster);
  }
  const first = opts.allowSingleCluster ? 0 : 1;
  const n = X.rows;
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  if (n < Math.max(2, minClusterSize)) return { labels, probabilities };

  const d = X.cols;
  const dist = (a: number, b: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = X.data[a * d + j]! - X.data[b * d + j]!;
      s += e * e;
    }
    return Math.sqrt(s);
  };
  // 1. core distances: the k smallest distances of each row kept sorted by
  // insertion (k is small), O(n^2 k) time, O(k) extra memory
  const core = new Float64Array(n);
  const k = Math.min(minSamples, n);
  const nearest = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    nearest.fill(Infinity);
    for (let j = 0; j < n; j++) {
      const v = i === j ? 0 : dist(i, j);
      if (v >= nearest[k - 1]!) continue;
      let q = k - 1;
      while (q > 0 && nearest[q - 1]! > v) {
        nearest[q] = nearest[q - 1]!;
        q--;
      }
      nearest[q] = v;
    }
    core[i] = nearest[k - 1]!;
  }
  // 2 + 3. Prim's MST over mutual reachability
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  const from = new Int32Array(n).fill(-1);
  const edges: { a: number; b: number; w: number }[] = [];
  let current = 0;
  inTree[0] = 1;
  for (let added = 1; added < n; added++) {
    let next = -1;
    let nextW = Infinity;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const w = Math.max(core[current]!, core[j]!, dist(current, j));
      if (w < best[j]!) {
        best[j] = w;
        from[j] = current;
      }
      if (best[j]! < nextW) {
        nextW = best[j]!;
        next = j;
      }
    }
    inTree[next] = 1;
    edges.push({ a: from[next]!, b: next, w: nextW });
    current = next;
  }
  edges.sort((p, q) => p.w - q.w || p.a - q.a || p.b - q.b);

  // 4. single-linkage hierarchy: node n + m is the m-th merge
  const parentUf = new Int32Array(2 * n - 1);
  for (let i = 0; i < parentUf.length; i++) parentUf[i] = i;
  const find = (x: number): number => {
    while (parentUf[x] !== x) {
      parentUf[x] = parentUf[parentUf[x]!]!;
      x = parentUf[x]!;
    }
    return x;
  };
  const left = new Int32Array(n - 1);
  const right = new Int32Array(n - 1);
  const height = new Float64Array(n - 1);
  const size = new Int32Array(2 * n - 1).fill(1);
  edges.forEach((e, m) => {
    const ra = find(e.a);
    const rb = find(e.b);
    const id = n + m;
    left[m] = ra;
    right[m] = rb;
    height[m] = e.w;
    size[id] = size[ra]! + size[rb]!;
    parentUf[ra] = id;
    parentUf[rb] = id;
  });

  // 5. condensed tree, top-down from the root merge
  const lambdaOf = (w: number): number => (w > 0 ? 1 / w : Infinity);
  const root = 2 * n - 2;
  const condensed: CondensedEdge[] = [];
  const pointsUnder = (node: number, out: number[]): void => {
    const stack = [node];
    while (stack.length) {
      const x = stack.pop()!;
      if (x < n) out.push(x);
      else stack.push(left[x - n]!, right[x - n]!);
    }
  };
  let nextCluster = n + 1;
  // (hierarchy node, cluster label it continues)
  const queue: [number, number][] = [[root, n]];
  for (let head = 0; head < queue.length; head++) {
    const [node, cluster] = queue[head]!;
    if (node < n) continue;
    const m = node - n;
    const lambda = lambdaOf(height[m]!);
    const l = left[m]!;
    const r = right[m]!;
    const lBig = size[l]! >= minClusterSize;
    const rBig = size[r]! >= minClusterSize;
    if (lBig && rBig) {
      for (const c of [l, r]) {
        const id = nextCluster++;
        condensed.push({ parent: cluster, child: id, lambda, size: size[c]! });
        queue.push([c, id]);
      }
    } else {
      for (const [c, big] of [[l, lBig], [r, rBig]] as const) {
        if (big) {
          queue.push([c, cluster]); // the cluster goes on, smaller
        } else {
          const pts: number[] = [];
          pointsUnder(c, pts);
          for (const p of pts) condensed.push({ parent: cluster, child: p, lambda, size: 1 });
        }
      }
    }
  }

  // 6. stability and excess-of-mass selection
  const clusters = nextCluster - n; // ids n .. nextCluster-1, children after parents
  const birth = new Float64Array(clusters); // root born at lambda 0
  const parentOf = new Int32Array(clusters).fill(-1);
  for (const e of condensed) {
    if (e.child >= n) {
      birth[e.child - n] = e.lambda;
      parentOf[e.child - n] = e.parent;
    }
  }
  const stability = new Float64Array(clusters);
  for (const e of condensed) {
    const c = e.parent - n;
    stability[c] = stability[c]! + (finiteLambda(e.lambda) - birth[c]!) * e.size;
  }
  const selected = new Uint8Array(clusters);
  const children: number[][] = Array.from({ length: clusters }, () => []);
  for (let c = 1; c < clusters; c++) children[parentOf[c]! - n]!.push(c);
  for (let c = clusters - 1; c >= first; c--) {
    const childSum = children[c]!.reduce((s, ch) => s + stability[ch]!, 0);
    if (children[c]!.length > 0 && childSum > stability[c]!) {
      stability[c] = childSum;
    } else {
      selected[c] = 1;
      const stack = [...children[c]!];
      while (stack.length) {
        const x = stack.pop()!;
        selected[x] = 0;
        for (const c of children[x]!) stack.push(c);
      }
    }
  }

  // labels: the selected ancestor of the cluster a point fell out of
  const labelOf = new Int32Array(clusters).fill(-1);
  let nextLabel = 0;
  for (let c = first; c < clusters; c++) if (selected[c]) labelOf[c] = nextLabel++;
  const selectedAncestor = (c: number): number => {
    for (let x = c; x >= 0; x = parentOf[x]! >= 0 ? parentOf[x]! - n : -1) if (selected[x]) return x;
    return -1;
  };
  // "death": the largest lambda at which anything leaves a cluster, over its subtree
  const maxLambda = new Float64Array(clusters);
  for (const e of condensed) {
    const c = e.parent - n;
    maxLambda[c] = Math.max(maxLambda[c]!, finiteLambda(e.lambda));
  }
  for (let c = clusters - 1; c >= 1; c--) {
    const p = parentOf[c]! - n;
    maxLambda[p] = Math.max(maxLambda[p]!, maxLambda[c]!);
  }
  let maxDirect = 0;
  for (const e of condensed) if (e.parent === n) maxDirect = Math.max(maxDirect, e.lambda);
  for (const e of condensed) {
    if (e.child >= n) continue;
    const s = selectedAncestor(e.parent - n);
    if (s < 0) continue;
    if (s === 0 && e.parent === n && e.lambda < maxDirect) continue; // fell out of the single root cluster early
    labels[e.child] = labelOf[s]!;
    const death = maxLambda[s]!;
    probabilities[e.child] = death > 0 ? Math.min(finiteLambda(e.lambda), death) / death : 1;
  }
  return { labels, probabilities };
}

/** Duplicate points merge at distance 0 (lambda = infinity); they count as the densest finite level. */
function finiteLambda(lambda: number): number {
  return Number.isFinite(lambda) ? lambda : Number.MAX_VALUE / 1e10;
}
