// (implementation follows) Autoencoder: MLP trained with Adam; score = reconstruction error mapped to [0,1].
import type { Matrix } from './matrix.js';

export interface AutoencoderOptions { hidden?: number[]; epochs?: number; learningRate?: number; batchSize?: number; seed?: number }
export interface AutoencoderJson { kind: 'autoencoder'; version: 1 }
export declare class AutoencoderModel {
  readonly cols: number;
  scoreRows(X: Matrix): Float64Array;
  reconstructionErrors(X: Matrix): Float64Array;
  toJSON(): AutoencoderJson;
  static fromJSON(json: unknown): AutoencoderModel;
}
export function trainAutoencoder(_X: Matrix, _opts: AutoencoderOptions = {}): AutoencoderModel {
  throw new Error('not implemented yet');
}
