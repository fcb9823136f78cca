// Autoencoder voice: a small MLP (ReLU hidden layers, linear output) trained
// to reproduce its standardised input, with Adam (Kingma & Ba 2015) on the
// mean squared error. Rows unlike the training population reconstruct badly.
//
// Score: the reconstruction error e (mean squared error over the
// standardised features) is mapped to [0, 1] by its training distribution:
// ln(e + EPS) is fitted with a logistic distribution by moments (location mu
// = mean, scale s = sd * sqrt(3) / pi), and the score is that distribution's
// CDF, sigmoid((ln(e + EPS) - mu) / s): the median training row scores 0.5,
// and a score of 0.99 means an error beyond ~99% of the fitted training
// errors. The mapping is part of the ONNX graph, so both forms output the
// score directly.

import { checkMatrix, type Matrix } from './matrix.js';
import { Random } from './random.js';
import { finiteAtLeast, jsonError, nonNegativeInt, optionError, positiveInt } from './errors.js';
import { sigmoid } from './gradient-boosting.js';

export interface AutoencoderOptions {
  /** hidden layer widths (default [ceil(0.75 d), ceil(d / 3), ceil(0.75 d)], each at least 2) */
  hidden?: number[];
  /** passes over the training rows (default 10) */
  epochs?: number;
  /** Adam step size (default 0.001) */
  learningRate?: number;
  /** rows per gradient step (default 128) */
  batchSize?: number;
  seed?: number;
}

/** One dense layer; weights [in, out] row-major (the layout of ONNX Gemm's B). */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float64Array;
  bias: Float64Array;
}

export interface AutoencoderJson {
  kind: 'autoencoder';
  version: 1;
  cols: number;
  mean: number[];
  scale: number[];
  layers: { inputs: number; outputs: number; weights: number[]; bias: number[] }[];
  errorLogMean: number;
  errorLogScale: number;
  seed: number;
}

/** Added to the error before the logarithm (a perfectly reconstructed row). */
export const ERROR_EPS = 1e-12;

export class AutoencoderModel {
  constructor(
    readonly cols: number,
    /** standardisation: z = (x - mean) / scale */
    readonly mean: Float64Array,
    readonly scale: Float64Array,
    readonly layers: DenseLayer[],
    /** logistic fit of ln(error + EPS) over the training rows */
    readonly errorLogMean: number,
    readonly errorLogScale: number,
    readonly seed: number,
  ) {}

  /** Mean squared reconstruction error per row, in standardised units. */
  reconstructionErrors(X: Matrix): Float64Array {
    checkMatrix(X, 'X', { cols: this.cols });
    const out = new Float64Array(X.rows);
    const z = new Float64Array(this.cols);
    const acts = this.layers.map((l) => new Float64Array(l.outputs));
    for (let i = 0; i < X.rows; i++) {
      standardise(this, X.data, i * this.cols, z);
      forward(this.layers, z, acts);
      const r = acts[acts.length - 1]!;
      let s = 0;
      for (let j = 0; j < this.cols; j++) {
        const e = z[j]! - r[j]!;
        s += e * e;
      }
      out[i] = s / this.cols;
    }
    return out;
  }

  /** Error mapped to [0, 1] by the training distribution (see the file comment). */
  scoreRows(X: Matrix): Float64Array {
    const e = this.reconstructionErrors(X);
    for (let i = 0; i < e.length; i++) e[i] = sigmoid((Math.log(e[i]! + ERROR_EPS) - this.errorLogMean) / this.errorLogScale);
    return e;
  }

  toJSON(): AutoencoderJson {
    return {
      kind: 'autoencoder',
      version: 1,
      cols: this.cols,
      mean: Array.from(this.mean),
      scale: Array.from(this.scale),
      layers: this.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, weights: Array.from(l.weights), bias: Array.from(l.bias) })),
      errorLogMean: this.errorLogMean,
      errorLogScale: this.errorLogScale,
      seed: this.seed,
    };
  }

  static fromJSON(json: unknown): AutoencoderModel {
    const j = json as AutoencoderJson;
    if (!j || j.kind !== 'autoencoder' || j.version !== 1) throw jsonError('autoencoder', 'kind/version mismatch');
    if (!Array.isArray(j.layers) || j.layers.length === 0 || j.mean.length !== j.cols || j.scale.length !== j.cols) {
      throw jsonError('autoencoder', 'layers, mean or scale missing');
    }
    let width = j.cols;
    const layers = j.layers.map((l, k) => {
      if (l.inputs !== width || l.weights.length !== l.inputs * l.outputs || l.bias.length !== l.outputs) {
        throw jsonError('autoencoder', `layer ${k} has inconsistent shapes`);
      }
      width = l.outputs;
      return { inputs: l.inputs, outputs: l.outputs, weights: Float64Array.from(l.weights), bias: Float64Array.from(l.bias) };
    });
    if (width !== j.cols) throw jsonError('autoencoder', `the last layer outputs ${width} values, expected ${j.cols}`);
    return new AutoencoderModel(j.cols, Float64Array.from(j.mean), Float64Array.from(j.scale), layers, j.errorLogMean, j.errorLogScale, j.seed);
  }
}

function standardise(m: { cols: number; mean: Float64Array; scale: Float64Array }, data: Float64Array, off: number, z: Float64Array): void {
  for (let j = 0; j < m.cols; j++) z[j] = (data[off + j]! - m.mean[j]!) / m.scale[j]!;
}

/** Forward pass; acts[l] receives layer l's output (ReLU on all but the last). */
function forward(layers: DenseLayer[], input: Float64Array, acts: Float64Array[]): void {
  let a = input;
  for (let l = 0; l < layers.length; l++) {
    const { inputs, outputs, weights, bias } = layers[l]!;
    const out = acts[l]!;
    out.set(bias);
    for (let i = 0; i < inputs; i++) {
      const ai = a[i]!;
      if (ai === 0) continue;
      const row = i * outputs;
      for (let o = 0; o < outputs; o++) out[o] = out[o]! + ai * weights[row + o]!;
    }
    if (l < layers.length - 1) for (let o = 0; o < outputs; o++) if (out[o]! < 0) out[o] = 0;
    a = out;
  }
}

export function trainAutoencoder(X: Matrix, opts: AutoencoderOptions = {}): AutoencoderModel {
  checkMatrix(X, 'X', { minRows: 2 });
  const d = X.cols;
  const hidden = opts.hidden ?? [Math.max(2, Math.ceil(0.75 * d)), Math.max(2, Math.ceil(d / 3)), Math.max(2, Math.ceil(0.75 * d))];
  if (!Array.isArray(hidden) || hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h <= 0)) {
    throw optionError('hidden', 'must be a non-empty list of positive integers', hidden);
  }
  const epochs = positiveInt('epochs', opts.epochs, 10);
  const lr = finiteAtLeast('learningRate', opts.learningRate, 0.001, 0, true);
  const batchSize = positiveInt('batchSize', opts.batchSize, 128);
  const seed = nonNegativeInt('seed', opts.seed, 1);
  const rng = new Random(seed);
  const n = X.rows;

  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + X.data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const e = X.data[i * d + j]! - mean[j]!;
      scale[j] = scale[j]! + e * e;
    }
  }
  // a constant column keeps scale 1 (it standardises to 0 either way)
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]! / n) || 1;

  const widths = [d, ...hidden, d];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const inputs = widths[l]!;
    const outputs = widths[l + 1]!;
    // He initialisation for ReLU layers, Glorot-like for the linear output
    const std = Math.sqrt((l + 2 < widths.length ? 2 : 1) / inputs);
    const weights = new Float64Array(inputs * outputs);
    for (let k = 0; k < weights.length; k++) weights[k] = rng.normal() * std;
    layers.push({ inputs, outputs, weights, bias: new Float64Array(outputs) });
  }
  const shell = { cols: d, mean, scale };
  const acts = layers.map((l) => new Float64Array(l.outputs));
  const deltas = layers.map((l) => new Float64Array(l.outputs));
  const gradW = layers.map((l) => new Float64Array(l.weights.length));
  const gradB = layers.map((l) => new Float64Array(l.outputs));
  const mW = layers.map((l) => new Float64Array(l.weights.length));
  const vW = layers.map((l) => new Float64Array(l.weights.length));
  const mB = layers.map((l) => new Float64Array(l.outputs));
  const vB = layers.map((l) => new Float64Array(l.outputs));
  const z = new Float64Array(d);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const adamEps = 1e-8;
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      for (const g of gradW) g.fill(0);
      for (const g of gradB) g.fill(0);
      for (let b = start; b < end; b++) {
        standardise(shell, X.data, order[b]! * d, z);
        forward(layers, z, acts);
        // dL/dr for L = mean((r - z)^2)
        const last = layers.length - 1;
        const out = acts[last]!;
        for (let j = 0; j < d; j++) deltas[last]![j] = (2 * (out[j]! - z[j]!)) / d;
        for (let l = last; l >= 0; l--) {
          const { inputs, outputs, weights } = layers[l]!;
          const delta = deltas[l]!;
          const input = l === 0 ? z : acts[l - 1]!;
          const gw = gradW[l]!;
          const gb = gradB[l]!;
          for (let o = 0; o < outputs; o++) gb[o] = gb[o]! + delta[o]!;
          for (let i = 0; i < inputs; i++) {
            const ai = input[i]!;
            if (ai === 0) continue;
            const row = i * outputs;
            for (let o = 0; o < outputs; o++) gw[row + o] = gw[row + o]! + ai * delta[o]!;
          }
          if (l > 0) {
            const prev = deltas[l - 1]!;
            for (let i = 0; i < inputs; i++) {
              if (input[i]! <= 0) {
                prev[i] = 0; // ReLU gradient
                continue;
              }
              let s = 0;
              const row = i * outputs;
              for (let o = 0; o < outputs; o++) s += weights[row + o]! * delta[o]!;
              prev[i] = s;
            }
          }
        }
      }
      step++;
      const inv = 1 / (end - start);
      const c1 = 1 - Math.pow(beta1, step);
      const c2 = 1 - Math.pow(beta2, step);
      for (let l = 0; l < layers.length; l++) {
        adam(layers[l]!.weights, gradW[l]!, mW[l]!, vW[l]!, inv, lr, beta1, beta2, adamEps, c1, c2);
        adam(layers[l]!.bias, gradB[l]!, mB[l]!, vB[l]!, inv, lr, beta1, beta2, adamEps, c1, c2);
      }
    }
  }
  const draft = new AutoencoderModel(d, mean, scale, layers, 0, 1, seed);
  const errors = draft.reconstructionErrors(X);
  let mu = 0;
  for (const e of errors) mu += Math.log(e + ERROR_EPS);
  mu /= n;
  let varLog = 0;
  for (const e of errors) varLog += (Math.log(e + ERROR_EPS) - mu) ** 2;
  const sd = Math.sqrt(varLog / n);
  const s = sd > 0 ? (sd * Math.sqrt(3)) / Math.PI : 1;
  return new AutoencoderModel(d, mean, scale, layers, mu, s, seed);
}

function adam(
  param: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  inv: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  c1: number,
  c2: number,
): void {
  for (let k = 0; k < param.length; k++) {
    const g = grad[k]! * inv;
    m[k] = beta1 * m[k]! + (1 - beta1) * g;
    v[k] = beta2 * v[k]! + (1 - beta2) * g * g;
    param[k] = param[k]! - (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + eps);
  }
}
