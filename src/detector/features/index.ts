// Features of the detector: the window queries, the vectors, Benford.
import type { Storage } from '../../storage/index.js';
import { queryRawFeatures, type WindowKind } from './feature-queries.js';
import { buildFeatureRows, type FeatureRow } from './feature-vector.js';

export * from './benford.js';
export * from './feature-queries.js';
export * from './feature-vector.js';

/** Feature rows of every window of that kind starting in [fromS, toS). */
export async function readFeatureRows(storage: Storage, window: WindowKind, fromS: number, toS: number): Promise<FeatureRow[]> {
  return buildFeatureRows(await queryRawFeatures(storage, window, fromS, toS), window);
}
