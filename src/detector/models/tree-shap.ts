// Exact TreeSHAP for the boosted trees (Lundberg, Erion & Lee, "Consistent
// Individualized Feature Attribution for Tree Ensembles", 2018, Algorithm 2):
// the Shapley values of the conditional expectations E[f(x) | x_S], where a
// feature outside S follows both branches weighted by the training cover.
// Runs in O(T L D^2) instead of the exponential subset sum; the result
// satisfies local accuracy: sum(phi) + expectedMargin(model) == margin(x).
//
// Algorithm 2 keeps, along the path from the root, the "unique path" m of
// features split on so far with, for each, the fraction of zero paths (cover
// share: the feature is not in S) and one paths (x goes this way: the feature
// is in S) that flow through, and the proportion pweight of subsets of each
// size; EXTEND adds a feature, UNWIND undoes one (when a feature repeats on a
// path, or to read off its weight at a leaf).

import type { GbtModel, GbtTree } from './gradient-boosting.js';
import { shapeError } from './errors.js';

interface PathElement {
  feature: number;
  zero: number;
  one: number;
  pweight: number;
}

/** Margin of a row with no features known: base margin plus each tree's cover-weighted mean leaf. */
export function expectedMargin(model: GbtModel): number {
  let e = model.baseMargin;
  for (const t of model.trees) e += treeExpectation(t, 0);
  return e;
}

function treeExpectation(t: GbtTree, node: number): number {
  if (t.left[node]! < 0) return t.value[node]!;
  const c = t.cover[node]!;
  if (!(c > 0)) return 0;
  const l = t.left[node]!;
  const r = t.right[node]!;
  return (t.cover[l]! * treeExpectation(t, l) + t.cover[r]! * treeExpectation(t, r)) / c;
}

/** SHAP values of the margin (log-odds) for one row, one per feature. */
export function treeShap(model: GbtModel, row: Float64Array): Float64Array {
  if (row.length !== model.cols) throw shapeError(`row has ${row.length} values, the model was trained on ${model.cols}`);
  const phi = new Float64Array(model.cols);
  for (const t of model.trees) {
    if (t.left[0]! < 0) continue; // a single leaf is part of the expectation only
    recurse(t, row, phi, 0, [], 0, 1, 1, -1);
  }
  return phi;
}

function extend(path: PathElement[], depth: number, zero: number, one: number, feature: number): void {
  path[depth] = { feature, zero, one, pweight: depth === 0 ? 1 : 0 };
  for (let i = depth - 1; i >= 0; i--) {
    path[i + 1]!.pweight += (one * path[i]!.pweight * (i + 1)) / (depth + 1);
    path[i]!.pweight = (zero * path[i]!.pweight * (depth - i)) / (depth + 1);
  }
}

function unwind(path: PathElement[], depth: number, index: number): void {
  const { one, zero } = path[index]!;
  let nextOne = path[depth]!.pweight;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = path[i]!.pweight;
      path[i]!.pweight = (nextOne * (depth + 1)) / ((i + 1) * one);
      nextOne = tmp - (path[i]!.pweight * zero * (depth - i)) / (depth + 1);
    } else {
      path[i]!.pweight = (path[i]!.pweight * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    path[i]!.feature = path[i + 1]!.feature;
    path[i]!.zero = path[i + 1]!.zero;
    path[i]!.one = path[i + 1]!.one;
  }
}

/** Total pweight of the path with element `index` unwound, without modifying it. */
function unwoundSum(path: PathElement[], depth: number, index: number): number {
  const { one, zero } = path[index]!;
  let nextOne = path[depth]!.pweight;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (nextOne * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      nextOne = path[i]!.pweight - (tmp * zero * (depth - i)) / (depth + 1);
    } else {
      total += path[i]!.pweight / ((zero * (depth - i)) / (depth + 1));
    }
  }
  return total;
}

function recurse(
  t: GbtTree,
  x: Float64Array,
  phi: Float64Array,
  node: number,
  parentPath: PathElement[],
  depthIn: number,
  parentZero: number,
  parentOne: number,
  parentFeature: number,
): void {
  let depth = depthIn;
  const path = parentPath.slice(0, depth).map((e) => ({ ...e }));
  extend(path, depth, parentZero, parentOne, parentFeature);
  const l = t.left[node]!;
  if (l < 0) {
    for (let i = 1; i <= depth; i++) {
      const w = unwoundSum(path, depth, i);
      const e = path[i]!;
      phi[e.feature] = phi[e.feature]! + w * (e.one - e.zero) * t.value[node]!;
    }
    return;
  }
  const r = t.right[node]!;
  const f = t.feature[node]!;
  const v = x[f]!;
  const goLeft = Number.isNaN(v) ? t.missingLeft[node] === 1 : v <= t.threshold[node]!;
  const hot = goLeft ? l : r;
  const cold = goLeft ? r : l;
  const c = t.cover[node]!;
  const hotZero = c > 0 ? t.cover[hot]! / c : 0;
  const coldZero = c > 0 ? t.cover[cold]! / c : 0;
  let incomingZero = 1;
  let incomingOne = 1;
  // a feature already on the path: undo that split and fold its fractions in
  let k = 0;
  for (; k <= depth; k++) if (path[k]!.feature === f) break;
  if (k !== depth + 1) {
    incomingZero = path[k]!.zero;
    incomingOne = path[k]!.one;
    unwind(path, depth, k);
    depth -= 1;
  }
  recurse(t, x, phi, hot, path, depth + 1, hotZero * incomingZero, incomingOne, f);
  recurse(t, x, phi, cold, path, depth + 1, coldZero * incomingZero, 0, f);
}
