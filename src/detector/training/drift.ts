// Drift: each kept feature's distribution in a current window against the
// training window, through the quantiles stored in the manifest.
//
// The population stability index over the ten bins cut by the training
// quantiles (1, 5, 10, 25, 50, 75, 90, 95, 99%): PSI = sum (a - e) ln(a / e),
// a = current share, e = training share of the bin. The usual reading:
// below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 a significant shift.
// Edges that coincide (a discrete feature) merge their bins, so a constant
// value does not count as drift. The median shift is in training-scale units.
import { FEATURE_NAMES, type FeatureRow } from '../features/index.js';
import { QUANTILE_LEVELS, type ModelManifest } from './manifest.js';

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

const transform = (v: number, log: boolean): number => (log ? Math.sign(v) * Math.log1p(Math.abs(v)) : v);

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
    // bins (edge[k-1], edge[k]] with their training share; equal edges merge
    const edges: number[] = [];
    const expected: number[] = [];
    let prevLevel = 0;
    q.forEach((edge, k) => {
      const share = QUANTILE_LEVELS[k]! - prevLevel;
      prevLevel = QUANTILE_LEVELS[k]!;
      if (edges.length > 0 && edge <= edges[edges.length - 1]!) expected[expected.length - 1]! += share;
      else {
        edges.push(edge);
        expected.push(share);
      }
    });
    expected.push(1 - prevLevel); // above the last edge
    const counts = new Array<number>(expected.length).fill(0);
    for (const v of vals) {
      let k = 0;
      while (k < edges.length && v > edges[k]!) k++;
      counts[k]!++;
    }
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
