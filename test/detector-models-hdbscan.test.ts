// HDBSCAN: a case worked by hand, and well-separated blobs with noise.
import t from 'tap';
import { Random, hdbscan, matrixFromRows } from '../src/detector/models/index.js';

t.test('by hand: two groups on a line, one point falling out early', async (t) => {
  // minSamples 1: core distance 0, mutual reachability = distance.
  // MST edges 1, 1, 1.5, 6.5, 1, 1. Cutting at 6.5 (lambda 1/6.5) leaves two
  // clusters of >= 3 points; 3.5 leaves A at lambda 1/1.5, the rest of A and
  // all of B leave at lambda 1.
  // S(A) = (2/3 - 1/6.5) + 3 (1 - 1/6.5) = 3.05..., S(B) = 3 (1 - 1/6.5);
  // their sum beats the root, which is never selected anyway.
  const X = matrixFromRows([[0], [1], [2], [3.5], [10], [11], [12]]);
  const { labels, probabilities } = hdbscan(X, { minClusterSize: 3, minSamples: 1 });
  t.same(Array.from(labels), [0, 0, 0, 0, 1, 1, 1]);
  // probability = lambda at which the point left / the cluster's largest lambda (1)
  t.same(Array.from(probabilities).map((p) => +p.toFixed(12)), [1, 1, 1, +(1 / 1.5).toFixed(12), 1, 1, 1]);
});

t.test('by hand: no split leaves two sides of minClusterSize: only the root, so noise unless allowSingleCluster', async (t) => {
  // 100 falls out at lambda 1/79, 20 and 21 at 1/17, 0..3 at 1: the root is
  // the only cluster
  const X = matrixFromRows([[0], [1], [2], [3], [20], [21], [100]]);
  t.same(Array.from(hdbscan(X, { minClusterSize: 3, minSamples: 1 }).labels), [-1, -1, -1, -1, -1, -1, -1]);
  const single = hdbscan(X, { minClusterSize: 3, minSamples: 1, allowSingleCluster: true });
  t.same(Array.from(single.labels), [0, 0, 0, 0, -1, -1, -1], 'members: the points that stay to the largest lambda');
  t.same(Array.from(single.probabilities), [1, 1, 1, 1, 0, 0, 0]);
  t.throws(() => hdbscan(X, { allowSingleCluster: 'yes' as unknown as boolean }), { message: 'allowSingleCluster must be a boolean, got "yes"' });
});

t.test('three blobs and scattered noise', async (t) => {
  const r = new Random(42);
  const centres = [[0, 0], [10, 0], [0, 10]];
  const rows: number[][] = [];
  const truth: number[] = [];
  centres.forEach((c, k) => {
    for (let i = 0; i < 40; i++) {
      rows.push([c[0]! + 0.5 * r.normal(), c[1]! + 0.5 * r.normal()]);
      truth.push(k);
    }
  });
  for (const p of [[30, 30], [-25, 18], [18, -27], [40, -5], [-15, -35]]) {
    rows.push(p);
    truth.push(-1);
  }
  const { labels, probabilities } = hdbscan(matrixFromRows(rows), { minClusterSize: 10 });
  // labels are numbered in the order the clusters appear in the condensed
  // tree; map each true blob to the label its first row got
  const mapping = new Map<number, number>();
  truth.forEach((k, i) => {
    if (k >= 0 && !mapping.has(k)) mapping.set(k, labels[i]!);
  });
  t.same([...new Set(mapping.values())].sort(), [0, 1, 2], 'three distinct clusters');
  t.same(Array.from(labels), truth.map((k) => (k < 0 ? -1 : mapping.get(k)!)), 'every row where it belongs, noise as -1');
  t.ok(probabilities.slice(0, 120).every((p) => p > 0 && p <= 1), 'members have probabilities in (0, 1]');
  t.ok(probabilities.slice(0, 120).some((p) => p === 1), 'the densest members have 1');
});

t.test('degenerate input', async (t) => {
  t.same(Array.from(hdbscan(matrixFromRows([[1, 2], [1, 2]]), { minClusterSize: 5 }).labels), [-1, -1], 'fewer rows than minClusterSize');
  const dup = hdbscan(matrixFromRows(Array.from({ length: 12 }, (_, i) => (i < 6 ? [0, 0] : [5, 5]))), { minClusterSize: 3 });
  t.same(Array.from(dup.labels), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1], 'duplicates (distance 0) cluster');
  t.throws(() => hdbscan(matrixFromRows([[1]]), { minClusterSize: 0 }), { code: 'ERR_MODEL_OPTION', message: 'minClusterSize must be a positive integer, got 0' });
});
