// The hand-written protobuf/ONNX encoder: golden bytes from the protobuf
// encoding guide, then a whole model that onnxruntime loads and runs.
import t from 'tap';
import * as ort from 'onnxruntime-node';
import { ProtoWriter, encodeVarint } from '../src/detector/onnx/protobuf-writer.js';
import { DataType, attribute, modelBytes, node, tensor, valueInfo } from '../src/detector/onnx/onnx-proto.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('wire format: the encoding guide examples', async (t) => {
  t.equal(hex(encodeVarint(0n)), '00');
  t.equal(hex(encodeVarint(150n)), '9601');
  t.equal(hex(encodeVarint(300n)), 'ac02');
  t.equal(hex(new ProtoWriter().varint(1, 150).finish()), '089601', 'field 1 = 150');
  t.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '120774657374696e67', 'field 2 = "testing"');
  t.equal(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish()), '2206038e029ea705', 'packed repeated');
  t.equal(hex(new ProtoWriter().varint(1, -1).finish()), '08ffffffffffffffffff01', 'negative int64: ten bytes');
  t.equal(hex(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).finish()), '1a03089601', 'embedded message');
  t.equal(hex(new ProtoWriter().float(2, 1.5).finish()), '150000c03f', 'float, fixed32 little-endian');
});

t.test('ONNX messages: tensor and attribute bytes', async (t) => {
  // dims [2] (packed), data_type 11 (DOUBLE), name "W", raw_data 1.0, -2.0 little-endian
  t.equal(hex(tensor('W', DataType.DOUBLE, [2], Float64Array.of(1, -2)).finish()), '0a0102100b4201574a10000000000000f03f00000000000000c0');
  // name "k", i = 7, type INT (2)
  t.equal(hex(attribute('k', { int: 7 }).finish()), '0a016b1807a00102');
  // name "v", ints [1, 2] packed, type INTS (7)
  t.equal(hex(attribute('v', { ints: [1, 2] }).finish()), '0a017642020102a00107');
});

t.test('a model with an initializer and two nodes loads and runs in onnxruntime', async (t) => {
  const bytes = modelBytes({
    opsets: { '': 21 },
    graph: {
      name: 'affine',
      inputs: [valueInfo('X', DataType.DOUBLE, ['N', 2])],
      outputs: [valueInfo('Y', DataType.DOUBLE, ['N', 2])],
      initializers: [tensor('b', DataType.DOUBLE, [2], Float64Array.of(0.5, -1)), tensor('two', DataType.DOUBLE, [], Float64Array.of(2))],
      nodes: [node('Mul', ['X', 'two'], ['X2']), node('Add', ['X2', 'b'], ['Y'])],
    },
  });
  const s = await ort.InferenceSession.create(bytes);
  t.teardown(() => s.release());
  t.same(s.inputNames, ['X']);
  t.same(s.outputNames, ['Y']);
  const out = await s.run({ X: new ort.Tensor('float64', Float64Array.of(1, 2, 3, 4), [2, 2]) });
  t.same(Array.from(out.Y!.data as Float64Array), [2.5, 3, 6.5, 7]);
  t.same(out.Y!.dims, [2, 2]);
  await t.rejects(ort.InferenceSession.create(bytes.subarray(0, bytes.length - 5)), 'a truncated model is refused');
});
