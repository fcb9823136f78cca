// (implementation follows) Histogram-based second-order gradient boosting.
import type { Matrix } from './matrix.js';

export interface GbtOptions { rounds?: number; maxDepth?: number; learningRate?: number; lambda?: number; gamma?: number; minChildWeight?: number; bins?: number; seed?: number; weights?: Float64Array }
export interface GbtTree { feature: Int32Array; threshold: Float64Array; left: Int32Array; right: Int32Array; missingLeft: Uint8Array; value: Float64Array; cover: Float64Array }
export interface GbtJson { kind: 'gradient-boosting'; version: 1 }
export declare class GbtModel {
  readonly cols: number;
  readonly baseMargin: number;
  readonly trees: GbtTree[];
  predictMargin(X: Matrix): Float64Array;
  predictProba(X: Matrix): Float64Array;
  toJSON(): GbtJson;
  static fromJSON(json: unknown): GbtModel;
}
export function trainGradientBoosting(_X: Matrix, _y: Float64Array, _opts: GbtOptions = {}): GbtModel {
  throw new Error('not implemented yet');
}
