import type { AutoencoderModel } from '../models/autoencoder.js';
export function exportAutoencoder(_model: AutoencoderModel): Uint8Array {
  throw new Error('not implemented yet');
}
