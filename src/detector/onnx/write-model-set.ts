// Writes the three voices as the ONNX files a scoring pool loads.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AutoencoderModel } from '../models/autoencoder.js';
import type { EifModel } from '../models/isolation-forest.js';
import type { GbtModel } from '../models/gradient-boosting.js';
import { MODEL_FILES } from '../scoring/voice-sessions.js';
import { exportAutoencoder } from './export-autoencoder.js';
import { exportEif } from './export-eif.js';
import { exportGbt } from './export-gbt.js';

export interface VoiceModels {
  iforest: EifModel;
  autoencoder: AutoencoderModel;
  gbt: GbtModel;
}

/** Writes eif.onnx, autoencoder.onnx and gbt.onnx into `dir` (created if needed); returns the paths. */
export function writeOnnxModels(dir: string, models: VoiceModels): Record<keyof VoiceModels, string> {
  mkdirSync(dir, { recursive: true });
  const paths = {
    iforest: join(dir, MODEL_FILES.iforest),
    autoencoder: join(dir, MODEL_FILES.autoencoder),
    gbt: join(dir, MODEL_FILES.gbt),
  };
  writeFileSync(paths.iforest, exportEif(models.iforest));
  writeFileSync(paths.autoencoder, exportAutoencoder(models.autoencoder));
  writeFileSync(paths.gbt, exportGbt(models.gbt));
  return paths;
}
