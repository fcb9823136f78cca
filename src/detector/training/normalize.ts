// Normalization and pruning, fitted on the training rows and stored in the
// manifest so that scoring applies exactly the same transform.
//
//   x' = clip((t(x) - median) / scale, -CLIP, CLIP), t = log1p for counts
//   scale = IQR / 1.349 (a robust sigma), else the standard deviation, else 1
//   missing (NaN) -> 0 after scaling, i.e. the training median: the three
//   voices are scored from one matrix, and the isolation forest and the
//   autoencoder have no notion of a missing value.
//
// A feature is dropped before training when it is near-constant: its most
// frequent value covers at least NEAR_CONSTANT_SHARE of the rows, or it has
// no spread at all. Such a column cannot split anything the model could
// learn from the training window, and it inflates the anomaly score of any
// future row that merely differs on it.
import type { FeatureSpec } from '../features/index.js';

export const NEAR_CONSTANT_SHARE = 0.995;
export const CLIP = 8;

export interface FeatureNormalization {
  name: string;
  log: boolean;
  center: number;
  scale: number;
}

export interface DroppedFeature {
  name: string;
  reason: string;
}

export interface Normalization {
  /** the kept features, in model input order */
  features: FeatureNormalization[];
  /** index of each kept feature in FEATURE_SPECS order */
  sourceIndex: number[];
  dropped: DroppedFeature[];
}

/** A feature's value as normalization and drift see it: signed log1p for a `log` feature; NaN when not finite. */
export function transform(v: number, log: boolean): number {
  if (!Number.isFinite(v)) return Number.NaN;
  return log ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
}

function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Fits the transform on raw vectors (FEATURE_SPECS order). */
export function fitNormalization(rows: readonly Float64Array[], specs: readonly FeatureSpec[]): Normalization {
  const features: FeatureNormalization[] = [];
  const sourceIndex: number[] = [];
  const dropped: DroppedFeature[] = [];
  specs.forEach((spec, j) => {
    const vals: number[] = [];
    for (const r of rows) {
      const v = transform(r[j]!, spec.log);
      if (!Number.isNaN(v)) vals.push(v);
    }
    if (vals.length === 0) {
      dropped.push({ name: spec.name, reason: 'no value in the training window' });
      return;
    }
    // the most frequent value's share, among all rows (a missing value counts as one value)
    const counts = new Map<number, number>();
    for (const v of vals) counts.set(v, (counts.get(v) ?? 0) + 1);
    const missing = rows.length - vals.length;
    let top = missing; // a loop, not Math.max(...): one value per row would overflow the stack past ~125k
    for (const c of counts.values()) if (c > top) top = c;
    const share = top / rows.length;
    if (share >= NEAR_CONSTANT_SHARE) {
      const [mode] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [Number.NaN];
      // the mode as computed, before log1p
      const raw = spec.log ? Math.sign(mode) * Math.expm1(Math.abs(mode)) : mode;
      const what = top === missing ? 'missing' : `= ${Number(raw.toPrecision(6))}`;
      dropped.push({ name: spec.name, reason: `near-constant: ${(share * 100).toFixed(1)}% of rows ${what}` });
      return;
    }
    const sorted = Float64Array.from(vals).sort();
    const center = quantileSorted(sorted, 0.5);
    let scale = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
    if (!(scale > 1e-12)) {
      const mean = vals.reduce((s, x) => s + x, 0) / vals.length;
      scale = Math.sqrt(vals.reduce((s, x) => s + (x - mean) ** 2, 0) / vals.length);
    }
    if (!(scale > 1e-12)) scale = 1;
    features.push({ name: spec.name, log: spec.log, center, scale });
    sourceIndex.push(j);
  });
  return { features, sourceIndex, dropped };
}

/** Writes the normalized kept features of one raw vector into out (length = kept features). */
export function normalizeInto(norm: Normalization, raw: Float64Array, out: Float64Array): void {
  norm.features.forEach((fn, k) => {
    const v = transform(raw[norm.sourceIndex[k]!]!, fn.log);
    const z = Number.isNaN(v) ? 0 : (v - fn.center) / fn.scale;
    out[k] = z > CLIP ? CLIP : z < -CLIP ? -CLIP : z;
  });
}

/** Raw vectors -> one row-major normalized matrix. */
export function normalizeRows(norm: Normalization, rows: readonly Float64Array[]): { rows: number; cols: number; data: Float64Array } {
  const cols = norm.features.length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => normalizeInto(norm, r, data.subarray(i * cols, (i + 1) * cols)));
  return { rows: rows.length, cols, data };
}

/** Rebuilds sourceIndex from feature names (a manifest read back). */
export function normalizationFromManifest(
  features: FeatureNormalization[],
  dropped: DroppedFeature[],
  featureNames: readonly string[],
): Normalization {
  const sourceIndex = features.map((f) => {
    const j = featureNames.indexOf(f.name);
    if (j < 0) throw new Error(`the model uses the feature "${f.name}", which this version does not compute`);
    return j;
  });
  return { features, sourceIndex, dropped };
}
