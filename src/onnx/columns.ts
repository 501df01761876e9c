/**
 * Dense layers on onnxruntime's Conv kernels, forward and backward (denseColumns).
 *
 * A dense layer x W + b over rows x [batch, K] is a 1x1 Conv over the same numbers laid out as
 * columns, [1, K, batch, 1]. onnxruntime runs such Convs on its blocked NCHWc kernels, which add
 * the bias and apply an activation as they write each block, where its Gemm copies the bias into
 * its output first and the activation reads the product once more: a 2-D MLP's forward pass at
 * batch 10,000 ran at the machine's sgemm peak as Convs (see the README's benchmarks).
 *
 * A model's gradient graph reads each activation twice (the next layer, and the mask of its
 * gradient) and multiplies the gradient by the transposed weights, so the whole graph changes
 * layout at once: every value that a dense layer or an elementwise op between such values
 * produces is kept as columns, and a Transpose turns rows into columns where a value enters (the
 * latents, the gradient's seed) and back where one leaves. Elementwise ops are layout-blind:
 * their inputs are the value's own shape or constants of one element. A layer is a Gemm or a
 * MatMul by constant weights (or by their Transpose, as a MatMul layer's gradient multiplies),
 * with its bias when a MatMul's one reader adds a constant per feature.
 */
import { type Dim, type Graph, int, ints, type Node, readersOf } from './graph.js';
import { denseLayer } from './fuse.js';
import { Rewriter } from './rewriter.js';

/**
 * Inputs and outputs a dense layer needs on both sides to count as wide. An MLP critic's latent
 * step at batch 10,000 (three hidden layers of W, a scratch A/B on the AVX2 machine, 2026-11-28)
 * ran 15% slower as columns at W = 32, 4% slower at 48, and 15%, 14% and 11% faster at 64, 128
 * and 256.
 */
const MIN_WIDTH = 64;

/**
 * Features a value of the group must have a multiple of, unless it has fewer: onnxruntime's
 * blocked kernels take 8 or 16 channels per block, and the gradient's masks run in the blocked
 * layout only for 16k (nchwcMasks). The same MLP at W = 24 and 100 ran 5 and 4 times slower as
 * columns.
 */
const BLOCK = 16;

/**
 * The multiply-adds per row a group needs per feature that crosses its border (a Transpose moves
 * it): a transposed float costs about as much as a few hundred multiply-adds on these kernels,
 * and the Convs gain a fraction of their layers' time. mlp2d's latent step has about 10^4 (its
 * border is the 2-D latents, the seed and the gradient); mnist_dcgan28's, whose generator turns
 * its first layer's 3,136 features into an image, about 63 and ran no faster as columns.
 */
const WORK_PER_BORDER = 256;

/** Ops that apply one function per element to inputs of one shape (or constants of one element). */
const ELEMENTWISE = new Set([
  'Relu',
  'LeakyRelu',
  'Tanh',
  'Sigmoid',
  'Elu',
  'Selu',
  'Softplus',
  'HardSigmoid',
  'Clip',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Erf',
  'Pow',
  'Max',
  'Min',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'Equal',
  'Not',
  'And',
  'Or',
  'Where',
  'Cast',
  'Sign',
]);

/**
 * A connected group of dense layers and elementwise ops: its wide layers, its multiply-adds per
 * row, the features per row that cross its border (values entering from outside, each once, and
 * values leaving to a node outside or the caller), and whether a value's width is off the blocks.
 */
interface Group {
  wide: number;
  work: number;
  border: number;
  unblocked: boolean;
  entering: Set<string>;
}

const sameShape = (a: Dim[], b: Dim[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * `g` with its dense layers and the elementwise ops between them computed over columns (see the
 * file's comment), for each connected group of them that holds two or more wide layers
 * (MIN_WIDTH), whose values have fewer than 16 features or a multiple of 16 (BLOCK), and that
 * has at least WORK_PER_BORDER multiply-adds per feature that crosses its border. The same graph
 * when there is none.
 */
export function denseColumns(graph: Graph): Graph {
  const g = linearBiases(graph);
  const layers = new Map<Node, NonNullable<ReturnType<typeof denseLayer>>>();
  const candidate = new Set<Node>();
  for (const n of g.nodes) {
    if (n.domain !== '' || n.outputs.length !== 1) continue;
    const out = n.outputs[0];
    if (g.rank(out) !== 2 || typeof g.shape(out)[1] !== 'number') continue;
    const d = denseLayer(g, n);
    if (d) {
      layers.set(n, d);
      candidate.add(n);
    } else if (ELEMENTWISE.has(n.op) && n.inputs.every((i) => i === '' || oneElement(g, i) || sameShape(g.shape(i), g.shape(out)))) {
      candidate.add(n);
    }
  }
  const readers = readersOf(g.nodes);
  // Elementwise ops that no candidate reads (a NaN guard on G's output, the prior's gradient added
  // to the network's) would only move the border: they stay rows. In reverse order, so that a
  // chain of them goes at once.
  for (const n of [...g.nodes].reverse()) {
    if (candidate.has(n) && !layers.has(n) && !(readers.get(n.outputs[0]) ?? []).some((r) => candidate.has(r))) candidate.delete(n);
  }
  // The values a candidate reads as rows: a layer's input, an elementwise op's inputs but omitted
  // ones and constants of one element.
  const rowInputs = (n: Node) => (layers.has(n) ? [n.inputs[0]] : n.inputs.filter((i) => i !== '' && !oneElement(g, i)));
  // Connected groups (union-find over the values candidates pass each other).
  const parent = new Map<Node, Node>([...candidate].map((n) => [n, n]));
  const root = (n: Node): Node => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(n, r);
    return r;
  };
  for (const n of candidate) {
    for (const i of rowInputs(n)) {
      const p = g.producer(i);
      if (p && candidate.has(p)) parent.set(root(p), root(n));
    }
  }
  const outputs = new Set(g.outputs);
  const groups = new Map<Node, Group>();
  const group = (n: Node): Group => {
    const r = root(n);
    const s = groups.get(r) ?? { wide: 0, work: 0, border: 0, unblocked: false, entering: new Set<string>() };
    groups.set(r, s);
    return s;
  };
  for (const n of candidate) {
    const s = group(n);
    const d = layers.get(n);
    if (d) {
      s.work += d.k * d.n;
      if (d.k >= MIN_WIDTH && d.n >= MIN_WIDTH) s.wide++;
    }
    for (const i of rowInputs(n)) {
      const p = g.producer(i);
      if (!(p && candidate.has(p)) && !s.entering.has(i)) {
        s.entering.add(i);
        s.border += width(g, i);
      }
    }
    const out = n.outputs[0];
    if (outputs.has(out) || (readers.get(out) ?? []).some((r) => !candidate.has(r))) s.border += width(g, out);
    for (const f of [width(g, out), ...(d ? [d.k] : [])]) if (f >= BLOCK && f % BLOCK !== 0) s.unblocked = true;
  }
  const worth = (s: Group) => s.wide >= 2 && s.work >= WORK_PER_BORDER * s.border && !s.unblocked;
  const inside = new Set([...candidate].filter((n) => worth(group(n))));
  if (inside.size === 0) return graph;
  // Values produced inside that a node outside (or the graph's caller) reads as rows.
  const leaving = (v: string) => outputs.has(v) || (readers.get(v) ?? []).some((r) => !inside.has(r));
  const columns = new Map<string, string>();
  return Rewriter.rebuild(g, (rw, n) => {
    if (!inside.has(n)) return false;
    const asColumns = (v: string): string => {
      if (v === '' || oneElement(g, v)) return v;
      const hit = columns.get(v);
      if (hit !== undefined) return hit;
      const f = g.shape(v)[1] as number;
      const t = f === 1 ? v : rw.emit(v, 'Transpose', [v], { perm: ints([1, 0]) });
      const c = rw.emit(v, 'Reshape', [t, rw.int64s(`${v}/columns_shape`, [1, f, -1, 1])]);
      columns.set(v, c);
      return c;
    };
    const out = n.outputs[0];
    const d = layers.get(n);
    let c: string;
    if (d) {
      const inputs = [asColumns(n.inputs[0]), rw.constant(`${n.name}/conv_w`, { dtype: 'float32', dims: [d.n, d.k, 1, 1], data: d.w })];
      if (d.b) inputs.push(rw.constant(`${n.name}/conv_b`, { dtype: 'float32', dims: [d.n], data: d.b }));
      c = rw.emit(n.name, 'Conv', inputs, { kernel_shape: ints([1, 1]) });
    } else {
      c = rw.emit(n.name, n.op, n.inputs.map(asColumns), { ...n.attrs });
    }
    columns.set(out, c);
    if (leaving(out)) {
      const f = g.shape(out)[1] as number;
      const flat = rw.emit(n.name, 'Reshape', [c, rw.int64s(`${n.name}/rows_shape`, [f, -1])]);
      if (f === 1) rw.emit(n.name, 'Reshape', [flat, rw.int64s(`${n.name}/rows_shape`, [-1, 1])], {}, out);
      else rw.emit(n.name, 'Transpose', [flat], { perm: ints([1, 0]) }, out);
    }
    return true;
  });
}

/**
 * `g` with each MatMul by constant weights whose one reader is an Add of a constant per output
 * feature ([F] or [1, F]) computed as one Gemm with that bias: a Linear layer exported as MatMul
 * and Add. As columns its bias is the Conv's, where an Add of a constant would leave the blocked
 * layout. The same graph when there is none.
 */
function linearBiases(g: Graph): Graph {
  const readers = readersOf(g.nodes);
  const outputs = new Set(g.outputs);
  const biased = new Map<Node, { layer: Node; d: NonNullable<ReturnType<typeof denseLayer>>; bias: Float32Array }>();
  for (const n of g.nodes) {
    if (n.op !== 'MatMul' || g.rank(n.outputs[0]) !== 2 || outputs.has(n.outputs[0])) continue;
    const r = readers.get(n.outputs[0]) ?? [];
    if (r.length !== 1 || r[0].op !== 'Add' || r[0].domain !== '') continue;
    const d = denseLayer(g, n);
    const t = g.constValue(r[0].inputs[r[0].inputs[0] === n.outputs[0] ? 1 : 0]);
    const perFeature = d && t?.dtype === 'float32' && t.data.length === d.n && (t.dims.length === 1 || (t.dims.length === 2 && t.dims[0] === 1));
    if (perFeature) biased.set(r[0], { layer: n, d, bias: t.data as Float32Array });
  }
  if (biased.size === 0) return g;
  const layers = new Set([...biased.values()].map((b) => b.layer));
  return Rewriter.rebuild(g, (rw, n) => {
    if (layers.has(n)) return true;
    const b = biased.get(n);
    if (!b) return false;
    const { d } = b;
    const w = rw.constant(`${b.layer.name}/gemm_w`, { dtype: 'float32', dims: [d.n, d.k], data: d.w });
    const c = rw.constant(`${b.layer.name}/gemm_b`, { dtype: 'float32', dims: [d.n], data: Float32Array.from(b.bias) });
    rw.emit(b.layer.name, 'Gemm', [b.layer.inputs[0], w, c], { transB: int(1) }, n.outputs[0]);
    return true;
  });
}

/** Features per row of a [rows, features] value. */
function width(g: Graph, v: string): number {
  const f = g.shape(v)[1];
  return typeof f === 'number' ? f : 1;
}

/** Whether `v` is a constant of one element (it broadcasts the same over rows or columns). */
function oneElement(g: Graph, v: string): boolean {
  const t = g.constValue(v);
  return t !== undefined && t.data.length === 1 && t.dims.length <= 2;
}
