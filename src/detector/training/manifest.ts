// A model set on disk: models/<version>/ holds the three ONNX files (what the
// scoring pool runs), the same models as JSON (TreeSHAP and the isolation
// forest's path attribution need the trees; the validation gate rescoring
// the current model needs them too) and manifest.json. models/current is a
// one-line text file naming the accepted version: a plain file rather than
// a symlink, so that it survives npm pack and copies, and is replaced
// atomically (write a temporary file, rename).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WindowKind } from '../features/index.js';
import type { DroppedFeature, FeatureNormalization } from './normalize.js';

export const MANIFEST_FORMAT = 1;
export const CURRENT_FILE = 'current';
export const MODEL_FILES = {
  eifOnnx: 'eif.onnx',
  autoencoderOnnx: 'autoencoder.onnx',
  gbtOnnx: 'gbt.onnx',
  eifJson: 'eif.json',
  autoencoderJson: 'autoencoder.json',
  gbtJson: 'gbt.json',
  manifest: 'manifest.json',
} as const;

/** The shipped model sets: <package>/models (this file is dist/detector/training/ or src/detector/training/). */
export const DEFAULT_MODELS_DIR = resolve(fileURLToPath(new URL('../../../models', import.meta.url)));

/**
 * Trained model sets on an installed system, in the services' state
 * directory: the package's folder is read-only to them (ProtectSystem,
 * owned by root), and an upgrade would replace it.
 */
export const STATE_MODELS_DIR = '/var/lib/ja4/models';

/** The model sets to score with by default: the trained ones once there are any, else the shipped ones. */
export function defaultModelsDir(stateDir = STATE_MODELS_DIR): string {
  return existsSync(join(stateDir, CURRENT_FILE)) ? stateDir : DEFAULT_MODELS_DIR;
}

/** Where training writes by default: the state directory where there is one (/var/lib/ja4), else (a checkout) the shipped folder. */
export function defaultTrainingModelsDir(stateDir = STATE_MODELS_DIR): string {
  return existsSync(join(stateDir, '..')) ? stateDir : DEFAULT_MODELS_DIR;
}

export interface EnsembleParams {
  /** logistic stacking: sigmoid(bias + gbt * logit(p_gbt) + iforest * s_if + autoencoder * s_ae) */
  weights: { bias: number; gbt: number; iforest: number; autoencoder: number };
  /** the operating threshold: score >= threshold is a detection */
  threshold: number;
  /** a voice "fired" when its own score reaches its threshold */
  voiceThresholds: { iforest: number; autoencoder: number; gbt: number };
}

export interface ValidationMetrics {
  rows: number;
  bots: number;
  /** share of the validation rows not labeled bot that the ensemble flags (the gate: <= 20%) */
  anomalyRate: number;
  rocAuc: number | null;
  prAuc: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  precisionAtRecall90: number | null;
  voices: Record<'iforest' | 'autoencoder' | 'gbt', { rocAuc: number | null }>;
}

export interface ModelManifest {
  format: number;
  version: string;
  createdAt: string;
  seed: number;
  source: string;
  trainingWindow: { from: string; to: string; windows: WindowKind[] };
  rows: { total: number; train: number; calibration: number; validation: number; labeledBot: number; labeledHuman: number; pseudoLabeled: number };
  labelSources: Record<string, number>;
  features: FeatureNormalization[];
  dropped: DroppedFeature[];
  /** per kept feature, the training quantiles (QUANTILE_LEVELS) of its transformed value: drift reference */
  quantiles: Record<string, number[]>;
  /** per kept feature, the share of the training rows in each drift bin (drift.ts driftBins); absent in older manifests */
  binShares?: Record<string, number[]>;
  ensemble: EnsembleParams;
  metrics: ValidationMetrics;
  options: Record<string, unknown>;
  files: typeof MODEL_FILES;
}

export const QUANTILE_LEVELS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

export function modelDir(modelsDir: string, version: string): string {
  return join(modelsDir, version);
}

/** The accepted version, or undefined when none was ever accepted. */
export function readCurrentVersion(modelsDir: string): string | undefined {
  const file = join(modelsDir, CURRENT_FILE);
  if (!existsSync(file)) return undefined;
  const v = readFileSync(file, 'utf8').trim();
  return v === '' ? undefined : v;
}

export function writeCurrentVersion(modelsDir: string, version: string): void {
  mkdirSync(modelsDir, { recursive: true });
  const tmp = join(modelsDir, `.${CURRENT_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${version}\n`);
  renameSync(tmp, join(modelsDir, CURRENT_FILE));
}

export function readManifest(dir: string): ModelManifest {
  const file = join(dir, MODEL_FILES.manifest);
  let m: ModelManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ModelManifest;
  } catch (err) {
    throw new Error(`cannot read the model manifest ${file}: ${(err as Error).message}`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new Error(`${file}: manifest format ${String(m.format)} is not ${MANIFEST_FORMAT}`);
  return m;
}
