// Gradient-boosted trees -> ONNX:
//   X [N,d] --TreeEnsemble(SUM, BRANCH_LEQ, NaN -> learned side)--> M [N,1]
//   proba = Sigmoid(M + base margin) -> [N]
// The Sigmoid is a separate node rather than the ensemble's LOGISTIC post
// transform so that the margin is a plain double sum, the same as in
// GbtModel.predictMargin.

import type { GbtModel } from '../models/gradient-boosting.js';
import { DataType, ML_DOMAIN, modelBytes, node, tensor, valueInfo } from './onnx-proto.js';
import { Aggregate, BranchMode, treeEnsembleNode } from './tree-ensemble.js';
import { ONNX_ML_OPSET, ONNX_OPSET } from './export-eif.js';

export function exportGbt(model: GbtModel): Uint8Array {
  const D = DataType.DOUBLE;
  const trees = model.trees.map((t) => ({
    left: t.left,
    right: t.right,
    feature: t.feature,
    threshold: t.threshold,
    leafValue: t.value,
    missingLeft: t.missingLeft,
  }));
  return modelBytes({
    doc: `gradient-boosted trees: ${model.trees.length} trees, binary logistic`,
    opsets: { '': ONNX_OPSET, [ML_DOMAIN]: ONNX_ML_OPSET },
    graph: {
      name: 'gbt',
      inputs: [valueInfo('X', D, ['N', model.cols])],
      outputs: [valueInfo('proba', D, ['N'])],
      initializers: [tensor('base_margin', D, [], Float64Array.of(model.baseMargin)), tensor('axis1', DataType.INT64, [1], BigInt64Array.of(1n))],
      nodes: [
        treeEnsembleNode('X', 'trees_sum', trees, { mode: BranchMode.LEQ, aggregate: Aggregate.SUM, elemType: D }),
        node('Add', ['trees_sum', 'base_margin'], ['margin']),
        node('Sigmoid', ['margin'], ['proba_2d']),
        node('Squeeze', ['proba_2d', 'axis1'], ['proba']),
      ],
    },
  });
}
