// Builders for the ONNX messages we emit, on top of ProtoWriter. Field
// numbers are those of onnx/onnx.proto (IR version 10):
//   ModelProto:    ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7, opset_import 8
//   OperatorSetIdProto: domain 1, version 2
//   GraphProto:    node 1, name 2, initializer 5, doc_string 10, input 11, output 12
//   NodeProto:     input 1, output 2, name 3, op_type 4, attribute 5, domain 7
//   AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20
//   TensorProto:   dims 1, data_type 2, name 8, raw_data 9
//   ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1;
//   TypeProto.Tensor: elem_type 1, shape 2; TensorShapeProto: dim 1;
//   Dimension: dim_value 1, dim_param 2

import { ProtoWriter } from './protobuf-writer.js';

/** TensorProto.DataType values */
export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export const IR_VERSION = 10;
export const ML_DOMAIN = 'ai.onnx.ml';

export type TensorData = Float64Array | Float32Array | Uint8Array | BigInt64Array | Int32Array;

/** A tensor with its values as little-endian raw_data (the compact form). */
export function tensor(name: string, dataType: DataTypeCode, dims: number[], data: TensorData): ProtoWriter {
  const w = new ProtoWriter();
  w.packedVarints(1, dims);
  w.varint(2, dataType);
  if (name) w.string(8, name);
  w.bytes(9, littleEndianBytes(data));
  return w;
}

function littleEndianBytes(data: TensorData): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) v.setFloat64(i * 8, data[i]!, true);
    else if (data instanceof Float32Array) v.setFloat32(i * 4, data[i]!, true);
    else if (data instanceof BigInt64Array) v.setBigInt64(i * 8, data[i]!, true);
    else if (data instanceof Int32Array) v.setInt32(i * 4, data[i]!, true);
    else v.setUint8(i, data[i]!);
  }
  return out;
}

export type AttrValue =
  | { int: number }
  | { ints: ArrayLike<number> }
  | { float: number }
  | { floats: ArrayLike<number> }
  | { string: string }
  | { tensor: ProtoWriter };

export function attribute(name: string, value: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('int' in value) w.varint(3, value.int).varint(20, AttrType.INT);
  else if ('ints' in value) w.packedVarints(8, value.ints).varint(20, AttrType.INTS);
  else if ('float' in value) w.float(2, value.float).varint(20, AttrType.FLOAT);
  else if ('floats' in value) w.packedFloats(7, value.floats).varint(20, AttrType.FLOATS);
  else if ('string' in value) w.string(4, value.string).varint(20, AttrType.STRING);
  else w.message(5, value.tensor).varint(20, AttrType.TENSOR);
  return w;
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, `${opType}_${outputs[0] ?? ''}`);
  w.string(4, opType);
  for (const [name, value] of Object.entries(attrs)) w.message(5, attribute(name, value));
  if (domain) w.string(7, domain);
  return w;
}

/** A tensor-typed graph input/output; string dims are symbolic (e.g. 'N'). */
export function valueInfo(name: string, elemType: DataTypeCode, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface GraphSpec {
  name: string;
  nodes: ProtoWriter[];
  initializers: ProtoWriter[];
  inputs: ProtoWriter[];
  outputs: ProtoWriter[];
  doc?: string;
}

export interface ModelSpec {
  graph: GraphSpec;
  /** opset per domain ('' = ai.onnx) */
  opsets: Record<string, number>;
  doc?: string;
}

export function modelBytes(spec: ModelSpec): Uint8Array {
  const g = new ProtoWriter();
  for (const n of spec.graph.nodes) g.message(1, n);
  g.string(2, spec.graph.name);
  for (const t of spec.graph.initializers) g.message(5, t);
  if (spec.graph.doc) g.string(10, spec.graph.doc);
  for (const i of spec.graph.inputs) g.message(11, i);
  for (const o of spec.graph.outputs) g.message(12, o);
  const m = new ProtoWriter();
  m.varint(1, IR_VERSION);
  m.string(2, 'ja4-platform');
  m.string(3, '1');
  if (spec.doc) m.string(6, spec.doc);
  m.message(7, g);
  for (const [domain, version] of Object.entries(spec.opsets)) {
    const o = new ProtoWriter();
    if (domain) o.string(1, domain);
    o.varint(2, version);
    m.message(8, o);
  }
  return m.finish();
}
