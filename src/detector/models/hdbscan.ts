// (implementation follows) HDBSCAN (Campello, Moulavi & Sander 2013).
import type { Matrix } from './matrix.js';
export interface HdbscanOptions { minClusterSize?: number; minSamples?: number }
export interface HdbscanResult { labels: Int32Array; probabilities: Float64Array }
export function hdbscan(_X: Matrix, _opts: HdbscanOptions = {}): HdbscanResult {
  throw new Error('not implemented yet');
}
