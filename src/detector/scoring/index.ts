// Scoring pool: piscina workers, each owning its three onnxruntime sessions
// (eif.onnx, autoencoder.onnx, gbt.onnx in one model directory). Batches go
// to a worker as transferred Float64Array/Float32Array buffers; scores come
// back as one transferred buffer per batch.

import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Matrix } from '../models/matrix.js';
import { ScoringError } from './errors.js';
import { checkBatch, loadVoiceSessions, releaseSessions, scorePacked, unpack, type ScoringBatch, type VoiceScores, type VoiceSessions } from './voice-sessions.js';

export { ScoringError, type ScoringErrorCode } from './errors.js';
export { MODEL_FILES, VOICES, loadVoiceSessions, scorePacked, unpack, type ScoringBatch, type VoiceScores, type Voice, type VoiceSessions } from './voice-sessions.js';

export interface ScoringPoolOptions {
  /** directory with eif.onnx, autoencoder.onnx and gbt.onnx */
  modelDir: string;
  /** worker threads (default 2) */
  workers?: number;
  /** onnxruntime intra-op threads per session in each worker (default 1) */
  intraOpThreads?: number;
}

export interface ScoringPool {
  /**
   * Scores a batch in a worker. The batch's buffer is transferred (the
   * caller's array is detached afterwards) when the array spans its whole
   * buffer; a view into a larger buffer is copied instead, so the rest of
   * that buffer stays usable.
   */
  score(X: Matrix | ScoringBatch): Promise<VoiceScores>;
  close(): Promise<void>;
  readonly workers: number;
}

function checkModelDir(modelDir: unknown): string {
  if (typeof modelDir !== 'string' || modelDir === '') throw new ScoringError('ERR_SCORING_OPTION', `modelDir must be a directory path, got ${JSON.stringify(modelDir)}`);
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw new ScoringError('ERR_SCORING_OPTION', `modelDir ${modelDir} is not a directory`);
  return modelDir;
}

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new ScoringError('ERR_SCORING_OPTION', `${option} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** The worker module: compiled JS next to this file, or the TS source when running from src/ (tests). */
function workerFile(): string {
  const js = fileURLToPath(new URL('./scoring-worker.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./scoring-worker.ts', import.meta.url));
}

export async function openScoringPool(opts: ScoringPoolOptions): Promise<ScoringPool> {
  const modelDir = checkModelDir(opts.modelDir);
  const workers = positive('workers', opts.workers, 2);
  const intraOpThreads = positive('intraOpThreads', opts.intraOpThreads, 1);
  // load once here first: a missing or broken model fails the open with a
  // clear error instead of failing every worker's start
  await releaseSessions(await loadVoiceSessions(modelDir, { intraOpThreads }));
  const pool = new Piscina({
    filename: workerFile(),
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: Infinity,
    workerData: { modelDir, intraOpThreads },
  });
  let closed = false;
  return {
    workers,
    async score(X) {
      if (closed) throw new ScoringError('ERR_SCORING_CLOSED', 'the scoring pool is closed');
      checkBatch(X);
      if (X.rows === 0) return unpack(new Float64Array(0));
      const whole = X.data.byteOffset === 0 && X.data.byteLength === X.data.buffer.byteLength && X.data.buffer instanceof ArrayBuffer;
      const data = whole ? X.data : X.data.slice();
      const task: ScoringBatch = { rows: X.rows, cols: X.cols, data };
      try {
        return unpack((await pool.run(task, { transferList: [data.buffer as ArrayBuffer] })) as Float64Array);
      } catch (err) {
        // an error crossing the thread boundary keeps its message, not its class
        if (err instanceof ScoringError) throw err;
        const code = (err as { code?: unknown }).code;
        const known = typeof code === 'string' && code.startsWith('ERR_SCORING_') ? (code as ScoringError['code']) : 'ERR_SCORING_INPUT';
        throw new ScoringError(known, (err as Error).message, { cause: err });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.destroy();
    },
  };
}

/** The same scoring in the calling thread, with one set of sessions: the benchmark baseline. */
export interface DirectScorer {
  score(X: Matrix | ScoringBatch): Promise<VoiceScores>;
  close(): Promise<void>;
}

export async function openDirectScorer(opts: { modelDir: string; intraOpThreads?: number }): Promise<DirectScorer> {
  const sessions: VoiceSessions = await loadVoiceSessions(checkModelDir(opts.modelDir), { intraOpThreads: positive('intraOpThreads', opts.intraOpThreads, 1) });
  return {
    async score(X) {
      return unpack(await scorePacked(sessions, X));
    },
    close: () => releaseSessions(sessions),
  };
}
