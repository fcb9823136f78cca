// Evaluation of a model set on labeled traffic: the ensemble and each voice
// scored on every feature row whose client has a ground-truth label, per
// window kind: precision, recall and F1 at the model's operating threshold,
// ROC AUC, PR AUC, precision at recall 0.90, the detection rate per bot
// family (and the false-positive rate per human family), and each voice's
// contribution: its ROC AUC alone, and what the ensemble's ROC AUC loses
// without it (its stacker weight set to 0).
import { ensembleScores, VOICES, type Voice } from '../ensemble.js';
import type { FeatureRow, WindowKind } from '../features/index.js';
import type { EnsembleParams } from '../training/manifest.js';
import type { GroundTruth } from '../training/labels.js';
import type { ScoredRow } from '../run/score-windows.js';
import { atRecall, metricsAt, prAuc, rocAuc } from './metrics.js';

export interface FamilyResult {
  family: string;
  isBot: boolean;
  rows: number;
  flagged: number;
  /** flagged / rows: recall for a bot family, false-positive rate for a human one */
  rate: number;
  meanScore: number;
}

export interface VoiceContribution {
  voice: Voice;
  rocAuc: number;
  /** ensemble ROC AUC minus the ROC AUC without this voice */
  aucDropWithout: number;
  weight: number;
}

export interface WindowEvaluation {
  window: WindowKind;
  rows: number;
  bots: number;
  unlabeled: number;
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  prAuc: number;
  precisionAtRecall90: number;
  thresholdAtRecall90: number;
  families: FamilyResult[];
  voices: VoiceContribution[];
}

export function evaluateScored(window: WindowKind, scored: readonly ScoredRow[], truth: ReadonlyMap<string, GroundTruth>, ensemble: EnsembleParams): WindowEvaluation {
  const rows = scored.filter((s) => truth.has(s.row.clientIp));
  const y = Float64Array.from(rows, (s) => (truth.get(s.row.clientIp)!.isBot ? 1 : 0));
  const score = Float64Array.from(rows, (s) => s.score);
  const at = metricsAt(score, y, ensemble.threshold);
  const at90 = atRecall(score, y, 0.9);
  const full = rocAuc(score, y);
  const v = {
    iforest: Float64Array.from(rows, (s) => s.iforest),
    autoencoder: Float64Array.from(rows, (s) => s.autoencoder),
    gbt: Float64Array.from(rows, (s) => s.gbt),
  };
  const voices = VOICES.map((voice): VoiceContribution => {
    const without: EnsembleParams = { ...ensemble, weights: { ...ensemble.weights, [voice]: 0 } };
    return { voice, rocAuc: rocAuc(v[voice], y), aucDropWithout: full - rocAuc(ensembleScores(without, v), y), weight: ensemble.weights[voice] };
  });
  const fam = new Map<string, FamilyResult>();
  rows.forEach((s) => {
    const t = truth.get(s.row.clientIp)!;
    let f = fam.get(t.family);
    if (!f) fam.set(t.family, (f = { family: t.family, isBot: t.isBot, rows: 0, flagged: 0, rate: 0, meanScore: 0 }));
    f.rows++;
    if (s.score >= ensemble.threshold) f.flagged++;
    f.meanScore += s.score;
  });
  const families = [...fam.values()]
    .map((f) => ({ ...f, rate: f.flagged / f.rows, meanScore: f.meanScore / f.rows }))
    .sort((a, b) => Number(b.isBot) - Number(a.isBot) || (a.family < b.family ? -1 : 1));
  return {
    window,
    rows: rows.length,
    bots: y.reduce((n, x) => n + x, 0),
    unlabeled: scored.length - rows.length,
    threshold: ensemble.threshold,
    precision: at.precision,
    recall: at.recall,
    f1: at.f1,
    rocAuc: full,
    prAuc: prAuc(score, y),
    precisionAtRecall90: at90.precision,
    thresholdAtRecall90: at90.threshold,
    families,
    voices,
  };
}

const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** The human-readable report `ja4 detector eval` prints. */
export function formatEvaluation(model: string, evals: readonly WindowEvaluation[]): string {
  const out: string[] = [`model ${model}`];
  for (const e of evals) {
    out.push(
      '',
      `window ${e.window}: ${e.rows} labeled rows (${e.bots} bot, ${e.rows - e.bots} human), ${e.unlabeled} unlabeled`,
      `  at the operating threshold ${e.threshold.toFixed(4)}: precision ${pct(e.precision)}  recall ${pct(e.recall)}  F1 ${pct(e.f1)}`,
      `  ROC AUC ${pct(e.rocAuc)}  PR AUC ${pct(e.prAuc)}  precision at recall 0.90 ${pct(e.precisionAtRecall90)} (threshold ${e.thresholdAtRecall90.toFixed(4)})`,
      '  family                  kind   rows  flagged   rate  mean score',
    );
    for (const f of e.families) {
      out.push(
        `  ${f.family.padEnd(22)}  ${(f.isBot ? 'bot' : 'human').padEnd(5)} ${String(f.rows).padStart(5)}  ${String(f.flagged).padStart(7)}  ${f.rate.toFixed(3)}  ${f.meanScore.toFixed(3)}`,
      );
    }
    out.push('  voice         ROC AUC alone   weight   ensemble AUC lost without it');
    for (const v of e.voices) out.push(`  ${v.voice.padEnd(12)}  ${pct(v.rocAuc).padStart(13)}  ${v.weight.toFixed(3).padStart(7)}   ${v.aucDropWithout.toFixed(4)}`);
  }
  return `${out.join('\n')}\n`;
}

export type { FeatureRow };
