// Explanations stored with each detection: the boosted trees' exact
// TreeSHAP values (log-odds contributions of each feature, computed from the
// stored cover) and, when the isolation forest fired, its path attribution
// (each feature's share of the hyperplane decisions that isolated the row).
// The two are in different units, so the isolation forest's entries are
// named `iforest:<feature>`; the dashboard shows them as shares.
import { eifAttribution, treeShap } from '../models/index.js';
import type { LoadedModelSet } from '../training/train.js';

export const TOP_SHAP = 5;
export const TOP_EIF = 3;

export interface Explanation {
  features: string[];
  contributions: number[];
}

export function explainRow(set: LoadedModelSet, normalizedRow: Float64Array, iforestFired: boolean): Explanation {
  const names = set.normalization.features.map((f) => f.name);
  const phi = treeShap(set.voices.gbt, normalizedRow);
  const order = Array.from(phi.keys())
    .filter((j) => phi[j] !== 0)
    .sort((a, b) => Math.abs(phi[b]!) - Math.abs(phi[a]!) || a - b)
    .slice(0, TOP_SHAP);
  const features = order.map((j) => names[j]!);
  const contributions = order.map((j) => phi[j]!);
  if (iforestFired) {
    const share = eifAttribution(set.voices.eif, normalizedRow);
    const eifOrder = Array.from(share.keys())
      .filter((j) => share[j]! > 0)
      .sort((a, b) => share[b]! - share[a]! || a - b)
      .slice(0, TOP_EIF);
    for (const j of eifOrder) {
      features.push(`iforest:${names[j]!}`);
      contributions.push(share[j]!);
    }
  }
  return { features, contributions };
}
