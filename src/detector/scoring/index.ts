// Scoring pool: piscina workers, each owning its onnxruntime sessions.
import type { Matrix } from '../models/matrix.js';
export interface ScoringPoolOptions { modelDir: string; workers?: number }
export interface VoiceScores { iforest: Float64Array; autoencoder: Float64Array; gbt: Float64Array }
/** Rows as float64 (a Matrix) or float32 (same shape, Float32Array data); the buffer is transferred to the worker. */
export interface ScoringBatch { rows: number; cols: number; data: Float64Array | Float32Array }
export interface ScoringPool { score(X: Matrix | ScoringBatch): Promise<VoiceScores>; close(): Promise<void> }
export async function openScoringPool(_opts: ScoringPoolOptions): Promise<ScoringPool> { throw new Error('not implemented yet'); }
