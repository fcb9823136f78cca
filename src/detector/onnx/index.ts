// ONNX export of the three voices: ModelProto bytes written by our own
// protobuf encoder, double-typed graphs (input X [N, d] float64, one score per row).
export { eifProjection, exportEif, ONNX_OPSET, ONNX_ML_OPSET, type EifProjection } from './export-eif.js';
export { exportGbt } from './export-gbt.js';
export { exportAutoencoder } from './export-autoencoder.js';
export { writeOnnxModels, type VoiceModels } from './write-model-set.js';
