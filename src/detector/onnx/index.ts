// ONNX export of the three voices (ModelProto bytes, written by our own protobuf encoder).
import type { EifModel } from '../models/isolation-forest.js';
import type { AutoencoderModel } from '../models/autoencoder.js';
import type { GbtModel } from '../models/gradient-boosting.js';
export function exportEif(_model: EifModel): Uint8Array { throw new Error('not implemented yet'); }
export function exportAutoencoder(_model: AutoencoderModel): Uint8Array { throw new Error('not implemented yet'); }
export function exportGbt(_model: GbtModel): Uint8Array { throw new Error('not implemented yet'); }
