// The model set a scoring process uses: the accepted version's manifest and
// TypeScript models (normalization, explanations) and a scoring pool over
// its ONNX files (the scores themselves).
import { openScoringPool, type ScoringPool, type VoiceScores } from '../scoring/index.js';
import { modelDir, readCurrentVersion } from '../training/manifest.js';
import { loadModelSet, type LoadedModelSet } from '../training/train.js';
import type { Matrix } from '../models/index.js';

export interface ActiveModel {
  version: string;
  set: LoadedModelSet;
  /** scores a normalized matrix with the ONNX models in the pool's workers */
  score(X: Matrix): Promise<VoiceScores>;
  close(): Promise<void>;
}

export class NoModelError extends Error {
  readonly code = 'ERR_DETECTOR_NO_MODEL';
}

/** batches sent to the pool: large enough to amortize a message, small enough to spread over workers */
export const SCORE_BATCH_ROWS = 4096;

/**
 * @param threshold the score from which a row is a detection, instead of the
 *   model's own (calibrated in training): detector.threshold when set
 */
export async function openActiveModel(modelsDir: string, workers: number, version?: string, threshold?: number): Promise<ActiveModel> {
  const v = version ?? readCurrentVersion(modelsDir);
  if (v === undefined) {
    throw new NoModelError(`no accepted model in ${modelsDir} (no "current" file): train one with "ja4 detector train" or use the shipped models/`);
  }
  const dir = modelDir(modelsDir, v);
  const loaded = loadModelSet(dir);
  const set = threshold === undefined ? loaded : { ...loaded, manifest: { ...loaded.manifest, ensemble: { ...loaded.manifest.ensemble, threshold } } };
  const pool: ScoringPool = await openScoringPool({ modelDir: dir, workers });
  return {
    version: v,
    set,
    async score(X: Matrix): Promise<VoiceScores> {
      const out: VoiceScores = { iforest: new Float64Array(X.rows), autoencoder: new Float64Array(X.rows), gbt: new Float64Array(X.rows) };
      const jobs: Promise<void>[] = [];
      for (let start = 0; start < X.rows; start += SCORE_BATCH_ROWS) {
        const end = Math.min(X.rows, start + SCORE_BATCH_ROWS);
        // a copy per batch: the pool transfers (detaches) the buffer it is given
        const data = X.data.slice(start * X.cols, end * X.cols);
        jobs.push(
          pool.score({ rows: end - start, cols: X.cols, data }).then((s) => {
            out.iforest.set(s.iforest, start);
            out.autoencoder.set(s.autoencoder, start);
            out.gbt.set(s.gbt, start);
          }),
        );
      }
      await Promise.all(jobs);
      return out;
    },
    close: () => pool.close(),
  };
}
