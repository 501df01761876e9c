/** Conversion between ONNX ModelProto (files) and Refinery's Graph. */
import { upgradeNode } from './opset.js';
import { RefineryError, fail } from '../errors.js';
import { type Attr, type ConstTensor, type Dim, type DType, Graph, type Node, type OnnxModel } from './graph.js';
import { DTYPE_CODES } from './ops/elementwise.js';
import {
  AttributeType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
  DataType,
  dataTypeName,
  decodeModel,
  encodeModel,
  makeTensor,
  tensorToArray,
} from './proto.js';

/** Lowest and highest default-domain opsets Refinery reads (opsets 11 and 12 are raised to 13 on reading). */
export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

const CODE_DTYPES = new Map<number, DType>(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as DType]));

function dtypeOf(code: number, path: string): DType {
  const d = CODE_DTYPES.get(code);
  if (d === undefined) fail('invalid_model', path, 'a tensor of type float, double, int8/32/64, uint8 or bool', dataTypeName(code));
  return d;
}

function constFromProto(t: TensorProto, path: string): ConstTensor {
  const arr = tensorToArray(t);
  if (arr.dataType === DataType.FLOAT16 || arr.dataType === DataType.BFLOAT16) {
    fail('invalid_model', path, 'float32 weights (convert the model to float32)', dataTypeName(arr.dataType));
  }
  const dtype = dtypeOf(arr.dataType, path);
  return { dtype, dims: arr.dims, data: arr.data as ConstTensor['data'] };
}

function attrFromProto(a: AttributeProto, node: string): Attr | undefined {
  const path = `${node} attribute ${a.name}`;
  switch (a.type) {
    case AttributeType.INT:
      return { type: 'int', v: Number(a.i ?? 0) };
    case AttributeType.FLOAT:
      return { type: 'float', v: a.f ?? 0 };
    case AttributeType.INTS:
      return { type: 'ints', v: (a.ints ?? []).map(Number) };
    case AttributeType.FLOATS:
      return { type: 'floats', v: [...(a.floats ?? [])] };
    case AttributeType.STRING:
      return { type: 'string', v: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case AttributeType.TENSOR:
      if (!a.t) fail('invalid_model', path, 'a tensor value', 'none');
      return { type: 'tensor', v: constFromProto(a.t, path) };
    default:
      fail('invalid_model', path, 'an int, float, string or tensor attribute (no subgraphs)', `attribute type ${a.type}`);
  }
}

function shapeFromProto(v: ValueInfoProto): Dim[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d, i) => (d.dimValue !== undefined && d.dimValue > 0 ? Number(d.dimValue) : d.dimParam || `${v.name}_dim${i}`));
}

/** Read an ONNX file into a Graph, checking opset and data types; `source` names the file in errors. */
export function graphFromModel(model: ModelProto, source = 'model'): Graph {
  const gp = model.graph;
  if (!gp) fail('invalid_file', source, 'an ONNX model with a graph', 'no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    fail(
      'invalid_model',
      `${source} opset`,
      `default-domain opset ${MIN_OPSET}..${MAX_OPSET} (re-export with torch.onnx.export(..., opset_version=17))`,
      String(opset),
    );
  }
  const g = new Graph();
  g.name = gp.name || 'graph';
  // Models before opset 13 are rewritten to opset 13 as they are read (see upgradeNode).
  g.opset = Math.max(opset, 13);
  const initNames = new Set<string>();
  for (const t of gp.initializer) {
    const name = t.name ?? '';
    initNames.add(name);
    g.addInitializer(name, constFromProto(t, `${source} initializer ${name}`));
  }
  for (const v of gp.input) {
    const name = v.name ?? '';
    if (initNames.has(name)) continue;
    const code = v.type?.tensorType?.elemType ?? 0;
    g.addInput(name, dtypeOf(code, `${source} input ${name}`), shapeFromProto(v));
  }
  gp.node.forEach((n, k) => {
    const node = nodeFromProto(n, k, source);
    upgradeNode(g, node, opset, g.opset);
    g.addNode(node);
  });
  g.outputs = gp.output.map((o) => o.name ?? '');
  for (const o of g.outputs) {
    if (!g.values.has(o)) fail('invalid_model', `${source} output ${o}`, 'an output produced by the graph', 'a name no node produces');
  }
  return g;
}

function nodeFromProto(n: NodeProto, k: number, source: string): Node {
  const op = n.opType ?? '';
  const name = n.name || `${op}_${k}`;
  const label = `${source} node ${name} (${op})`;
  const attrs: Record<string, Attr> = {};
  for (const a of n.attribute) {
    const v = attrFromProto(a, label);
    if (v && a.name) attrs[a.name] = v;
  }
  return { name, op, domain: n.domain ?? '', inputs: [...n.input], outputs: [...n.output], attrs };
}

/**
 * An ONNX model that onnxruntime can run but Refinery cannot rebuild as a Graph (an operator its
 * toolkit cannot infer shapes for, or differentiate): usable where a model only runs forward
 * (feature extractors, classifiers), refused where it must be composed or differentiated.
 */
export class ForwardOnlyModel implements OnnxModel {
  readonly name: string;
  readonly opset: number;
  readonly inputs: { name: string; shape: Dim[] }[];
  readonly outputs: string[];
  constructor(
    /** The model file's bytes, run as they are. */
    readonly bytes: Uint8Array,
    model: ModelProto,
    /** Why Refinery cannot compose or differentiate it. */
    readonly reason: RefineryError,
  ) {
    const gp = model.graph!;
    const inits = new Set(gp.initializer.map((t) => t.name ?? ''));
    this.name = gp.name || 'graph';
    this.opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
    this.inputs = gp.input.filter((v) => !inits.has(v.name ?? '')).map((v) => ({ name: v.name ?? '', shape: shapeFromProto(v) }));
    this.outputs = gp.output.map((o) => o.name ?? '');
  }
}

/**
 * Parse the bytes of an ONNX model (errors name `source`): a Graph Refinery can compose and
 * differentiate, or, when an operator is beyond its toolkit, a model that runs forward only.
 */
export function modelFromBytes(bytes: Uint8Array, source = 'model'): OnnxModel {
  const proto = decodeModel(bytes, source);
  try {
    return graphFromModel(proto, source);
  } catch (e) {
    if (e instanceof RefineryError && e.code === 'unsupported_operator') return new ForwardOnlyModel(bytes, proto, e);
    throw e;
  }
}

function attrToProto(name: string, a: Attr): AttributeProto {
  const base: AttributeProto = { name, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] };
  switch (a.type) {
    case 'int':
      return { ...base, type: AttributeType.INT, i: a.v };
    case 'float':
      return { ...base, type: AttributeType.FLOAT, f: a.v };
    case 'ints':
      return { ...base, type: AttributeType.INTS, ints: a.v };
    case 'floats':
      return { ...base, type: AttributeType.FLOATS, floats: a.v };
    case 'string':
      return { ...base, type: AttributeType.STRING, s: new TextEncoder().encode(a.v) };
    case 'tensor':
      return { ...base, type: AttributeType.TENSOR, t: constToProto('', a.v) };
  }
}

function constToProto(name: string, t: ConstTensor): TensorProto {
  return makeTensor(name, t.data, t.dims, DTYPE_CODES[t.dtype]);
}

function valueInfo(name: string, dtype: DType, shape: Dim[]): ValueInfoProto {
  return {
    name,
    metadataProps: [],
    type: {
      tensorType: {
        elemType: DTYPE_CODES[dtype],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Options of `modelFromGraph` and `encodeGraph`. */
export interface EncodeOptions {
  /**
   * Record the type and shape of every value that nodes compute (value_info). onnxruntime's own
   * shape inference loses dimensions after a Reshape to a computed shape (the phase convolutions'
   * interleaving); with Refinery's shapes it can prove two blocked-layout (NCHWc) values equal in
   * shape, which its NCHWc rewrite asks before it runs an Add or a Mul on them without reordering
   * both to NCHW (and before it fuses a residual Add into the Conv that feeds it).
   */
  shapes?: boolean;
}

/** value_info for every value a node of `g` computes that is not a graph output. */
function innerValueInfo(g: Graph): ValueInfoProto[] {
  const outputs = new Set(g.outputs);
  const infos: ValueInfoProto[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (o === '' || outputs.has(o)) continue;
      const v = g.info(o);
      infos.push(valueInfo(o, v.dtype, v.shape));
    }
  }
  return infos;
}

/** Serialise a Graph to an ONNX ModelProto (initializers included, only used ones). */
export function modelFromGraph(g: Graph, o: EncodeOptions = {}): ModelProto {
  const used = new Set<string>();
  for (const n of g.nodes) for (const i of n.inputs) used.add(i);
  for (const o of g.outputs) used.add(o);
  const initializer: TensorProto[] = [];
  for (const [name, t] of g.initializers) if (used.has(name)) initializer.push(constToProto(name, t));
  return {
    irVersion: g.opset <= 18 ? 8 : 10,
    opsetImport: [{ domain: '', version: g.opset }],
    producerName: 'refinery',
    producerVersion: '0.1.0',
    metadataProps: [],
    trainingInfo: [],
    functions: [],
    graph: {
      name: g.name,
      node: g.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
        metadataProps: [],
      })),
      initializer,
      sparseInitializer: [],
      input: g.inputs.map((v) => valueInfo(v.name, v.dtype, v.shape)),
      output: g.outputs.map((o) => {
        const v = g.info(o);
        return valueInfo(o, v.dtype, v.shape);
      }),
      valueInfo: o.shapes ? innerValueInfo(g) : [],
      quantizationAnnotation: [],
      metadataProps: [],
    },
  };
}

export function encodeGraph(g: Graph, o: EncodeOptions = {}): Uint8Array {
  return encodeModel(modelFromGraph(g, o));
}
