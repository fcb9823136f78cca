// Drift: each kept feature's distribution in a current window against the
// training window, through the quantiles stored in the manifest.
//
// The population stability index over the ten bins cut by the training
// quantiles (1, 5, 10, 25, 50, 75, 90, 95, 99%): PSI = sum (a - e) ln(a / e),
// a = current share, e = training share of the bin. The usual reading:
// below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 a significant shift.
// Edges that coincide (a discrete feature) merge their bins, so a constant
// value does not count as drift; each bin's training share is counted at
// training time (manifest.binShares). The median shift is in training-scale
// units.
import { FEATURE_NAMES, type FeatureRow } from '../features/index.js';
import { QUANTILE_LEVELS, type ModelManifest } from './manifest.js';
import { transform } from './normalize.js';

export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.25;

export interface FeatureDrift {
  feature: string;
  psi: number;
  /** (current median - training median) / training scale */
  medianShift: number;
  level: 'stable' | 'moderate' | 'significant';
  rows: number;
}


/** The bins (edge[k-1], edge[k]] cut by the training quantiles, equal edges merged, with the share the quantile levels give each. */
export function driftBins(q: readonly number[]): { edges: number[]; levelShares: number[] } {
  const edges: number[] = [];
  const levelShares: number[] = [];
  let prevLevel = 0;
  q.forEach((edge, k) => {
    const share = QUANTILE_LEVELS[k]! - prevLevel;
    prevLevel = QUANTILE_LEVELS[k]!;
    if (edges.length > 0 && edge <= edges[edges.length - 1]!) levelShares[levelShares.length - 1]! += share;
    else {
      edges.push(edge);
      levelShares.push(share);
    }
  });
  levelShares.push(1 - prevLevel); // above the last edge
  return { edges, levelShares };
}

/** How many of `vals` fall in each bin of driftBins' edges (the last: above the last edge). */
export function binCounts(edges: readonly number[], vals: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of vals) {
    let k = 0;
    while (k < edges.length && v > edges[k]!) k++;
    counts[k]!++;
  }
  return counts;
}

export function computeDrift(manifest: ModelManifest, rows: readonly FeatureRow[]): FeatureDrift[] {
  const out: FeatureDrift[] = [];
  for (const fn of manifest.features) {
    const q = manifest.quantiles[fn.name];
    const j = FEATURE_NAMES.indexOf(fn.name);
    if (!q || j < 0) continue;
    const vals = rows.map((r) => r.values[j]!).filter((v) => Number.isFinite(v)).map((v) => transform(v, fn.log)).sort((a, b) => a - b);
    if (vals.length === 0) {
      out.push({ feature: fn.name, psi: 0, medianShift: 0, level: 'stable', rows: 0 });
      continue;
    }
    const { edges, levelShares } = driftBins(q);
    // the training share of each bin as counted at training time; else
    // (older manifests) what the quantile levels say, which is wrong for a
    // discrete feature: a 0/1 feature 70% zero has its median edge at 0, so
    // its levels give the zero bin 50%, and unchanged data read as drift
    const stored = manifest.binShares?.[fn.name];
    const expected = stored && stored.length === levelShares.length ? stored : levelShares;
    const counts = binCounts(edges, vals);
    let psi = 0;
    counts.forEach((c, k) => {
      const a = Math.max(c / vals.length, 1e-4);
      const e = Math.max(expected[k]!, 1e-4);
      psi += (a - e) * Math.log(a / e);
    });
    const median = vals.length % 2 ? vals[(vals.length - 1) / 2]! : (vals[vals.length / 2 - 1]! + vals[vals.length / 2]!) / 2;
    out.push({
      feature: fn.name,
      psi,
      medianShift: (median - fn.center) / fn.scale,
      level: psi > PSI_SIGNIFICANT ? 'significant' : psi > PSI_MODERATE ? 'moderate' : 'stable',
      rows: vals.length,
    });
  }
  return out.sort((a, b) => b.psi - a.psi);
}
