/**
 * Refinery's in-memory ONNX graph: values with static shapes (the batch axis symbolic), nodes in
 * topological order, constant tensors. Every node added through `add` gets its output shapes
 * inferred at once, so code that emits graphs (composition, differentiation) always knows shapes.
 */
import { foldConstant } from './fold.js';
import { RefineryError, fail } from '../errors.js';
import { inferNode } from './ops/registry.js';

/** A dimension: a fixed size or a symbolic name (e.g. "batch"). */
export type Dim = number | string;
export type DType = 'float32' | 'float64' | 'float16' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool';
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export interface ConstTensor {
  dtype: DType;
  dims: number[];
  data: TypedData;
}

export type Attr =
  | { type: 'int'; v: number }
  | { type: 'float'; v: number }
  | { type: 'ints'; v: number[] }
  | { type: 'floats'; v: number[] }
  | { type: 'string'; v: string }
  | { type: 'tensor'; v: ConstTensor };

export const int = (v: number): Attr => ({ type: 'int', v });
export const float = (v: number): Attr => ({ type: 'float', v });
export const ints = (v: number[]): Attr => ({ type: 'ints', v });
export const floats = (v: number[]): Attr => ({ type: 'floats', v });
export const str = (v: string): Attr => ({ type: 'string', v });
export const tensorAttr = (v: ConstTensor): Attr => ({ type: 'tensor', v });

export interface Node {
  name: string;
  op: string;
  domain: string;
  /** Input names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export function attrInt(node: Node, name: string, dflt: number): number {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.type !== 'int') badAttr(node, name, 'an int', a.type);
  return a.v;
}
export function attrFloat(node: Node, name: string, dflt: number): number {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.type !== 'float' && a.type !== 'int') badAttr(node, name, 'a float', a.type);
  return a.v;
}
export function attrInts(node: Node, name: string): number[] | undefined;
export function attrInts(node: Node, name: string, dflt: number[]): number[];
export function attrInts(node: Node, name: string, dflt?: number[]): number[] | undefined {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.type !== 'ints') badAttr(node, name, 'a list of ints', a.type);
  return a.v;
}
export function attrFloats(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  if (a === undefined) return undefined;
  if (a.type !== 'floats') badAttr(node, name, 'a list of floats', a.type);
  return a.v;
}
export function attrString(node: Node, name: string, dflt: string): string {
  const a = node.attrs[name];
  if (a === undefined) return dflt;
  if (a.type !== 'string') badAttr(node, name, 'a string', a.type);
  return a.v;
}
function badAttr(node: Node, name: string, expected: string, received: string): never {
  fail('invalid_model', `node ${node.name} (${node.op}) attribute ${name}`, expected, received);
}

export function dtypeArray(dtype: DType, n: number): TypedData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    default:
      return fail('internal', 'dtype', 'a supported dtype', dtype);
  }
}

/** Values of a constant tensor as JS numbers. */
export function constNumbers(t: ConstTensor): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.data.length; i++) out.push(Number(t.data[i]));
  return out;
}

/**
 * An ONNX model as Refinery holds it. Opaque: get one from `loadModel` or `parseModel` and pass it
 * back to Refinery (as a method option, or in a pair); the fields here are for display.
 */
export interface OnnxModel {
  /** The graph's name. */
  readonly name: string;
  /** The default-domain opset. */
  readonly opset: number;
  /** Inputs with their shapes (symbolic dimensions by name). */
  readonly inputs: readonly { readonly name: string; readonly shape: readonly (number | string)[] }[];
  /** Output names. */
  readonly outputs: readonly string[];
}

export class Graph implements OnnxModel {
  name = 'refinery';
  opset = 13;
  inputs: ValueInfo[] = [];
  outputs: string[] = [];
  nodes: Node[] = [];
  initializers = new Map<string, ConstTensor>();
  /** Static type and shape of every value known to the graph. */
  values = new Map<string, ValueInfo>();
  private counter = 0;
  private shapeCache = new Map<string, string>();
  private scalarCache = new Map<string, string>();

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    for (;;) {
      const name = `${prefix}_${this.counter++}`;
      if (!this.values.has(name) && !this.initializers.has(name)) return name;
    }
  }

  info(name: string): ValueInfo {
    const v = this.values.get(name);
    if (v === undefined) fail('internal', `value ${name}`, 'a value known to the graph', 'unknown name');
    return v;
  }

  shape(name: string): Dim[] {
    return this.info(name).shape;
  }

  dtype(name: string): DType {
    return this.info(name).dtype;
  }

  rank(name: string): number {
    return this.shape(name).length;
  }

  addInput(name: string, dtype: DType, shape: Dim[]): string {
    if (this.values.has(name)) fail('internal', `input ${name}`, 'a new name', 'a name already in the graph');
    const v = { name, dtype, shape };
    this.inputs.push(v);
    this.values.set(name, v);
    return name;
  }

  addInitializer(name: string, t: ConstTensor): string {
    this.initializers.set(name, t);
    this.values.set(name, { name, dtype: t.dtype, shape: [...t.dims] });
    return name;
  }

  /** A new constant (initializer) with a fresh name. */
  constant(t: ConstTensor, prefix = 'const'): string {
    return this.addInitializer(this.fresh(prefix), t);
  }

  /** A float32 scalar constant, shared between uses. */
  scalar(v: number, dtype: DType = 'float32'): string {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : v}`;
    const hit = this.scalarCache.get(key);
    if (hit !== undefined) return hit;
    const data = dtypeArray(dtype, 1);
    if (data instanceof BigInt64Array) data[0] = BigInt(v);
    else data[0] = v;
    const name = this.constant({ dtype, dims: [], data }, 'scalar');
    this.scalarCache.set(key, name);
    return name;
  }

  /** A 1-D int64 constant. */
  int64s(values: number[]): string {
    return this.constant({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) }, 'ints');
  }

  float32(data: Float32Array, dims: number[]): string {
    return this.constant({ dtype: 'float32', dims, data }, 'const');
  }

  /** Add a node; its outputs get fresh names unless given, and their shapes are inferred. */
  add(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : outputs;
    const node: Node = { name: this.fresh(`n_${op}`), op, domain: '', inputs, outputs: outs, attrs };
    this.addNode(node);
    return outs;
  }

  /** Single-output `add`. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.add(op, inputs, attrs)[0];
  }

  /** Append an existing node and infer its output shapes. */
  addNode(node: Node): void {
    for (const i of node.inputs) {
      if (i !== '' && !this.values.has(i)) {
        fail('invalid_model', `node ${node.name} (${node.op})`, `input ${i} to be produced earlier in the graph`, 'an unknown or later value');
      }
    }
    const infos = inferNode(this, node);
    node.outputs.forEach((o, k) => {
      if (o === '') return;
      const inf = infos[k];
      if (inf === undefined) fail('internal', `node ${node.name}`, `shape of output ${k}`, 'none');
      this.values.set(o, { name: o, dtype: inf.dtype, shape: inf.shape });
    });
    this.nodes.push(node);
  }

  /** The constant behind a value, when it is an initializer or a Constant node's output. */
  constValue(name: string): ConstTensor | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const producer = this.producer(name);
    if (producer && producer.op === 'Constant') {
      const a = producer.attrs.value;
      if (a && a.type === 'tensor') return a.v;
      const vf = producer.attrs.value_float;
      if (vf && vf.type === 'float') return { dtype: 'float32', dims: [], data: Float32Array.of(vf.v) };
      const vfs = producer.attrs.value_floats;
      if (vfs && vfs.type === 'floats') return { dtype: 'float32', dims: [vfs.v.length], data: Float32Array.from(vfs.v) };
      const vi = producer.attrs.value_int;
      if (vi && vi.type === 'int') return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(vi.v)) };
      const vis = producer.attrs.value_ints;
      if (vis && vis.type === 'ints') return { dtype: 'int64', dims: [vis.v.length], data: BigInt64Array.from(vis.v.map(BigInt)) };
    }
    return undefined;
  }

  /** Constant integer values of an input (Reshape's shape, ReduceSum's axes, ...), or an error naming the node. */
  constInts(name: string, node: Node, what: string): number[] {
    const c = this.constValue(name) ?? foldConstant(this, name);
    if (c === undefined) {
      throw new RefineryError('unsupported_operator', [
        { path: `node ${node.name} (${node.op}) input ${what}`, expected: 'a constant (initializer or Constant node)', received: `the computed value ${name}` },
      ]);
    }
    return constNumbers(c);
  }

  private producers: Map<string, Node> | undefined;
  private producersLen = -1;
  producer(name: string): Node | undefined {
    if (this.producers === undefined || this.producersLen !== this.nodes.length) {
      this.producers = new Map();
      for (const n of this.nodes) for (const o of n.outputs) this.producers.set(o, n);
      this.producersLen = this.nodes.length;
    }
    return this.producers.get(name);
  }

  /** Runtime shape of a value (one Shape node per value). */
  shapeOf(name: string): string {
    const hit = this.shapeCache.get(name);
    if (hit !== undefined) return hit;
    const s = this.op('Shape', [name]);
    this.shapeCache.set(name, s);
    return s;
  }
}

/** The nodes among `nodes` that read each value, once per input slot that reads it. */
export function readersOf(nodes: readonly Node[]): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i === '') continue;
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  return readers;
}

/** A test of whether a value of g is read by one node alone and is not a graph output. */
export function readOnce(g: Graph): (v: string) => boolean {
  const readers = readersOf(g.nodes);
  const outputs = new Set(g.outputs);
  return (v) => readers.get(v)?.length === 1 && !outputs.has(v);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** The graph behind a model given to Refinery; anything else is an error naming `path`. */
export function asGraph(m: OnnxModel, path = 'model'): Graph {
  const reason = (m as { reason?: unknown }).reason;
  if (reason instanceof RefineryError) {
    throw new RefineryError(reason.code, [
      { path, expected: 'a model Refinery can compose and differentiate (it only runs this one forward)', received: reason.message },
    ]);
  }
  if (!(m instanceof Graph))
    fail(
      'invalid_argument',
      path,
      'an ONNX model from loadModel(path) or parseModel(bytes)',
      typeof m === 'object' && m !== null ? 'another object' : String(m),
    );
  return m;
}
