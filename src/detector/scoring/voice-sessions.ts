// The three voices as onnxruntime sessions, and scoring one batch with them.
// Used by each pool worker (its own sessions, loaded once) and directly in
// one thread (the benchmark's baseline, small callers).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ScoringError } from './errors.js';

/** File names inside a model directory. */
export const MODEL_FILES = { iforest: 'eif.onnx', autoencoder: 'autoencoder.onnx', gbt: 'gbt.onnx' } as const;
export type Voice = keyof typeof MODEL_FILES;
export const VOICES: readonly Voice[] = ['iforest', 'autoencoder', 'gbt'];

/** Rows to score: float64 (exact) or float32 (widened to double before scoring). */
export interface ScoringBatch {
  rows: number;
  cols: number;
  data: Float64Array | Float32Array;
}

export interface VoiceScores {
  iforest: Float64Array;
  autoencoder: Float64Array;
  gbt: Float64Array;
}

export type VoiceSessions = Record<Voice, ort.InferenceSession>;

export interface SessionOptions {
  /** onnxruntime intra-op threads per session (default 1: the pool's parallelism is its workers) */
  intraOpThreads?: number;
}

export async function loadVoiceSessions(modelDir: string, opts: SessionOptions = {}): Promise<VoiceSessions> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const out: Partial<VoiceSessions> = {};
  for (const voice of VOICES) {
    const file = join(modelDir, MODEL_FILES[voice]);
    if (!existsSync(file)) throw new ScoringError('ERR_SCORING_MODEL', `model file ${file} is missing (${voice})`);
    try {
      out[voice] = await ort.InferenceSession.create(file, sessionOptions);
    } catch (err) {
      throw new ScoringError('ERR_SCORING_MODEL', `onnxruntime cannot load ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out as VoiceSessions;
}

export function checkBatch(batch: ScoringBatch): void {
  const { rows, cols, data } = batch;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols <= 0) {
    throw new ScoringError('ERR_SCORING_INPUT', `batch shape must be integer rows >= 0 and cols > 0, got ${rows}x${cols}`);
  }
  if (!(data instanceof Float64Array || data instanceof Float32Array)) {
    throw new ScoringError('ERR_SCORING_INPUT', 'batch data must be a Float64Array or a Float32Array');
  }
  if (data.length !== rows * cols) {
    throw new ScoringError('ERR_SCORING_INPUT', `batch data has ${data.length} values, rows*cols = ${rows * cols}`);
  }
}

/**
 * Scores one batch with the three sessions; the result is one packed array
 * [iforest | autoencoder | gbt] (3 * rows doubles) so a worker can hand it
 * back as a single transferred buffer.
 */
export async function scorePacked(sessions: VoiceSessions, batch: ScoringBatch): Promise<Float64Array> {
  checkBatch(batch);
  const n = batch.rows;
  const packed = new Float64Array(3 * n);
  if (n === 0) return packed;
  const x64 = batch.data instanceof Float64Array ? batch.data : Float64Array.from(batch.data);
  const input = new ort.Tensor('float64', x64, [n, batch.cols]);
  const outputs = await Promise.all(
    VOICES.map(async (voice) => {
      const s = sessions[voice];
      try {
        const res = await s.run({ [s.inputNames[0]!]: input });
        return res[s.outputNames[0]!]!.data as Float64Array;
      } catch (err) {
        throw new ScoringError('ERR_SCORING_INPUT', `${voice} rejected a ${n}x${batch.cols} batch: ${(err as Error).message}`, { cause: err });
      }
    }),
  );
  outputs.forEach((o, k) => packed.set(o, k * n));
  return packed;
}

export function unpack(packed: Float64Array): VoiceScores {
  const n = packed.length / 3;
  return { iforest: packed.subarray(0, n), autoencoder: packed.subarray(n, 2 * n), gbt: packed.subarray(2 * n) };
}

export async function releaseSessions(sessions: VoiceSessions): Promise<void> {
  for (const voice of VOICES) await sessions[voice].release();
}
