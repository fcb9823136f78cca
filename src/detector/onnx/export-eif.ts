// Extended isolation forest -> ONNX:
//   X [N,d] --MatMul W [d,K]--> P [N,K]   (K = every distinct split normal of every tree)
//   P --TreeEnsemble(AVERAGE, BRANCH_LT on P[:,k] < t_k)--> E [N,1]   leaves = depth + c(size)
//   score = 2 ^ (-E / c(psi))  -> [N]
// All in double: a float32 projection moves x . n by ~1e-7 relative, enough
// to send a row that lies near a hyperplane down the other branch.
// Splits sharing a normal (a forest trained with a normal pool) share one
// projected column: K, the MatMul's width, is what scoring pays per row.

import type { EifModel } from '../models/isolation-forest.js';
import { averagePathLength } from '../models/isolation-forest.js';
import { DataType, ML_DOMAIN, modelBytes, node, tensor, valueInfo } from './onnx-proto.js';
import { Aggregate, BranchMode, treeEnsembleNode, type FlatTree } from './tree-ensemble.js';

export const ONNX_OPSET = 21;
export const ONNX_ML_OPSET = 5;

/** The projection's columns (distinct split normals) and the trees over them. */
export interface EifProjection {
  /** K normals of d values each: column k of W */
  columns: Float64Array[];
  /** the trees with `feature` = the column of each split's normal */
  trees: FlatTree[];
}

export function eifProjection(model: EifModel): EifProjection {
  const d = model.cols;
  // one projected column per distinct normal, numbered in order of first use
  const columns: Float64Array[] = [];
  const columnOf = new Map<string, number>();
  const trees: FlatTree[] = model.trees.map((t) => {
    const n = t.left.length;
    const feature = new Int32Array(n);
    const leafValue = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (t.left[i]! >= 0) {
        const normal = t.normal.subarray(i * d, (i + 1) * d);
        const key = normal.join(',');
        let c = columnOf.get(key);
        if (c === undefined) {
          c = columns.length;
          columnOf.set(key, c);
          columns.push(normal);
        }
        feature[i] = c;
      } else {
        leafValue[i] = t.depth[i]! + averagePathLength(t.size[i]!);
      }
    }
    return { left: t.left, right: t.right, feature, threshold: t.threshold, leafValue };
  });
  return { columns, trees };
}

export function exportEif(model: EifModel): Uint8Array {
  const d = model.cols;
  const { columns, trees } = eifProjection(model);
  const k = Math.max(columns.length, 1);
  const w = new Float64Array(d * k); // [d, K] row-major
  columns.forEach((col, c) => {
    for (let j = 0; j < d; j++) w[j * k + c] = col[j]!;
  });
  const D = DataType.DOUBLE;
  return modelBytes({
    doc: `extended isolation forest: ${model.trees.length} trees, psi ${model.sampleSize}, extension level ${model.extensionLevel}`,
    opsets: { '': ONNX_OPSET, [ML_DOMAIN]: ONNX_ML_OPSET },
    graph: {
      name: 'eif',
      inputs: [valueInfo('X', D, ['N', d])],
      outputs: [valueInfo('score', D, ['N'])],
      initializers: [
        tensor('W', D, [d, k], w),
        tensor('c_psi', D, [], Float64Array.of(model.normaliser)),
        tensor('two', D, [], Float64Array.of(2)),
        tensor('axis1', DataType.INT64, [1], BigInt64Array.of(1n)),
      ],
      nodes: [
        node('MatMul', ['X', 'W'], ['P']),
        treeEnsembleNode('P', 'E', trees, { mode: BranchMode.LT, aggregate: Aggregate.AVERAGE, elemType: D }),
        node('Div', ['E', 'c_psi'], ['E_over_c']),
        node('Neg', ['E_over_c'], ['neg_E_over_c']),
        node('Pow', ['two', 'neg_E_over_c'], ['score_2d']),
        node('Squeeze', ['score_2d', 'axis1'], ['score']),
      ],
    },
  });
}
