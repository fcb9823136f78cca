// Training a model set: split, normalize and prune, train the three voices,
// calibrate the ensemble, validate, export, and accept or reject.
//
// Rows are split by client IP (a seeded hash), 60% train / 20% calibration /
// 20% validation, so that one client's windows never sit on both sides.
//   * isolation forest: all training rows (it expects contamination);
//   * autoencoder: training rows not labeled bot (it learns what normal
//     traffic reconstructs to);
//   * boosted trees: labeled training rows. With fewer than MIN_PER_CLASS
//     of a class, pseudo-labels fill in from the isolation forest (lowest
//     half of unlabeled rows -> human, top 2% -> bot, weight 0.5), so a
//     fresh site with only reference-list labels still trains;
//   * the stacker and the operating threshold (best F1) on calibration;
//   * the metrics and the gate on validation.
import { mkdirSync, writeFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  AutoencoderModel,
  EifModel,
  GbtModel,
  trainAutoencoder,
  trainExtendedIsolationForest,
  trainGradientBoosting,
  type Matrix,
} from '../models/index.js';
import { exportAutoencoder, exportEif, exportGbt } from '../onnx/index.js';
import { FEATURE_NAMES, FEATURE_SPECS, type FeatureRow, type WindowKind } from '../features/index.js';
import { FALLBACK_WEIGHTS, ensembleScores, fitStacker } from '../ensemble.js';
import { atRecall, bestF1, metricsAt, prAuc, rocAuc } from '../eval/metrics.js';
import { fitNormalization, normalizationFromManifest, normalizeRows, transform, type Normalization } from './normalize.js';
import {
  MANIFEST_FORMAT,
  MODEL_FILES,
  QUANTILE_LEVELS,
  modelDir,
  readCurrentVersion,
  readManifest,
  writeCurrentVersion,
  type EnsembleParams,
  type ModelManifest,
  type ValidationMetrics,
} from './manifest.js';
import type { RowLabels } from './labels.js';
import { binCounts, driftBins } from './drift.js';

export const MIN_TRAINING_ROWS = 50;
export const MIN_PER_CLASS = 10;
/** the gate: at most this share of validation rows not labeled bot may be flagged */
export const MAX_ANOMALY_RATE = 0.2;
/** the gate: a candidate may lose at most this much ROC AUC / PR AUC against the current model on the same validation rows */
export const MAX_AUC_REGRESSION = 0.01;
export const MAX_PR_AUC_REGRESSION = 0.02;

export interface VoiceOptions {
  eif: { trees: number; sampleSize: number; normalPool?: number };
  autoencoder: { hidden: number[]; epochs: number; learningRate: number; batchSize: number };
  gbt: { rounds: number; maxDepth: number; learningRate: number; lambda: number; minChildWeight: number };
}

export const DEFAULT_VOICE_OPTIONS: VoiceOptions = {
  // 50 trees of 128 rows over a pool of 64 normals: the ROC AUC of 100 trees
  // with a fresh normal per split (measured on the simulator and synthetic
  // populations, docs/detector-models.md) at a seventh of the scoring cost:
  // 64 projected columns per row instead of ~3,800, half the tree walk
  eif: { trees: 50, sampleSize: 128, normalPool: 64 },
  autoencoder: { hidden: [24, 8, 24], epochs: 40, learningRate: 0.003, batchSize: 64 },
  gbt: { rounds: 150, maxDepth: 4, learningRate: 0.1, lambda: 1, minChildWeight: 1 },
};

export interface TrainInput {
  rows: readonly FeatureRow[];
  labels: RowLabels;
  seed: number;
  modelsDir: string;
  version?: string;
  createdAt?: Date;
  trainingWindow: { fromS: number; toS: number; windows: WindowKind[] };
  source: string;
  options?: Partial<VoiceOptions>;
  /** accept even if the gate says no (operator override) */
  force?: boolean;
}

export interface TrainResult {
  accepted: boolean;
  /** why the gate rejected the candidate */
  reason?: string;
  version: string;
  dir: string;
  manifest: ModelManifest;
  /** the current model's metrics on the same validation rows, when there was one */
  previous?: { version: string; rocAuc: number | null; prAuc: number | null };
}

export class TrainingError extends Error {
  readonly code = 'ERR_DETECTOR_TRAINING';
}

/** The three voices in TypeScript (the reference the ONNX files equal). */
export interface VoiceModels {
  eif: EifModel;
  autoencoder: AutoencoderModel;
  gbt: GbtModel;
}

export interface VoiceScoreArrays {
  iforest: Float64Array;
  autoencoder: Float64Array;
  gbt: Float64Array;
}

export function scoreVoices(models: VoiceModels, X: Matrix): VoiceScoreArrays {
  return { iforest: models.eif.scoreRows(X), autoencoder: models.autoencoder.scoreRows(X), gbt: models.gbt.predictProba(X) };
}

/** A model set read back in TypeScript: manifest, normalization, voices. */
export interface LoadedModelSet {
  dir: string;
  manifest: ModelManifest;
  normalization: Normalization;
  voices: VoiceModels;
}

export function loadModelSet(dir: string): LoadedModelSet {
  const manifest = readManifest(dir);
  const json = (f: string): unknown => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  return {
    dir,
    manifest,
    normalization: normalizationFromManifest(manifest.features, manifest.dropped, FEATURE_NAMES),
    voices: {
      eif: EifModel.fromJSON(json(MODEL_FILES.eifJson)),
      autoencoder: AutoencoderModel.fromJSON(json(MODEL_FILES.autoencoderJson)),
      gbt: GbtModel.fromJSON(json(MODEL_FILES.gbtJson)),
    },
  };
}

/** FNV-1a of the seed and the IP: a stable split that does not depend on row order. */
function splitBucket(ip: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < ip.length; i++) {
    h ^= ip.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 100;
}

function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

function subset(X: Matrix, idx: readonly number[]): Matrix {
  const data = new Float64Array(idx.length * X.cols);
  idx.forEach((r, i) => data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), i * X.cols));
  return { rows: idx.length, cols: X.cols, data };
}

const pick = (a: ArrayLike<number>, idx: readonly number[]): Float64Array => Float64Array.from(idx, (i) => a[i]!);
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Validation metrics of ensemble scores against labels (NaN = unknown). */
export function validationMetrics(scores: Float64Array, voices: VoiceScoreArrays, y: Float64Array, threshold: number): ValidationMetrics {
  const labeled: number[] = [];
  let notBot = 0;
  let flaggedNotBot = 0;
  for (let i = 0; i < y.length; i++) {
    if (!Number.isNaN(y[i]!)) labeled.push(i);
    if (y[i] !== 1) {
      notBot++;
      if (scores[i]! >= threshold) flaggedNotBot++;
    }
  }
  const ly = pick(y, labeled);
  const ls = pick(scores, labeled);
  const bots = ly.reduce((n, v) => n + v, 0);
  const both = bots > 0 && bots < ly.length;
  const at = both ? metricsAt(ls, ly, threshold) : undefined;
  const at90 = both ? atRecall(ls, ly, 0.9) : undefined;
  const voiceAuc = (s: Float64Array): { rocAuc: number | null } => ({ rocAuc: both ? finiteOrNull(rocAuc(pick(s, labeled), ly)) : null });
  return {
    rows: y.length,
    bots,
    anomalyRate: notBot > 0 ? flaggedNotBot / notBot : 0,
    rocAuc: both ? finiteOrNull(rocAuc(ls, ly)) : null,
    prAuc: both ? finiteOrNull(prAuc(ls, ly)) : null,
    precision: at ? at.precision : null,
    recall: at ? finiteOrNull(at.recall) : null,
    f1: at ? at.f1 : null,
    precisionAtRecall90: at90 ? at90.precision : null,
    voices: { iforest: voiceAuc(voices.iforest), autoencoder: voiceAuc(voices.autoencoder), gbt: voiceAuc(voices.gbt) },
  };
}

function defaultVersion(createdAt: Date, seed: number): string {
  return `v${createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-s${seed}`;
}

export function trainModelSet(input: TrainInput): TrainResult {
  const { rows, seed } = input;
  const y = input.labels.y;
  if (rows.length < MIN_TRAINING_ROWS) {
    throw new TrainingError(`not enough feature rows to train: ${rows.length} in the window, at least ${MIN_TRAINING_ROWS} needed (widen --from/--to)`);
  }
  const opts: VoiceOptions = {
    eif: { ...DEFAULT_VOICE_OPTIONS.eif, ...input.options?.eif },
    autoencoder: { ...DEFAULT_VOICE_OPTIONS.autoencoder, ...input.options?.autoencoder },
    gbt: { ...DEFAULT_VOICE_OPTIONS.gbt, ...input.options?.gbt },
  };

  // ---- split by client IP
  const train: number[] = [];
  const calib: number[] = [];
  const valid: number[] = [];
  rows.forEach((r, i) => {
    const b = splitBucket(r.clientIp, seed);
    (b < 60 ? train : b < 80 ? calib : valid).push(i);
  });
  if (train.length < MIN_TRAINING_ROWS / 2 || calib.length === 0 || valid.length === 0) {
    throw new TrainingError(`too few clients to split into train/calibration/validation (${train.length}/${calib.length}/${valid.length} rows)`);
  }

  // ---- normalize and prune on the training rows only
  const normalization = fitNormalization(train.map((i) => rows[i]!.values), FEATURE_SPECS);
  if (normalization.features.length < 2) throw new TrainingError('fewer than 2 features vary in the training window: nothing to learn');
  const X = normalizeRows(normalization, rows.map((r) => r.values));
  const Xtrain = subset(X, train);

  // ---- the unsupervised voices
  const eif = trainExtendedIsolationForest(Xtrain, { ...opts.eif, seed });
  const normalRows = train.filter((i) => y[i] !== 1);
  const autoencoder = trainAutoencoder(subset(X, normalRows.length >= MIN_TRAINING_ROWS / 2 ? normalRows : train), { ...opts.autoencoder, seed: seed + 1 });

  // ---- the supervised voice, with pseudo-labels where a class is short
  const eifTrain = eif.scoreRows(Xtrain);
  const gIdx: number[] = [];
  const gY: number[] = [];
  const gW: number[] = [];
  let pos = 0;
  let neg = 0;
  train.forEach((r) => {
    if (Number.isNaN(y[r]!)) return;
    gIdx.push(r);
    gY.push(y[r]!);
    gW.push(1);
    if (y[r] === 1) pos++;
    else neg++;
  });
  let pseudoLabeled = 0;
  if (pos < MIN_PER_CLASS || neg < MIN_PER_CLASS) {
    const unlabeled = train.map((r, k) => ({ r, s: eifTrain[k]! })).filter((u) => Number.isNaN(y[u.r]!));
    unlabeled.sort((a, b) => a.s - b.s);
    if (neg < MIN_PER_CLASS) {
      for (const u of unlabeled.slice(0, Math.floor(unlabeled.length / 2))) {
        gIdx.push(u.r);
        gY.push(0);
        gW.push(0.5);
        pseudoLabeled++;
        neg++;
      }
    }
    if (pos < MIN_PER_CLASS) {
      const top = Math.max(1, Math.ceil(unlabeled.length * 0.02));
      for (const u of unlabeled.slice(unlabeled.length - top)) {
        gIdx.push(u.r);
        gY.push(1);
        gW.push(0.5);
        pseudoLabeled++;
        pos++;
      }
    }
  }
  if (pos === 0 || neg === 0) throw new TrainingError('the boosted trees need both bot and human rows: label some (analyst classifications) or widen the window');
  const gbt = trainGradientBoosting(subset(X, gIdx), Float64Array.from(gY), { ...opts.gbt, seed: seed + 2, weights: Float64Array.from(gW) });
  const voices: VoiceModels = { eif, autoencoder, gbt };

  // ---- calibration: voice thresholds, stacker, operating threshold
  const aeTrain = autoencoder.scoreRows(subset(X, normalRows.length > 0 ? normalRows : train));
  const cal = scoreVoices(voices, subset(X, calib));
  const calY = pick(y, calib);
  const calLabeled = calib.map((_, k) => k).filter((k) => !Number.isNaN(calY[k]!));
  const calBots = calLabeled.filter((k) => calY[k] === 1).length;
  const supervisedCalibration = calBots >= 5 && calLabeled.length - calBots >= 5;
  const weights = supervisedCalibration
    ? fitStacker(
        { iforest: pick(cal.iforest, calLabeled), autoencoder: pick(cal.autoencoder, calLabeled), gbt: pick(cal.gbt, calLabeled) },
        pick(calY, calLabeled),
      )
    : { ...FALLBACK_WEIGHTS };
  const ensemble: EnsembleParams = {
    weights,
    threshold: 0.5,
    voiceThresholds: { iforest: quantile(eifTrain, 0.975), autoencoder: quantile(aeTrain, 0.975), gbt: 0.5 },
  };
  const calScores = ensembleScores(ensemble, cal);
  ensemble.threshold = supervisedCalibration
    ? bestF1(pick(calScores, calLabeled), pick(calY, calLabeled)).threshold
    : quantile(calScores, 0.99);

  // ---- validation and the gate
  const Xvalid = subset(X, valid);
  const val = scoreVoices(voices, Xvalid);
  const valY = pick(y, valid);
  const metrics = validationMetrics(ensembleScores(ensemble, val), val, valY, ensemble.threshold);
  let reason: string | undefined;
  if (metrics.anomalyRate > MAX_ANOMALY_RATE) {
    reason = `anomaly rate on held-out validation is ${(metrics.anomalyRate * 100).toFixed(1)}% of the rows not labeled bot (limit ${MAX_ANOMALY_RATE * 100}%)`;
  }
  let previous: TrainResult['previous'];
  const currentVersion = readCurrentVersion(input.modelsDir);
  if (currentVersion !== undefined && existsSync(join(modelDir(input.modelsDir, currentVersion), MODEL_FILES.manifest))) {
    const cur = loadModelSet(modelDir(input.modelsDir, currentVersion));
    const Xc = normalizeRows(cur.normalization, valid.map((i) => rows[i]!.values));
    const cv = scoreVoices(cur.voices, Xc);
    const cm = validationMetrics(ensembleScores(cur.manifest.ensemble, cv), cv, valY, cur.manifest.ensemble.threshold);
    previous = { version: currentVersion, rocAuc: cm.rocAuc, prAuc: cm.prAuc };
    const regress: string[] = [];
    if (cm.rocAuc !== null && metrics.rocAuc !== null && metrics.rocAuc < cm.rocAuc - MAX_AUC_REGRESSION) {
      regress.push(`ROC AUC ${metrics.rocAuc.toFixed(4)} < current ${cm.rocAuc.toFixed(4)}`);
    }
    if (cm.prAuc !== null && metrics.prAuc !== null && metrics.prAuc < cm.prAuc - MAX_PR_AUC_REGRESSION) {
      regress.push(`PR AUC ${metrics.prAuc.toFixed(4)} < current ${cm.prAuc.toFixed(4)}`);
    }
    if (regress.length > 0 && reason === undefined) reason = `metrics regressed against ${currentVersion} on the same validation rows: ${regress.join(', ')}`;
  }

  // ---- drift reference: training quantiles of each kept feature (after log1p, before scaling)
  const quantiles: Record<string, number[]> = {};
  const binShares: Record<string, number[]> = {};
  normalization.features.forEach((fn, k) => {
    const j = normalization.sourceIndex[k]!;
    const vals = train.map((i) => rows[i]!.values[j]!).filter((v) => Number.isFinite(v)).map((v) => transform(v, fn.log));
    const q = QUANTILE_LEVELS.map((level) => quantile(vals, level));
    quantiles[fn.name] = q;
    if (vals.length > 0) binShares[fn.name] = binCounts(driftBins(q).edges, vals).map((c) => c / vals.length);
  });

  const createdAt = input.createdAt ?? new Date();
  const version = input.version ?? defaultVersion(createdAt, seed);
  const labeledBot = Array.from(y).filter((v) => v === 1).length;
  const labeledHuman = Array.from(y).filter((v) => v === 0).length;
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    version,
    createdAt: createdAt.toISOString(),
    seed,
    source: input.source,
    trainingWindow: {
      from: new Date(input.trainingWindow.fromS * 1000).toISOString(),
      to: new Date(input.trainingWindow.toS * 1000).toISOString(),
      windows: input.trainingWindow.windows,
    },
    rows: { total: rows.length, train: train.length, calibration: calib.length, validation: valid.length, labeledBot, labeledHuman, pseudoLabeled },
    labelSources: { ...input.labels.sources },
    features: normalization.features,
    dropped: normalization.dropped,
    quantiles,
    binShares,
    ensemble,
    metrics,
    options: { ...opts, supervisedCalibration },
    files: MODEL_FILES,
  };

  const accepted = reason === undefined || input.force === true;
  // The files go to a staging folder first and are moved in whole, so that a
  // rejected candidate never writes into a model set of the same version
  // (`train --default` is named default-s<seed>, the shipped model's name):
  // the current model's files used to be overwritten by the candidate the
  // gate had just refused, and served after the next restart.
  mkdirSync(input.modelsDir, { recursive: true });
  const staging = join(input.modelsDir, `.staging-${version}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  writeFileSync(join(staging, MODEL_FILES.eifOnnx), exportEif(eif));
  writeFileSync(join(staging, MODEL_FILES.autoencoderOnnx), exportAutoencoder(autoencoder));
  writeFileSync(join(staging, MODEL_FILES.gbtOnnx), exportGbt(gbt));
  writeFileSync(join(staging, MODEL_FILES.eifJson), JSON.stringify(eif.toJSON()));
  writeFileSync(join(staging, MODEL_FILES.autoencoderJson), JSON.stringify(autoencoder.toJSON()));
  writeFileSync(join(staging, MODEL_FILES.gbtJson), JSON.stringify(gbt.toJSON()));
  writeFileSync(
    join(staging, MODEL_FILES.manifest),
    `${JSON.stringify({ ...manifest, gate: { accepted, reason: reason ?? null, previous: previous ?? null } }, null, 2)}\n`,
  );
  const target = modelDir(input.modelsDir, version);
  // accepted: in place of any set of that version; rejected: beside it, as
  // <version>.rejected, when that version exists (kept for inspection)
  const dir = accepted || !existsSync(target) ? target : `${target}.rejected`;
  if (existsSync(dir)) {
    const old = join(input.modelsDir, `.replaced-${version}-${randomBytes(4).toString('hex')}`);
    renameSync(dir, old);
    renameSync(staging, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, dir);
  }
  if (accepted) writeCurrentVersion(input.modelsDir, version);
  return { accepted, ...(reason !== undefined ? { reason } : {}), version, dir, manifest, ...(previous ? { previous } : {}) };
}
