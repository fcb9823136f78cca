// Piscina worker (runs on a worker thread): loads the three onnxruntime
// sessions once, when the module loads, then scores every batch it is given.
// The batch arrives as a transferred buffer; the packed scores go back the
// same way (Piscina.move), so no batch is copied between threads.

import { move, workerData } from 'piscina';
import { loadVoiceSessions, scorePacked, type ScoringBatch } from './voice-sessions.js';

const { modelDir, intraOpThreads } = workerData as { modelDir: string; intraOpThreads: number };
const sessions = await loadVoiceSessions(modelDir, { intraOpThreads });

export default async function score(batch: ScoringBatch): Promise<unknown> {
  return move(await scorePacked(sessions, batch));
}
