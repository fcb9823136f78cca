// The ensemble: three voices -> one score in [0,1] (1 = most likely
// automated), a threat level, a bot name when a reference list matches, and
// which voices fired.
//
// The combination is a logistic stacker fitted on held-out calibration rows
// (not the rows the boosted trees learned from, which they would fit too
// well): sigmoid(b + w_g * logit(p_gbt) + w_i * s_iforest + w_a * s_ae).
// Without labeled calibration data it falls back to fixed weights that let
// the two unsupervised voices carry the score.
import type { EnsembleParams } from './training/manifest.js';

export type ThreatLevel = 'low' | 'medium' | 'high' | 'critical';
export type Voice = 'iforest' | 'autoencoder' | 'gbt';
export const VOICES: readonly Voice[] = ['iforest', 'autoencoder', 'gbt'];

const EPS = 1e-6;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Used when no labeled calibration rows exist (an unsupervised start). */
export const FALLBACK_WEIGHTS: EnsembleParams['weights'] = { bias: -6, gbt: 0.5, iforest: 6, autoencoder: 4 };

export function ensembleScore(w: EnsembleParams['weights'], gbt: number, iforest: number, autoencoder: number): number {
  return sigmoid(w.bias + w.gbt * logit(gbt) + w.iforest * iforest + w.autoencoder * autoencoder);
}

/** Scores of a batch (the three voices' arrays have one value per row). */
export function ensembleScores(params: EnsembleParams, v: { iforest: ArrayLike<number>; autoencoder: ArrayLike<number>; gbt: ArrayLike<number> }): Float64Array {
  const out = new Float64Array(v.gbt.length);
  for (let i = 0; i < out.length; i++) out[i] = ensembleScore(params.weights, v.gbt[i]!, v.iforest[i]!, v.autoencoder[i]!);
  return out;
}

/**
 * Above the operating threshold t the rest of [t, 1] is split: the lower
 * half medium, up to 85% high, the top critical. A reference-list match
 * (a known bot network or JA4) that the model also flags is at least high.
 */
export function threatLevel(score: number, threshold: number, referenceMatch: boolean): ThreatLevel {
  if (score < threshold) return 'low';
  const span = 1 - threshold;
  let level: ThreatLevel = score >= threshold + 0.85 * span ? 'critical' : score >= threshold + 0.5 * span ? 'high' : 'medium';
  if (referenceMatch && level === 'medium') level = 'high';
  return level;
}

export function firedVoices(params: EnsembleParams, iforest: number, autoencoder: number, gbt: number): Voice[] {
  const out: Voice[] = [];
  if (iforest >= params.voiceThresholds.iforest) out.push('iforest');
  if (autoencoder >= params.voiceThresholds.autoencoder) out.push('autoencoder');
  if (gbt >= params.voiceThresholds.gbt) out.push('gbt');
  return out;
}

/** The reference list's name for the client: its network first (more specific), then its JA4. */
export function referenceBotName(row: { botIpName: string; botJa4Name: string }): string {
  return row.botIpName !== '' ? row.botIpName : row.botJa4Name;
}

/**
 * Logistic regression on the three voices by Newton's method (IRLS) with a
 * small L2 penalty on the weights (not the bias), so perfectly separated
 * calibration data still gives finite weights. The voices' weights are kept
 * >= 0 (active set: a voice whose weight comes out negative is held at 0 and
 * the rest refitted): each voice is an anomaly or bot score, and one that
 * lowered the ensemble as it rose would contradict the explanations, which
 * name the voices that fired as reasons. A negative weight only fits noise
 * of the calibration rows (the other voices already carry the signal).
 */
export function fitStacker(
  v: { iforest: ArrayLike<number>; autoencoder: ArrayLike<number>; gbt: ArrayLike<number> },
  y: ArrayLike<number>,
  l2 = 1,
): EnsembleParams['weights'] {
  const n = y.length;
  const X: number[][] = [];
  for (let i = 0; i < n; i++) X.push([1, logit(v.gbt[i]!), v.iforest[i]!, v.autoencoder[i]!]);
  const free = [true, true, true, true];
  let w = newtonLogistic(X, y, l2, free);
  for (;;) {
    let worst = -1;
    for (let a = 1; a < 4; a++) if (free[a] && w[a]! < 0 && (worst < 0 || w[a]! < w[worst]!)) worst = a;
    if (worst < 0) break;
    free[worst] = false;
    w = newtonLogistic(X, y, l2, free);
  }
  return { bias: w[0]!, gbt: w[1]!, iforest: w[2]!, autoencoder: w[3]! };
}

/** The penalized logistic fit over the columns marked free (the others held at 0). */
function newtonLogistic(X: number[][], y: ArrayLike<number>, l2: number, free: boolean[]): number[] {
  const n = y.length;
  let w = [0, free[1] ? 1 : 0, 0, 0];
  for (let iter = 0; iter < 50; iter++) {
    const g = [0, 0, 0, 0];
    const H = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      const p = sigmoid(x[0]! * w[0]! + x[1]! * w[1]! + x[2]! * w[2]! + x[3]! * w[3]!);
      const r = p - y[i]!;
      const s = Math.max(p * (1 - p), 1e-9);
      for (let a = 0; a < 4; a++) {
        if (!free[a]) continue;
        g[a]! += r * x[a]!;
        for (let b = 0; b < 4; b++) if (free[b]) H[a]![b]! += s * x[a]! * x[b]!;
      }
    }
    for (let a = 1; a < 4; a++) {
      g[a]! += l2 * w[a]!;
      H[a]![a]! += free[a] ? l2 : 1; // a held column: H 1, g 0, no step
    }
    H[0]![0]! += 1e-9;
    const step = solve4(H, g);
    w = w.map((wi, a) => wi - step[a]!);
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return w;
}

/** Gaussian elimination with partial pivoting for the 4x4 Newton step. */
function solve4(A: number[][], b: number[]): number[] {
  const M = A.map((row, i) => [...row, b[i]!]);
  const n = 4;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    if (Math.abs(piv) < 1e-15) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => (Math.abs(row[i]!) < 1e-15 ? 0 : row[n]! / row[i]!));
}
