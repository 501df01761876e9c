/**
 * ONNX protobuf (de)serialization.
 *
 * The schema is built in code with protobufjs's reflection API from the field numbers of the ONNX IR
 * specification (onnx.proto, proto2 syntax). Decoded models are plain objects with camelCase field
 * names; 64-bit integers become JS numbers (values beyond ±2^53 lose precision; ±2^63 sentinels such
 * as INT64_MAX survive a round trip because encoding clamps to the int64 range), bytes fields are
 * plain `Uint8Array`s (copies, never views of the input), repeated fields are always arrays and
 * absent optional fields are absent (proto2 presence is kept, so re-encoding is lossless for every
 * field in the schema).
 */
import protobuf from 'protobufjs';
import { RefineryError, fail } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Enums

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];

/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** Printable name of a TensorProto data type. */
export function dataTypeName(dataType: number): string {
  for (const [k, v] of Object.entries(DataType)) if (v === dataType) return k;
  return `data type ${dataType}`;
}

// ---------------------------------------------------------------------------------------------
// Plain-object interfaces (camelCase, as protobufjs produces them)

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface TensorSegment {
  begin?: number;
  end?: number;
}

export interface TensorProto {
  dims: number[];
  dataType?: number;
  segment?: TensorSegment;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData: StringStringEntryProto[];
  dataLocation?: number;
  doubleData: number[];
  uint64Data: number[];
  metadataProps: StringStringEntryProto[];
}

export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims: number[];
}

export interface TensorShapeDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto {
  dim: TensorShapeDimension[];
}

export interface TypeProtoTensor {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TypeProto {
  tensorType?: TypeProtoTensor;
  sequenceType?: { elemType?: TypeProto };
  mapType?: { keyType?: number; valueType?: TypeProto };
  optionalType?: { elemType?: TypeProto };
  sparseTensorType?: TypeProtoTensor;
  opaqueType?: { domain?: string; name?: string };
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
  metadataProps: StringStringEntryProto[];
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  sparseTensors: SparseTensorProto[];
  typeProtos: TypeProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute: AttributeProto[];
  docString?: string;
  metadataProps: StringStringEntryProto[];
}

export interface TensorAnnotation {
  tensorName?: string;
  quantParameterTensorNames: StringStringEntryProto[];
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparseInitializer: SparseTensorProto[];
  docString?: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  quantizationAnnotation: TensorAnnotation[];
  metadataProps: StringStringEntryProto[];
}

export interface FunctionProto {
  name?: string;
  input: string[];
  output: string[];
  attribute: string[];
  attributeProto: AttributeProto[];
  node: NodeProto[];
  docString?: string;
  opsetImport: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  valueInfo: ValueInfoProto[];
  metadataProps: StringStringEntryProto[];
}

export interface TrainingInfoProto {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initializationBinding: StringStringEntryProto[];
  updateBinding: StringStringEntryProto[];
}

export interface ModelProto {
  irVersion?: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps: StringStringEntryProto[];
  trainingInfo: TrainingInfoProto[];
  functions: FunctionProto[];
}

// ---------------------------------------------------------------------------------------------
// Schema

type FieldSpec = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const opt = (type: string, id: number): FieldSpec => ({ type, id });
// onnx.proto is proto2: repeated scalars are unpacked unless marked [packed = true]. protobufjs
// would pack them by default, so say so explicitly (the decoder accepts both forms either way).
const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const rep = (type: string, id: number): FieldSpec =>
  SCALARS.has(type) ? { type, id, rule: 'repeated', options: { packed: false } } : { type, id, rule: 'repeated' };
const packed = (type: string, id: number): FieldSpec => ({ type, id, rule: 'repeated', options: { packed: true } });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: opt('string', 1),
            refAttrName: opt('string', 21),
            docString: opt('string', 13),
            // AttributeType and DataLocation are enums in onnx.proto; int32 on the wire is the same
            // and keeps values from newer IR versions encodable.
            type: opt('int32', 20),
            f: opt('float', 2),
            i: opt('int64', 3),
            s: opt('bytes', 4),
            t: opt('TensorProto', 5),
            g: opt('GraphProto', 6),
            sparseTensor: opt('SparseTensorProto', 22),
            tp: opt('TypeProto', 14),
            floats: rep('float', 7),
            ints: rep('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
            sparseTensors: rep('SparseTensorProto', 23),
            typeProtos: rep('TypeProto', 15),
          },
        },
        ValueInfoProto: {
          fields: {
            name: opt('string', 1),
            type: opt('TypeProto', 2),
            docString: opt('string', 3),
            metadataProps: rep('StringStringEntryProto', 4),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: opt('string', 3),
            opType: opt('string', 4),
            domain: opt('string', 7),
            overload: opt('string', 8),
            attribute: rep('AttributeProto', 5),
            docString: opt('string', 6),
            metadataProps: rep('StringStringEntryProto', 9),
          },
        },
        TrainingInfoProto: {
          fields: {
            initialization: opt('GraphProto', 1),
            algorithm: opt('GraphProto', 2),
            initializationBinding: rep('StringStringEntryProto', 3),
            updateBinding: rep('StringStringEntryProto', 4),
          },
        },
        ModelProto: {
          fields: {
            irVersion: opt('int64', 1),
            opsetImport: rep('OperatorSetIdProto', 8),
            producerName: opt('string', 2),
            producerVersion: opt('string', 3),
            domain: opt('string', 4),
            modelVersion: opt('int64', 5),
            docString: opt('string', 6),
            graph: opt('GraphProto', 7),
            metadataProps: rep('StringStringEntryProto', 14),
            trainingInfo: rep('TrainingInfoProto', 20),
            functions: rep('FunctionProto', 25),
          },
        },
        StringStringEntryProto: {
          fields: { key: opt('string', 1), value: opt('string', 2) },
        },
        TensorAnnotation: {
          fields: {
            tensorName: opt('string', 1),
            quantParameterTensorNames: rep('StringStringEntryProto', 2),
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: opt('string', 2),
            initializer: rep('TensorProto', 5),
            sparseInitializer: rep('SparseTensorProto', 15),
            docString: opt('string', 10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
            quantizationAnnotation: rep('TensorAnnotation', 14),
            metadataProps: rep('StringStringEntryProto', 16),
          },
        },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: opt('int32', 2),
            segment: opt('Segment', 3),
            floatData: packed('float', 4),
            int32Data: packed('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: packed('int64', 7),
            name: opt('string', 8),
            docString: opt('string', 12),
            rawData: opt('bytes', 9),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: opt('int32', 14),
            doubleData: packed('double', 10),
            uint64Data: packed('uint64', 11),
            metadataProps: rep('StringStringEntryProto', 16),
          },
          nested: {
            Segment: { fields: { begin: opt('int64', 1), end: opt('int64', 2) } },
          },
        },
        SparseTensorProto: {
          fields: {
            values: opt('TensorProto', 1),
            indices: opt('TensorProto', 2),
            dims: rep('int64', 3),
          },
        },
        TensorShapeProto: {
          fields: { dim: rep('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: opt('int64', 1),
                dimParam: opt('string', 2),
                denotation: opt('string', 3),
              },
            },
          },
        },
        TypeProto: {
          oneofs: {
            value: {
              oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType', 'opaqueType'],
            },
          },
          fields: {
            tensorType: opt('Tensor', 1),
            sequenceType: opt('Sequence', 4),
            mapType: opt('Map', 5),
            optionalType: opt('Optional', 9),
            sparseTensorType: opt('SparseTensor', 8),
            opaqueType: opt('Opaque', 7),
            denotation: opt('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: opt('int32', 1), shape: opt('TensorShapeProto', 2) } },
            Sequence: { fields: { elemType: opt('TypeProto', 1) } },
            Map: { fields: { keyType: opt('int32', 1), valueType: opt('TypeProto', 2) } },
            Optional: { fields: { elemType: opt('TypeProto', 1) } },
            SparseTensor: { fields: { elemType: opt('int32', 1), shape: opt('TensorShapeProto', 2) } },
            Opaque: { fields: { domain: opt('string', 1), name: opt('string', 2) } },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: opt('string', 1), version: opt('int64', 2) },
        },
        FunctionProto: {
          fields: {
            name: opt('string', 1),
            input: rep('string', 4),
            output: rep('string', 5),
            attribute: rep('string', 6),
            attributeProto: rep('AttributeProto', 11),
            node: rep('NodeProto', 7),
            docString: opt('string', 8),
            opsetImport: rep('OperatorSetIdProto', 9),
            domain: opt('string', 10),
            overload: opt('string', 13),
            valueInfo: rep('ValueInfoProto', 12),
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;
function ModelType(): protobuf.Type {
  if (!modelType) {
    const root = protobuf.Root.fromJSON(SCHEMA as unknown as protobuf.INamespace);
    root.resolveAll();
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

const CONVERSION: protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  defaults: false,
  arrays: true,
  objects: true,
};

/** Replace every Buffer / foreign Uint8Array view in a decoded object tree by a plain, owned Uint8Array. */
function ownBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    const copy = new Uint8Array(value.length);
    copy.set(value);
    return copy;
  }
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) value[k] = ownBytes(value[k]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) obj[key] = ownBytes(obj[key]);
    return obj;
  }
  return value;
}

function describeBytes(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes${bytes.length > 0 ? ` starting ${head}` : ''}`;
}

/**
 * Decode a serialized ONNX ModelProto. Throws `RefineryError('invalid_file')` naming `source` when
 * the bytes are not a protobuf ModelProto or the model has no graph.
 */
export function decodeModel(bytes: Uint8Array, source = 'model'): ModelProto {
  const expected = 'an ONNX model (protobuf ModelProto)';
  const type = ModelType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new RefineryError('invalid_file', [{ path: source, expected, received: `${describeBytes(bytes)} that fail to decode (${why})` }]);
  }
  const model = ownBytes(type.toObject(message, CONVERSION)) as ModelProto;
  if (!model.graph) {
    fail('invalid_file', source, expected, `${describeBytes(bytes)} that decode to a message without a graph`);
  }
  return model;
}

/** Serialize a ModelProto. Throws `RefineryError('invalid_model')` if the object does not fit the schema. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = ModelType();
  const problem = type.verify(model);
  if (problem) fail('invalid_model', 'model', 'an object matching the ONNX ModelProto schema', problem);
  // fromObject converts numbers to Longs (clamping to the int64 range, so INT64_MAX, which is 2^63
  // as a double, is written back as INT64_MAX).
  const message = type.fromObject(model);
  const out = type.encode(message).finish();
  // Writer.finish may return a Buffer (a view of a pooled slab for small outputs); hand out an owned Uint8Array.
  return out.constructor === Uint8Array && out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------
// Tensors

export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface TensorArray {
  /** The tensor's own data type (FLOAT16 and BFLOAT16 tensors keep theirs; their data is a Float32Array). */
  dataType: number;
  dims: number[];
  /**
   * Element values in C order. FLOAT→Float32Array, DOUBLE→Float64Array, INT32→Int32Array,
   * INT64→BigInt64Array, UINT8/BOOL→Uint8Array, INT8→Int8Array, INT16→Int16Array, UINT16→Uint16Array,
   * UINT32→Uint32Array, UINT64→BigUint64Array, FLOAT16/BFLOAT16→Float32Array (converted).
   */
  data: TensorData;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte size of one element stored in raw_data, for the supported types. */
const RAW_ITEM_SIZE: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

/** Copy little-endian bytes into a fresh, aligned buffer in host byte order. */
function leToHost(bytes: Uint8Array, itemSize: number): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.length);
  const out = new Uint8Array(buf);
  out.set(bytes);
  if (!LITTLE_ENDIAN_HOST && itemSize > 1) {
    for (let o = 0; o < out.length; o += itemSize) out.subarray(o, o + itemSize).reverse();
  }
  return buf;
}

/** Bytes of a typed array in little-endian order (a copy). */
function hostToLe(data: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const itemSize = data.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN_HOST && itemSize > 1) {
    for (let o = 0; o < out.length; o += itemSize) out.subarray(o, o + itemSize).reverse();
  }
  return out;
}

/** IEEE 754 half-precision bits → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function halfBitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let k = 0; k < bits.length; k++) out[k] = halfToFloat(bits[k]! & 0xffff);
  return out;
}

function bfloat16BitsToFloat32(bits: ArrayLike<number>): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let k = 0; k < bits.length; k++) u[k] = (bits[k]! & 0xffff) << 16;
  return new Float32Array(u.buffer);
}

function shapeSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

function numberToInt64(v: number): bigint {
  if (!Number.isFinite(v)) return v > 0 ? INT64_MAX : INT64_MIN;
  const b = BigInt(Math.trunc(v));
  return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
}

function numberToUint64(v: number): bigint {
  if (!Number.isFinite(v)) return v > 0 ? UINT64_MAX : 0n;
  const b = BigInt(Math.trunc(v));
  return b > UINT64_MAX ? UINT64_MAX : b < 0n ? 0n : b;
}

/**
 * The values of a TensorProto as a typed array, from raw_data (little-endian) or the typed repeated
 * fields. Throws `RefineryError('invalid_model')` naming the tensor for unsupported data types,
 * external or segmented data and element counts that do not match the dims.
 */
export function tensorToArray(t: TensorProto): TensorArray {
  const name = t.name ? `tensor ${JSON.stringify(t.name)}` : 'unnamed tensor';
  const dataType = t.dataType ?? DataType.UNDEFINED;
  const dims = (t.dims ?? []).map(Number);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail('invalid_model', name, 'non-negative integer dims', `dims [${dims.join(', ')}]`);
  }
  if (t.dataLocation === DataLocation.EXTERNAL || (t.externalData && t.externalData.length > 0)) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    fail('invalid_model', name, 'tensor data stored inside the model', `external data${loc ? ` in ${JSON.stringify(loc)}` : ''}`);
  }
  if (t.segment) fail('invalid_model', name, 'an unsegmented tensor', 'a tensor segment');
  const itemSize = RAW_ITEM_SIZE[dataType];
  if (itemSize === undefined) {
    fail('invalid_model', name, 'a tensor of type FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT8/16/32/64, UINT8/16/32/64 or BOOL', dataTypeName(dataType));
  }
  const n = shapeSize(dims);
  const typeName = dataTypeName(dataType);

  if (t.rawData !== undefined) {
    if (t.rawData.length !== n * itemSize) {
      fail('invalid_model', name, `${n * itemSize} bytes of raw_data for ${typeName} dims [${dims.join(', ')}]`, `${t.rawData.length} bytes`);
    }
    const buf = leToHost(t.rawData, itemSize);
    let data: TensorData;
    switch (dataType) {
      case DataType.FLOAT:
        data = new Float32Array(buf);
        break;
      case DataType.DOUBLE:
        data = new Float64Array(buf);
        break;
      case DataType.INT32:
        data = new Int32Array(buf);
        break;
      case DataType.INT64:
        data = new BigInt64Array(buf);
        break;
      case DataType.UINT8:
        data = new Uint8Array(buf);
        break;
      case DataType.BOOL: {
        const u = new Uint8Array(buf);
        for (let k = 0; k < u.length; k++) u[k] = u[k] ? 1 : 0;
        data = u;
        break;
      }
      case DataType.INT8:
        data = new Int8Array(buf);
        break;
      case DataType.INT16:
        data = new Int16Array(buf);
        break;
      case DataType.UINT16:
        data = new Uint16Array(buf);
        break;
      case DataType.UINT32:
        data = new Uint32Array(buf);
        break;
      case DataType.UINT64:
        data = new BigUint64Array(buf);
        break;
      case DataType.FLOAT16:
        data = halfBitsToFloat32(new Uint16Array(buf));
        break;
      case DataType.BFLOAT16:
        data = bfloat16BitsToFloat32(new Uint16Array(buf));
        break;
      default:
        fail('internal', name, 'a supported data type', typeName);
    }
    return { dataType, dims, data };
  }

  let field: string;
  let values: number[];
  switch (dataType) {
    case DataType.FLOAT:
      field = 'float_data';
      values = t.floatData ?? [];
      break;
    case DataType.DOUBLE:
      field = 'double_data';
      values = t.doubleData ?? [];
      break;
    case DataType.INT64:
      field = 'int64_data';
      values = t.int64Data ?? [];
      break;
    case DataType.UINT32:
    case DataType.UINT64:
      field = 'uint64_data';
      values = t.uint64Data ?? [];
      break;
    default:
      field = 'int32_data';
      values = t.int32Data ?? [];
      break;
  }
  if (values.length !== n) {
    fail('invalid_model', name, `${n} values in ${field} for ${typeName} dims [${dims.join(', ')}]`, `${values.length} values`);
  }
  let data: TensorData;
  switch (dataType) {
    case DataType.FLOAT:
      data = Float32Array.from(values);
      break;
    case DataType.DOUBLE:
      data = Float64Array.from(values);
      break;
    case DataType.INT32:
      data = Int32Array.from(values);
      break;
    case DataType.INT64:
      data = BigInt64Array.from(values, numberToInt64);
      break;
    case DataType.UINT8:
      data = Uint8Array.from(values);
      break;
    case DataType.BOOL:
      data = Uint8Array.from(values, (v) => (v ? 1 : 0));
      break;
    case DataType.INT8:
      data = Int8Array.from(values);
      break;
    case DataType.INT16:
      data = Int16Array.from(values);
      break;
    case DataType.UINT16:
      data = Uint16Array.from(values);
      break;
    case DataType.UINT32:
      data = Uint32Array.from(values);
      break;
    case DataType.UINT64:
      data = BigUint64Array.from(values, numberToUint64);
      break;
    case DataType.FLOAT16:
      data = halfBitsToFloat32(values);
      break;
    case DataType.BFLOAT16:
      data = bfloat16BitsToFloat32(values);
      break;
    default:
      fail('internal', name, 'a supported data type', typeName);
  }
  return { dataType, dims, data };
}

/** Empty TensorProto with all repeated fields present. */
function blankTensor(name: string, dataType: number, dims: readonly number[]): TensorProto {
  return {
    dims: [...dims],
    dataType,
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    name,
    externalData: [],
    doubleData: [],
    uint64Data: [],
    metadataProps: [],
  };
}

function checkDims(name: string, dims: readonly number[], length: number): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail('invalid_argument', name, 'non-negative integer dims', `dims [${dims.join(', ')}]`);
  }
  const n = shapeSize(dims);
  if (n !== length) fail('invalid_argument', name, `${n} values for dims [${dims.join(', ')}]`, `${length} values`);
}

const TYPED_DATA_TYPE: Array<[new (n: number) => TensorData, number]> = [
  [Float32Array, DataType.FLOAT],
  [Float64Array, DataType.DOUBLE],
  [Int32Array, DataType.INT32],
  [BigInt64Array, DataType.INT64],
  [Uint8Array, DataType.UINT8],
  [Int8Array, DataType.INT8],
  [Int16Array, DataType.INT16],
  [Uint16Array, DataType.UINT16],
  [Uint32Array, DataType.UINT32],
  [BigUint64Array, DataType.UINT64],
];

/**
 * A TensorProto holding `data` in raw_data (little-endian). The data type follows the typed array
 * (Float32Array→FLOAT, ..., Uint8Array→UINT8) unless `dataType` is given; it may then only be BOOL
 * for a Uint8Array (or the type the array implies).
 */
export function makeTensor(name: string, data: TensorData, dims: readonly number[], dataType?: number): TensorProto {
  const implied = TYPED_DATA_TYPE.find(([ctor]) => data.constructor === ctor)?.[1];
  if (implied === undefined) fail('invalid_argument', name, 'a typed array', describeValue(data));
  const dt = dataType ?? implied;
  if (dt !== implied && !(dt === DataType.BOOL && implied === DataType.UINT8)) {
    fail('invalid_argument', name, `data for ${dataTypeName(dt)}`, data.constructor.name);
  }
  checkDims(name, dims, data.length);
  const t = blankTensor(name, dt, dims);
  if (dt === DataType.BOOL) {
    t.rawData = Uint8Array.from(data as Uint8Array, (v) => (v ? 1 : 0));
  } else {
    t.rawData = hostToLe(data);
  }
  return t;
}

function describeValue(v: unknown): string {
  if (v !== null && typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

/** FLOAT tensor, raw_data encoded. */
export function floatTensor(name: string, data: Float32Array, dims: readonly number[]): TensorProto {
  return makeTensor(name, data, dims, DataType.FLOAT);
}

/** INT64 tensor, raw_data encoded. Numbers must be integers. */
export function int64Tensor(name: string, values: readonly number[] | BigInt64Array, dims: readonly number[]): TensorProto {
  let data: BigInt64Array;
  if (values instanceof BigInt64Array) {
    data = values;
  } else {
    for (const v of values) {
      if (!Number.isInteger(v)) fail('invalid_argument', name, 'integer values for an INT64 tensor', String(v));
    }
    data = BigInt64Array.from(values, numberToInt64);
  }
  return makeTensor(name, data, dims, DataType.INT64);
}

/** BOOL tensor, raw_data encoded (one byte per element, 0 or 1). */
export function boolTensor(name: string, values: readonly boolean[] | Uint8Array, dims: readonly number[]): TensorProto {
  const data = values instanceof Uint8Array ? values : Uint8Array.from(values, (v) => (v ? 1 : 0));
  return makeTensor(name, data, dims, DataType.BOOL);
}

// ---------------------------------------------------------------------------------------------
// Attributes

function nodeLabel(node: NodeProto): string {
  return `node ${JSON.stringify(node.name || node.output?.[0] || '?')} (${node.opType ?? '?'})`;
}

const ATTRIBUTE_TYPE_NAMES = Object.fromEntries(Object.entries(AttributeType).map(([k, v]) => [v, k])) as Record<number, string>;

/** The attribute called `name` on `node`, if any. */
export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/**
 * The attribute called `name`, checked to be of `type`. Models older than IR v2 may leave `type`
 * unset; then `present` decides whether the expected value field is there.
 */
function typedAttr(node: NodeProto, name: string, type: number, present: (a: AttributeProto) => boolean): AttributeProto | undefined {
  const a = attr(node, name);
  if (!a) return undefined;
  const actual = a.type ?? AttributeType.UNDEFINED;
  if (actual === type || (actual === AttributeType.UNDEFINED && present(a))) return a;
  fail(
    'invalid_model',
    `${nodeLabel(node)} attribute ${JSON.stringify(name)}`,
    `an attribute of type ${ATTRIBUTE_TYPE_NAMES[type]}`,
    ATTRIBUTE_TYPE_NAMES[actual] ?? `type ${actual}`,
  );
}

function missing(node: NodeProto, name: string, kind: string): never {
  fail('invalid_model', nodeLabel(node), `attribute ${JSON.stringify(name)} (${kind})`, 'no such attribute');
}

export function getInt(node: NodeProto, name: string): number | undefined;
export function getInt(node: NodeProto, name: string, def: number): number;
export function getInt(node: NodeProto, name: string, def?: number): number | undefined {
  const a = typedAttr(node, name, AttributeType.INT, (x) => x.i !== undefined);
  return a ? (a.i ?? 0) : def;
}

export function getInts(node: NodeProto, name: string): number[] | undefined;
export function getInts(node: NodeProto, name: string, def: number[]): number[];
export function getInts(node: NodeProto, name: string, def?: number[]): number[] | undefined {
  const a = typedAttr(node, name, AttributeType.INTS, (x) => (x.ints?.length ?? 0) > 0);
  return a ? [...(a.ints ?? [])] : def;
}

export function getFloat(node: NodeProto, name: string): number | undefined;
export function getFloat(node: NodeProto, name: string, def: number): number;
export function getFloat(node: NodeProto, name: string, def?: number): number | undefined {
  const a = typedAttr(node, name, AttributeType.FLOAT, (x) => x.f !== undefined);
  return a ? (a.f ?? 0) : def;
}

export function getFloats(node: NodeProto, name: string): number[] | undefined;
export function getFloats(node: NodeProto, name: string, def: number[]): number[];
export function getFloats(node: NodeProto, name: string, def?: number[]): number[] | undefined {
  const a = typedAttr(node, name, AttributeType.FLOATS, (x) => (x.floats?.length ?? 0) > 0);
  return a ? [...(a.floats ?? [])] : def;
}

/** A STRING attribute, decoded as UTF-8. */
export function getString(node: NodeProto, name: string): string | undefined;
export function getString(node: NodeProto, name: string, def: string): string;
export function getString(node: NodeProto, name: string, def?: string): string | undefined {
  const a = typedAttr(node, name, AttributeType.STRING, (x) => x.s !== undefined);
  return a ? new TextDecoder().decode(a.s ?? new Uint8Array(0)) : def;
}

/** A STRINGS attribute, each decoded as UTF-8. */
export function getStrings(node: NodeProto, name: string): string[] | undefined;
export function getStrings(node: NodeProto, name: string, def: string[]): string[];
export function getStrings(node: NodeProto, name: string, def?: string[]): string[] | undefined {
  const a = typedAttr(node, name, AttributeType.STRINGS, (x) => (x.strings?.length ?? 0) > 0);
  const dec = new TextDecoder();
  return a ? (a.strings ?? []).map((s) => dec.decode(s)) : def;
}

export function getTensor(node: NodeProto, name: string): TensorProto | undefined {
  const a = typedAttr(node, name, AttributeType.TENSOR, (x) => x.t !== undefined);
  return a?.t;
}

/** Like `getInt` etc. without a default, but throwing `invalid_model` when the attribute is absent. */
export function requireInt(node: NodeProto, name: string): number {
  return getInt(node, name) ?? missing(node, name, 'INT');
}
export function requireInts(node: NodeProto, name: string): number[] {
  return getInts(node, name) ?? missing(node, name, 'INTS');
}
export function requireFloat(node: NodeProto, name: string): number {
  return getFloat(node, name) ?? missing(node, name, 'FLOAT');
}
export function requireTensor(node: NodeProto, name: string): TensorProto {
  return getTensor(node, name) ?? missing(node, name, 'TENSOR');
}

function blankAttribute(name: string, type: number): AttributeProto {
  return {
    name,
    type,
    floats: [],
    ints: [],
    strings: [],
    tensors: [],
    graphs: [],
    sparseTensors: [],
    typeProtos: [],
  };
}

export function intAttr(name: string, v: number): AttributeProto {
  if (!Number.isInteger(v)) fail('invalid_argument', `attribute ${name}`, 'an integer', String(v));
  return { ...blankAttribute(name, AttributeType.INT), i: v };
}

export function intsAttr(name: string, v: readonly number[]): AttributeProto {
  for (const x of v) if (!Number.isInteger(x)) fail('invalid_argument', `attribute ${name}`, 'integers', String(x));
  return { ...blankAttribute(name, AttributeType.INTS), ints: [...v] };
}

export function floatAttr(name: string, v: number): AttributeProto {
  return { ...blankAttribute(name, AttributeType.FLOAT), f: v };
}

export function floatsAttr(name: string, v: readonly number[]): AttributeProto {
  return { ...blankAttribute(name, AttributeType.FLOATS), floats: [...v] };
}

export function stringAttr(name: string, v: string | Uint8Array): AttributeProto {
  return { ...blankAttribute(name, AttributeType.STRING), s: typeof v === 'string' ? new TextEncoder().encode(v) : v };
}

export function stringsAttr(name: string, v: readonly string[]): AttributeProto {
  const enc = new TextEncoder();
  return { ...blankAttribute(name, AttributeType.STRINGS), strings: v.map((s) => enc.encode(s)) };
}

export function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return { ...blankAttribute(name, AttributeType.TENSOR), t };
}

// ---------------------------------------------------------------------------------------------
// Small builders for graphs

/** A NodeProto. */
export function makeNode(
  opType: string,
  input: readonly string[],
  output: readonly string[],
  attributes: readonly AttributeProto[] = [],
  name?: string,
  domain?: string,
): NodeProto {
  const node: NodeProto = { input: [...input], output: [...output], opType, attribute: [...attributes], metadataProps: [] };
  if (name !== undefined) node.name = name;
  if (domain !== undefined) node.domain = domain;
  return node;
}

/** A ValueInfoProto for a tensor; string dims become dim_param, numbers dim_value. */
export function makeTensorValueInfo(name: string, elemType: number, shape?: ReadonlyArray<number | string>): ValueInfoProto {
  const tensorType: TypeProtoTensor = { elemType };
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
  return { name, type: { tensorType }, metadataProps: [] };
}

/** Shape of a tensor ValueInfoProto: numbers for fixed dims, strings for symbolic ones, null for unknown. */
export function valueInfoShape(v: ValueInfoProto): Array<number | string | null> | undefined {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return undefined;
  return shape.dim.map((d) => (d.dimValue !== undefined ? d.dimValue : d.dimParam !== undefined ? d.dimParam : null));
}
