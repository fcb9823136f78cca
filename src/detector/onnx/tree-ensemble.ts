// One ai.onnx.ml TreeEnsemble node (ai.onnx.ml opset 5) from binary trees in
// our flat form. We use opset 5's TreeEnsemble rather than
// TreeEnsembleRegressor/Classifier (opset 3) because its split thresholds and
// leaf weights are tensors of the input type, and its output Y has that type
// too: with a double input the whole ensemble runs in double. The opset-3
// operators always output float32 (the ONNX spec types Y as tensor(float)),
// which would cost the 1e-6 agreement with the TypeScript reference.
//
// Spec (ai.onnx.ml.TreeEnsemble): "nodes_modes: The comparison operation
// performed by the node ... 0 (BRANCH_LEQ), 1 (BRANCH_LT) ...";
// "nodes_trueleafs: 1 if true branch is leaf for each node and 0 an interior
// node"; "nodes_missing_value_tracks_true: ... if the value is missing
// (NaN), use the 'true' (or 'false') branch".

import { DataType, node, tensor, ML_DOMAIN, type DataTypeCode } from './onnx-proto.js';
import type { ProtoWriter } from './protobuf-writer.js';

/** A binary tree: node 0 is the root; left < 0 marks a leaf. "True" (the condition holds) goes left. */
export interface FlatTree {
  left: ArrayLike<number>;
  right: ArrayLike<number>;
  /** input column tested by an internal node */
  feature: ArrayLike<number>;
  threshold: ArrayLike<number>;
  /** value of a leaf (ignored on internal nodes) */
  leafValue: ArrayLike<number>;
  /** 1 when a NaN goes left (true branch) */
  missingLeft?: ArrayLike<number>;
}

export const BranchMode = { LEQ: 0, LT: 1 } as const;
export const Aggregate = { AVERAGE: 0, SUM: 1 } as const;

export interface EnsembleOptions {
  mode: (typeof BranchMode)[keyof typeof BranchMode];
  aggregate: (typeof Aggregate)[keyof typeof Aggregate];
  elemType: DataTypeCode;
}

export function treeEnsembleNode(input: string, output: string, trees: FlatTree[], opts: EnsembleOptions): ProtoWriter {
  const featureIds: number[] = [];
  const splits: number[] = [];
  const trueIds: number[] = [];
  const trueLeafs: number[] = [];
  const falseIds: number[] = [];
  const falseLeafs: number[] = [];
  const missingTrue: number[] = [];
  const roots: number[] = [];
  const leafWeights: number[] = [];
  for (const t of trees) {
    // internal nodes and leaves are numbered separately, in two global lists
    const leafId = (i: number): number => {
      leafWeights.push(t.leafValue[i]!);
      return leafWeights.length - 1;
    };
    const visit = (i: number): { leaf: boolean; id: number } => {
      if (t.left[i]! < 0) return { leaf: true, id: leafId(i) };
      const id = featureIds.length;
      featureIds.push(t.feature[i]!);
      splits.push(t.threshold[i]!);
      missingTrue.push(t.missingLeft ? t.missingLeft[i]! : 0);
      trueIds.push(0);
      trueLeafs.push(0);
      falseIds.push(0);
      falseLeafs.push(0);
      const l = visit(t.left[i]!);
      const r = visit(t.right[i]!);
      trueIds[id] = l.id;
      trueLeafs[id] = l.leaf ? 1 : 0;
      falseIds[id] = r.id;
      falseLeafs[id] = r.leaf ? 1 : 0;
      return { leaf: false, id };
    };
    if (t.left[0]! < 0) {
      // a tree that is a single leaf: the operator needs an interior root, so
      // a dummy split sends both branches to that leaf
      const id = featureIds.length;
      const leaf = leafId(0);
      featureIds.push(0);
      splits.push(0);
      missingTrue.push(0);
      trueIds.push(leaf);
      trueLeafs.push(1);
      falseIds.push(leaf);
      falseLeafs.push(1);
      roots.push(id);
    } else {
      roots.push(visit(0).id);
    }
  }
  const typed = (values: number[]): Float64Array | Float32Array =>
    opts.elemType === DataType.DOUBLE ? Float64Array.from(values) : Float32Array.from(values);
  return node(
    'TreeEnsemble',
    [input],
    [output],
    {
      aggregate_function: { int: opts.aggregate },
      leaf_targetids: { ints: new Array<number>(leafWeights.length).fill(0) },
      leaf_weights: { tensor: tensor('', opts.elemType, [leafWeights.length], typed(leafWeights)) },
      n_targets: { int: 1 },
      nodes_falseleafs: { ints: falseLeafs },
      nodes_falsenodeids: { ints: falseIds },
      nodes_featureids: { ints: featureIds },
      nodes_missing_value_tracks_true: { ints: missingTrue },
      nodes_modes: { tensor: tensor('', DataType.UINT8, [featureIds.length], new Uint8Array(featureIds.length).fill(opts.mode)) },
      nodes_splits: { tensor: tensor('', opts.elemType, [splits.length], typed(splits)) },
      nodes_trueleafs: { ints: trueLeafs },
      nodes_truenodeids: { ints: trueIds },
      post_transform: { int: 0 },
      tree_roots: { ints: roots },
    },
    ML_DOMAIN,
  );
}
