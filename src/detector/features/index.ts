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

/** Feature rows of every window of these kinds in [fromS, toS), the kinds in order: a training set. */
export async function readTrainingRows(storage: Storage, windows: readonly WindowKind[], fromS: number, toS: number): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  // a loop, not push(...rows): a spread of ~125k rows overflows V8's stack
  for (const w of windows) for (const r of await readFeatureRows(storage, w, fromS, toS)) rows.push(r);
  return rows;
}
