// Binary classification metrics over scores (higher = more likely a bot).

export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** ROC AUC by the rank statistic (Mann-Whitney U), ties counted half. NaN if a class is empty. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!]! > 0.5) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Descending distinct thresholds with cumulative tp/fp. */
function sweep(scores: ArrayLike<number>, labels: ArrayLike<number>): { threshold: number; tp: number; fp: number }[] {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const out: { threshold: number; tp: number; fp: number }[] = [];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const s = scores[idx[i]!]!;
    while (i < n && scores[idx[i]!] === s) {
      if (labels[idx[i]!]! > 0.5) tp++;
      else fp++;
      i++;
    }
    out.push({ threshold: s, tp, fp });
  }
  return out;
}

/** Average precision (the PR AUC estimator that does not interpolate): sum (R_k - R_k-1) P_k. */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > 0.5) pos++;
  if (pos === 0) return Number.NaN;
  let ap = 0;
  let prevRecall = 0;
  for (const p of sweep(scores, labels)) {
    const recall = p.tp / pos;
    ap += (recall - prevRecall) * (p.tp / (p.tp + p.fp));
    prevRecall = recall;
  }
  return ap;
}

/** Confusion and P/R/F1 of "score >= threshold". */
export function metricsAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ThresholdMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i]! >= threshold;
    const bot = labels[i]! > 0.5;
    if (flagged && bot) tp++;
    else if (flagged) fp++;
    else if (bot) fn++;
    else tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
  const recall = tp + fn > 0 ? tp / (tp + fn) : Number.NaN;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { threshold, tp, fp, fn, tn, precision, recall, f1 };
}

/** The highest threshold whose recall reaches `recall` (and the precision there). */
export function atRecall(scores: ArrayLike<number>, labels: ArrayLike<number>, recall: number): ThresholdMetrics {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > 0.5) pos++;
  for (const p of sweep(scores, labels)) {
    if (pos > 0 && p.tp / pos >= recall) return metricsAt(scores, labels, p.threshold);
  }
  return metricsAt(scores, labels, Number.NEGATIVE_INFINITY);
}

/** The threshold maximizing F1 (ties: the higher threshold). */
export function bestF1(scores: ArrayLike<number>, labels: ArrayLike<number>): ThresholdMetrics {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > 0.5) pos++;
  let bestThreshold = 0.5;
  let bestValue = -1;
  for (const p of sweep(scores, labels)) {
    const f1 = p.tp > 0 ? (2 * p.tp) / (2 * p.tp + p.fp + (pos - p.tp)) : 0;
    if (f1 > bestValue) {
      bestValue = f1;
      bestThreshold = p.threshold;
    }
  }
  return metricsAt(scores, labels, bestThreshold);
}
