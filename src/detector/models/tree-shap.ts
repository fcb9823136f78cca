// (implementation follows) Exact TreeSHAP (Lundberg et al. 2018, Algorithm 2).
import type { GbtModel } from './gradient-boosting.js';
export function treeShap(_model: GbtModel, _row: Float64Array): Float64Array {
  throw new Error('not implemented yet');
}
