// The detector's model library: training, reference scoring, explanations
// and clustering, all in TypeScript over plain typed arrays.
export * from './errors.js';
export * from './matrix.js';
export { Random } from './random.js';
export * from './isolation-forest.js';
export * from './autoencoder.js';
export * from './gradient-boosting.js';
export * from './tree-shap.js';
export * from './hdbscan.js';
