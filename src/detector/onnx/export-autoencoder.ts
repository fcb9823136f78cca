// Autoencoder -> ONNX, in double:
//   Z = (X - mean) / scale; R = Gemm/Relu ... Gemm (Z); e = ReduceMean((Z - R)^2, axis 1)
//   score = Sigmoid((Log(e + EPS) - mu) / s)   -> [N]

import { ERROR_EPS, type AutoencoderModel } from '../models/autoencoder.js';
import { DataType, ML_DOMAIN, modelBytes, node, tensor, valueInfo } from './onnx-proto.js';
import type { ProtoWriter } from './protobuf-writer.js';
import { ONNX_ML_OPSET, ONNX_OPSET } from './export-eif.js';

export function exportAutoencoder(model: AutoencoderModel): Uint8Array {
  const D = DataType.DOUBLE;
  const d = model.cols;
  const initializers: ProtoWriter[] = [
    tensor('mean', D, [d], model.mean),
    tensor('scale', D, [d], model.scale),
    tensor('eps', D, [], Float64Array.of(ERROR_EPS)),
    tensor('mu', D, [], Float64Array.of(model.errorLogMean)),
    tensor('s', D, [], Float64Array.of(model.errorLogScale)),
    tensor('axis1', DataType.INT64, [1], BigInt64Array.of(1n)),
  ];
  const nodes: ProtoWriter[] = [node('Sub', ['X', 'mean'], ['centred']), node('Div', ['centred', 'scale'], ['Z'])];
  let h = 'Z';
  model.layers.forEach((l, k) => {
    initializers.push(tensor(`W${k}`, D, [l.inputs, l.outputs], l.weights), tensor(`b${k}`, D, [l.outputs], l.bias));
    const last = k === model.layers.length - 1;
    const lin = last ? 'R' : `lin${k}`;
    nodes.push(node('Gemm', [h, `W${k}`, `b${k}`], [lin]));
    if (!last) {
      nodes.push(node('Relu', [lin], [`h${k}`]));
      h = `h${k}`;
    }
  });
  nodes.push(
    node('Sub', ['Z', 'R'], ['diff']),
    node('Mul', ['diff', 'diff'], ['sq']),
    node('ReduceMean', ['sq', 'axis1'], ['err'], { keepdims: { int: 0 } }),
    node('Add', ['err', 'eps'], ['err_eps']),
    node('Log', ['err_eps'], ['log_err']),
    node('Sub', ['log_err', 'mu'], ['log_centred']),
    node('Div', ['log_centred', 's'], ['logit']),
    node('Sigmoid', ['logit'], ['score']),
  );
  return modelBytes({
    doc: `autoencoder ${[d, ...model.layers.map((l) => l.outputs)].join('-')}, score = logistic CDF of ln(error)`,
    opsets: { '': ONNX_OPSET, [ML_DOMAIN]: ONNX_ML_OPSET },
    graph: { name: 'autoencoder', inputs: [valueInfo('X', D, ['N', d])], outputs: [valueInfo('score', D, ['N'])], initializers, nodes },
  });
}
