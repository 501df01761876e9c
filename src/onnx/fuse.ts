/**
 * Graph rewrites that keep a model's function and remove work: BN folding where models are
 * composed (`inline`, before differentiation) and the ConvTranspose rewrites where graphs are
 * compiled for onnxruntime-node's CPU kernels (`Session.create`, after it, so that the backward
 * ConvTransposes of strided Convs are rewritten too and the backward of a generator's layers
 * stays one strided Conv):
 * - an inference-mode BatchNormalization after a Conv or ConvTranspose with constant weights is
 *   folded into that layer's weights and bias (onnxruntime folds it after Conv but not after
 *   ConvTranspose, the DCGAN generator's layers; folding before differentiation also removes the
 *   BN's backward, a per-channel Mul, from gradient graphs);
 * - a strided ConvTranspose with constant weights becomes s^2 stride-1 Convs, one per output
 *   phase, interleaved by two Concats ("sub-pixel" convolution: the same multiply-adds, run by
 *   onnxruntime's blocked Conv kernels instead of a GEMM and col2im); with fewer than
 *   MIN_PHASE_CHANNELS output channels, one Conv computes all phases and Slices part them;
 * - a ConvTranspose over a 1x1 input (a DCGAN generator's first layer) becomes one Gemm;
 * - on every device, a Transpose of a MatMul's product becomes the product of the transposed
 *   factors (transposeProducts: a self-attention gradient's [N, HW, HW] copies).
 */
import { attrFloat, attrInt, attrInts, attrString, type ConstTensor, Graph, int, ints, type Node } from './graph.js';

/** BatchNormalization's per-channel map y = s x + t from its constant inputs, in float64. */
function affine(g: Graph, bn: Node): { s: Float64Array; t: Float64Array } | undefined {
  const [, scale, bias, mean, variance] = bn.inputs.map((n) => (n ? g.constValue(n) : undefined));
  if (!scale || !bias || !mean || !variance) return undefined;
  if (![scale, bias, mean, variance].every((c) => c.dtype === 'float32' && c.data.length === scale.data.length)) return undefined;
  const eps = attrFloat(bn, 'epsilon', 1e-5);
  const c = scale.data.length;
  const s = new Float64Array(c);
  const t = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    s[i] = Number(scale.data[i]) / Math.sqrt(Number(variance.data[i]) + eps);
    t[i] = Number(bias.data[i]) - s[i] * Number(mean.data[i]);
  }
  return { s, t };
}

/**
 * The layer's weight and bias with `y = s x + t` per output channel folded in, or undefined when
 * the layer's weight or bias is not a float32 constant or the channels do not match.
 */
function folded(g: Graph, layer: Node, s: Float64Array, t: Float64Array): { w: ConstTensor; b: ConstTensor } | undefined {
  const w = g.constValue(layer.inputs[1]);
  const b = layer.inputs[2] ? g.constValue(layer.inputs[2]) : undefined;
  if (w?.dtype !== 'float32' || w.dims.length < 3 || (layer.inputs[2] && b?.dtype !== 'float32')) return undefined;
  const group = attrInt(layer, 'group', 1);
  const [d0, d1] = w.dims;
  const taps = w.dims.slice(2).reduce((a, v) => a * v, 1);
  const cout = layer.op === 'Conv' ? d0 : d1 * group;
  if (cout !== s.length || (b && b.data.length !== cout)) return undefined;
  // Conv: weight [Cout, Cin/group, k...]; ConvTranspose: [Cin, Cout/group, k...], where input
  // channel i of group i / (Cin/group) feeds output channels group * Cout/group + j.
  const channelOf = layer.op === 'Conv' ? (i: number) => i : (i: number, j: number) => Math.floor(i / (d0 / group)) * d1 + j;
  const src = w.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) {
      const f = s[channelOf(i, j)];
      const at = (i * d1 + j) * taps;
      for (let k = 0; k < taps; k++) data[at + k] = src[at + k] * f;
    }
  }
  const bias = new Float32Array(cout);
  for (let c = 0; c < cout; c++) bias[c] = s[c] * (b ? Number(b.data[c]) : 0) + t[c];
  return { w: { dtype: 'float32', dims: [...w.dims], data }, b: { dtype: 'float32', dims: [cout], data: bias } };
}

/**
 * `g` with every foldable BatchNormalization folded into the Conv or ConvTranspose before it (the
 * same graph when there is none). Foldable: inference mode, constant statistics, the layer's
 * output read by the BN alone and not a graph output, and the layer's weight and bias constant
 * (so graphs whose weights are fed, as in training, are left as they are). Node and value names
 * are kept; the layer takes the BN's output name.
 */
export function foldBatchNorms(g: Graph): Graph {
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outputs = new Set(g.outputs);
  const fused = new Map<Node, { bn: Node; w: ConstTensor; b: ConstTensor }>();
  const dropped = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.domain !== '' || attrInt(bn, 'training_mode', 0) !== 0) continue;
    if (bn.outputs.slice(1).some((o) => o !== '')) continue;
    const x = bn.inputs[0];
    const layer = g.producer(x);
    if (!layer || (layer.op !== 'Conv' && layer.op !== 'ConvTranspose') || layer.domain !== '' || fused.has(layer)) continue;
    if (readers.get(x) !== 1 || outputs.has(x)) continue;
    const map = affine(g, bn);
    const wb = map && folded(g, layer, map.s, map.t);
    if (!wb) continue;
    fused.set(layer, { bn, ...wb });
    dropped.add(bn);
  }
  if (fused.size === 0) return g;
  const out = emptyLike(g);
  for (const n of g.nodes) {
    if (dropped.has(n)) continue;
    const f = fused.get(n);
    if (!f) {
      out.addNode({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
      continue;
    }
    const w = out.constant(f.w, `${n.name}/folded_w`);
    const b = out.constant(f.b, `${n.name}/folded_b`);
    out.addNode({ ...n, inputs: [n.inputs[0], w, b], outputs: [f.bn.outputs[0]], attrs: { ...n.attrs } });
  }
  out.outputs = [...g.outputs];
  return pruneInitializers(out);
}

/** Output channels below which all phases of a strided ConvTranspose run as one Conv (see phaseConvs). */
const MIN_PHASE_CHANNELS = 8;

/** The explicit pads of a ConvTranspose, or undefined when they come from auto_pad or output_shape. */
function explicitPads(n: Node, rank: number): number[] | undefined {
  if (attrString(n, 'auto_pad', 'NOTSET') !== 'NOTSET' || n.attrs.output_shape) return undefined;
  return attrInts(n, 'pads') ?? new Array<number>(2 * rank).fill(0);
}

/**
 * Phase (a, b)'s kernel and pads at index a s + b, and the layer's input height and width; or,
 * with `offsets`, one kernel and pads for all phases (phase (a, b): output channels from
 * (a s + b) Cout, rows from offsets[0][a], columns from offsets[1][b]).
 */
interface PhasePlan {
  kernels: ConstTensor[];
  pads: number[][];
  inSize: number[];
  offsets?: number[][];
}

/**
 * The s^2 phase convolutions of a 2-D ConvTranspose with constant weight [Cin, Cout, kh, kw],
 * equal strides s > 1, no dilation or groups, and an output of s times the input on both axes;
 * undefined otherwise. Along one axis, output s m + r sums x[m + q - j] w[s j + rho] over
 * j < J, with r + p = s q + rho and J = ceil((k - rho) / s): a correlation over x with the taps
 * w[s (J - 1 - u) + rho] and J - 1 - q zeros of padding before.
 */
function phaseConvs(g: Graph, n: Node): PhasePlan | undefined {
  const w = g.constValue(n.inputs[1]);
  const xs = g.shape(n.inputs[0]);
  const ys = g.shape(n.outputs[0]);
  if (w?.dtype !== 'float32' || w.dims.length !== 4 || xs.length !== 4) return undefined;
  const strides = attrInts(n, 'strides') ?? [1, 1];
  const dil = attrInts(n, 'dilations') ?? [1, 1];
  const pads = explicitPads(n, 2);
  const s = strides[0];
  if (!pads || s < 2 || strides[1] !== s || dil.some((d) => d !== 1) || attrInt(n, 'group', 1) !== 1) return undefined;
  const [cin, cout, kh, kw] = w.dims;
  const k = [kh, kw];
  const inSize = [xs[2], xs[3]];
  const outSize = [ys[2], ys[3]];
  if (![...inSize, ...outSize].every((d) => typeof d === 'number')) return undefined;
  if (outSize.some((o, a) => o !== s * (inSize[a] as number)) || k.some((v) => v < s)) return undefined;
  // Per axis and phase r: taps (kernel indices in correlation order) and pads.
  const axes = [0, 1].map((a) =>
    Array.from({ length: s }, (_, r) => {
      const q = Math.floor((r + pads[a]) / s);
      const rho = (r + pads[a]) % s;
      const J = Math.ceil((k[a] - rho) / s);
      // The phase's output has as many positions as the input: pads before + after = J - 1.
      const before = J - 1 - q;
      const after = q;
      return { taps: Array.from({ length: J }, (_, u) => s * (J - 1 - u) + rho), before, after };
    }),
  );
  if (axes.some((phases) => phases.some((p) => p.before < 0 || p.after < 0))) return undefined;
  const src = w.data as Float32Array;
  if (cout < MIN_PHASE_CHANNELS) {
    // Few output channels (an image generator's last layer, the backward of a discriminator's
    // first): the blocked Conv kernels would pad each phase's channels to their block of 8 or
    // 16 (dcgan32 at batch 256, 3 channels: 5.2 ms against the ConvTranspose's 2.4 ms), so all
    // phases run as one Conv with s^2 Cout channels. Phase r's taps sit at the start of a
    // window of the longest phase's length; with the largest of the phases' pads before, its
    // output m is the Conv's m + offset, offset = that pad - its own.
    if (n.inputs[2] && g.constValue(n.inputs[2])?.dtype !== 'float32') return undefined;
    const before = axes.map((phases) => Math.max(...phases.map((p) => p.before)));
    const length = axes.map((phases) => Math.max(...phases.map((p) => p.taps.length)));
    const offsets = axes.map((phases, a) => phases.map((p) => before[a] - p.before));
    const after = axes.map((_, a) => Math.max(...offsets[a]) + length[a] - 1 - before[a]);
    const [lh, lw] = length;
    const data = new Float32Array(s * s * cout * cin * lh * lw);
    axes[0].forEach((ph, a) => {
      axes[1].forEach((pw, b) => {
        for (let o = 0; o < cout; o++) {
          const c = (a * s + b) * cout + o;
          for (let i = 0; i < cin; i++) {
            for (let u = 0; u < ph.taps.length; u++) {
              for (let v = 0; v < pw.taps.length; v++) data[((c * cin + i) * lh + u) * lw + v] = src[((i * cout + o) * kh + ph.taps[u]) * kw + pw.taps[v]];
            }
          }
        }
      });
    });
    return { kernels: [{ dtype: 'float32', dims: [s * s * cout, cin, lh, lw], data }], pads: [[...before, ...after]], inSize: inSize as number[], offsets };
  }
  const kernels: ConstTensor[] = [];
  const padsOut: number[][] = [];
  for (const ph of axes[0]) {
    for (const pw of axes[1]) {
      const jh = ph.taps.length;
      const jw = pw.taps.length;
      const data = new Float32Array(cout * cin * jh * jw);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) {
          for (let u = 0; u < jh; u++) {
            for (let v = 0; v < jw; v++) data[((o * cin + i) * jh + u) * jw + v] = src[((i * cout + o) * kh + ph.taps[u]) * kw + pw.taps[v]];
          }
        }
      }
      kernels.push({ dtype: 'float32', dims: [cout, cin, jh, jw], data });
      padsOut.push([ph.before, pw.before, ph.after, pw.after]);
    }
  }
  return { kernels, pads: padsOut, inSize: inSize as number[] };
}

/** A ConvTranspose over a 1x1 input with no padding: [N, Cin] @ w[Cin, Cout k...] + bias, reshaped. */
function isPointInput(g: Graph, n: Node): boolean {
  const w = g.constValue(n.inputs[1]);
  const xs = g.shape(n.inputs[0]);
  const pads = explicitPads(n, xs.length - 2);
  const outPad = attrInts(n, 'output_padding') ?? [];
  const dil = attrInts(n, 'dilations') ?? [];
  return (
    !!w &&
    w.dtype === 'float32' &&
    xs.length >= 3 &&
    xs.slice(2).every((d) => d === 1) &&
    !!pads &&
    pads.every((p) => p === 0) &&
    outPad.every((p) => p === 0) &&
    dil.every((d) => d === 1) &&
    attrInt(n, 'group', 1) === 1 &&
    (!n.inputs[2] || g.constValue(n.inputs[2])?.dtype === 'float32')
  );
}

/** `g` with its ConvTransposes with constant weights rewritten as Gemm or phase Convs (see the file's comment). */
export function rewriteConvTransposes(g: Graph): Graph {
  const plans = new Map<Node, 'gemm' | PhasePlan>();
  for (const n of g.nodes) {
    if (n.op !== 'ConvTranspose' || n.domain !== '') continue;
    if (isPointInput(g, n)) plans.set(n, 'gemm');
    else {
      const p = phaseConvs(g, n);
      if (p) plans.set(n, p);
    }
  }
  if (plans.size === 0) return g;
  const out = emptyLike(g);
  // Names for the new nodes and values that no node or value of g has (a Graph's fresh names
  // only avoid the values added so far, and g's later nodes are not added yet).
  const taken = new Set([...g.values.keys(), ...g.nodes.map((n) => n.name)]);
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const emit = (base: string, op: string, inputs: string[], attrs: Node['attrs'], output = unique(`${base}/${op}`)) => {
    out.addNode({ name: unique(`${base}/${op}_node`), op, domain: '', inputs, outputs: [output], attrs });
    return output;
  };
  const constant = (base: string, t: ConstTensor) => out.addInitializer(unique(base), t);
  for (const n of g.nodes) {
    const plan = plans.get(n);
    if (!plan) {
      out.addNode({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
      continue;
    }
    const [x, wName, bName] = n.inputs;
    const y = n.outputs[0];
    if (plan === 'gemm') {
      const w = g.constValue(wName)!;
      const [cin, cout, ...k] = w.dims;
      const taps = k.reduce((a, v) => a * v, 1);
      const flat = emit(n.name, 'Flatten', [x], { axis: int(1) });
      const inputs = [flat, constant(`${n.name}/gemm_w`, { dtype: 'float32', dims: [cin, cout * taps], data: w.data })];
      if (bName) {
        const b = g.constValue(bName)!.data as Float32Array;
        const c = new Float32Array(cout * taps);
        for (let o = 0; o < cout; o++) c.fill(b[o], o * taps, (o + 1) * taps);
        inputs.push(constant(`${n.name}/gemm_b`, { dtype: 'float32', dims: [cout * taps], data: c }));
      }
      const prod = emit(n.name, 'Gemm', inputs, {});
      const shape = constant(`${n.name}/shape`, { dtype: 'int64', dims: [2 + k.length], data: BigInt64Array.from([0, cout, ...k].map(BigInt)) });
      emit(n.name, 'Reshape', [prod, shape], {}, y);
      continue;
    }
    const shape = (name: string, dims: number[]) =>
      constant(`${n.name}/${name}`, { dtype: 'int64', dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) });
    const [h, w] = plan.inSize;
    let phases: string[];
    let s: number;
    if (plan.offsets) {
      const offsets = plan.offsets;
      const kernel = plan.kernels[0];
      s = offsets[0].length;
      const cout = kernel.dims[0] / (s * s);
      const bias = bName ? [constant(`${n.name}/phases_b`, tiled(g.constValue(bName)!.data as Float32Array, s * s))] : [];
      const all = emit(n.name, 'Conv', [x, constant(`${n.name}/phases_w`, kernel), ...bias], {
        pads: ints(plan.pads[0]),
        kernel_shape: ints(kernel.dims.slice(2)),
      });
      const axes = shape('slice_axes', [1, 2, 3]);
      phases = offsets[0].flatMap((oh, a) =>
        offsets[1].map((ow, b) => {
          const c = (a * s + b) * cout;
          return emit(
            n.name,
            'Slice',
            [all, shape(`slice${a * s + b}_starts`, [c, oh, ow]), shape(`slice${a * s + b}_ends`, [c + cout, oh + h, ow + w]), axes],
            {},
          );
        }),
      );
    } else {
      s = Math.round(Math.sqrt(plan.kernels.length));
      const bias = bName ? [bName] : [];
      phases = plan.kernels.map((kernel, i) =>
        emit(n.name, 'Conv', [x, constant(`${n.name}/phase${i}_w`, kernel), ...bias], { pads: ints(plan.pads[i]), kernel_shape: ints(kernel.dims.slice(2)) }),
      );
    }
    // Interleave: output (s i + a, s j + b) is phase (a, b)'s (i, j). The column phases of a row
    // phase are stacked on a new last axis ([N, C, H, W, s], read as [N, C, H, 1, s W]), then the
    // row phases on axis 3 ([N, C, H, s, s W], read as [N, C, s H, s W]): two Concats, copies that
    // onnxruntime runs in parallel, where DepthToSpace's one-thread shuffle took 3-5 times longer.
    const column = shape('column_shape', [0, 0, 0, w, 1]);
    const row = shape('row_shape', [0, 0, h, 1, s * w]);
    const rows = Array.from({ length: s }, (_, a) => {
      const cols = phases.slice(a * s, (a + 1) * s).map((p) => emit(n.name, 'Reshape', [p, column], {}));
      return emit(n.name, 'Reshape', [emit(n.name, 'Concat', cols, { axis: int(4) }), row], {});
    });
    emit(n.name, 'Reshape', [emit(n.name, 'Concat', rows, { axis: int(3) }), shape('out_shape', [0, 0, s * h, s * w])], {}, y);
  }
  out.outputs = [...g.outputs];
  return pruneInitializers(out);
}

/** Inputs and outputs a dense layer needs on both sides to count as wide (see pointwiseChains). */
const MIN_CHAIN_WIDTH = 16;

/** One-input elementwise ops that a layout change leaves as they are. */
const POINTWISE = new Set(['Relu', 'LeakyRelu', 'Tanh', 'Sigmoid', 'Elu', 'Selu', 'Softplus', 'HardSigmoid', 'Clip']);

/**
 * A dense layer's weight as [N, K] and bias [N] (float32 constants), when `n` is a Gemm or MatMul
 * of a 2-D input by constant weights with a 1-D (or absent) constant bias; undefined otherwise.
 */
function denseLayer(g: Graph, n: Node): { w: Float32Array; b?: Float32Array; k: number; n: number } | undefined {
  if (n.domain !== '' || (n.op !== 'Gemm' && n.op !== 'MatMul') || g.rank(n.inputs[0]) !== 2) return undefined;
  const w = g.constValue(n.inputs[1]);
  if (w?.dtype !== 'float32' || w.dims.length !== 2) return undefined;
  const tb = n.op === 'Gemm' ? attrInt(n, 'transB', 0) : 0;
  if (n.op === 'Gemm' && (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1)) return undefined;
  const [k, out] = tb ? [w.dims[1], w.dims[0]] : w.dims;
  const c = n.op === 'Gemm' && n.inputs[2] ? g.constValue(n.inputs[2]) : undefined;
  if (n.op === 'Gemm' && n.inputs[2] && (c?.dtype !== 'float32' || c.data.length !== out || c.dims.length > 2)) return undefined;
  const src = w.data as Float32Array;
  const data = new Float32Array(out * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < out; j++) data[j * k + i] = tb ? src[j * k + i] : src[i * out + j];
  return { w: data, b: c ? Float32Array.from(c.data as Float32Array) : undefined, k, n: out };
}

/**
 * `g` with each chain of two or more dense layers (Gemm or MatMul by constant weights, a
 * constant bias) and one-input activations between them, each value read by the next alone,
 * computed as 1x1 Convs over [1, features, batch, 1]: onnxruntime's blocked NCHWc Conv kernels
 * add the bias and apply the activation as they write each block, where a Gemm copies the bias
 * into its output before the product and the activation reads it once more (a 2-D MLP's
 * 128-wide layers at batch 10,000: see the README's benchmarks). A Transpose at each end of the
 * chain turns [batch, features] into [features, batch] and back. The same graph when there is
 * no such chain.
 */
export function pointwiseChains(g: Graph): Graph {
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outputs = new Set(g.outputs);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const layers = new Map<Node, NonNullable<ReturnType<typeof denseLayer>>>();
  for (const n of g.nodes) {
    const d = denseLayer(g, n);
    if (d) layers.set(n, d);
  }
  const linked = (n: Node) => layers.has(n) || (POINTWISE.has(n.op) && n.domain === '');
  // Chains: maximal runs of linked nodes, each reading the one before, whose value nothing else reads.
  const next = new Map<Node, Node>();
  for (const n of g.nodes) {
    if (!linked(n)) continue;
    const prev = producer.get(n.inputs[0]);
    if (prev && linked(prev) && readers.get(prev.outputs[0]) === 1 && !outputs.has(prev.outputs[0])) next.set(prev, n);
  }
  const chains: Node[][] = [];
  const inChain = new Set<Node>();
  for (const n of g.nodes) {
    if (!linked(n) || inChain.has(n)) continue;
    const chain = [n];
    for (let m = next.get(n); m; m = next.get(m)) chain.push(m);
    // Trim activations at the ends: the chain starts and ends with a dense layer.
    while (chain.length && !layers.has(chain[0])) chain.shift();
    while (chain.length && !layers.has(chain[chain.length - 1])) chain.pop();
    for (const m of chain) inChain.add(m);
    // Worth it with two or more wide layers: the gain is per layer and its width, the cost
    // (the Transposes) at the chain's ends. Narrow chains, such as a 2-D generator's last layer
    // feeding a critic's first (128 -> 2 -> 128), ran 24% slower as Convs.
    const wide = chain.filter((m) => {
      const d = layers.get(m);
      return d && d.k >= MIN_CHAIN_WIDTH && d.n >= MIN_CHAIN_WIDTH;
    });
    if (wide.length >= 2) chains.push(chain);
  }
  if (chains.length === 0) return g;
  const byLast = new Map(chains.map((c) => [c[c.length - 1], c]));
  const rewritten = new Set(chains.flat());
  const out = emptyLike(g);
  const taken = new Set([...g.values.keys(), ...g.nodes.map((n) => n.name)]);
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const emit = (base: string, op: string, inputs: string[], attrs: Node['attrs'], output = unique(`${base}/${op}`)) => {
    out.addNode({ name: unique(`${base}/${op}_node`), op, domain: '', inputs, outputs: [output], attrs });
    return output;
  };
  const constant = (base: string, t: ConstTensor) => out.addInitializer(unique(base), t);
  const shape = (base: string, dims: number[]) => constant(base, { dtype: 'int64', dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) });
  for (const n of g.nodes) {
    // A chain is emitted where its last node was (every input it reads is defined by then).
    const chain = byLast.get(n);
    if (!chain) {
      if (!rewritten.has(n)) out.addNode({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
      continue;
    }
    const base = chain[0].name;
    const k0 = layers.get(chain[0])!.k;
    let v = emit(base, 'Reshape', [emit(base, 'Transpose', [chain[0].inputs[0]], { perm: ints([1, 0]) }), shape(`${base}/nchw_shape`, [1, k0, -1, 1])], {});
    let width = k0;
    for (const m of chain) {
      const d = layers.get(m);
      if (!d) {
        v = emit(m.name, m.op, [v, ...m.inputs.slice(1)], { ...m.attrs });
        continue;
      }
      const inputs = [v, constant(`${m.name}/conv_w`, { dtype: 'float32', dims: [d.n, d.k, 1, 1], data: d.w })];
      if (d.b) inputs.push(constant(`${m.name}/conv_b`, { dtype: 'float32', dims: [d.n], data: d.b }));
      v = emit(m.name, 'Conv', inputs, { kernel_shape: ints([1, 1]) });
      width = d.n;
    }
    const last = chain[chain.length - 1];
    emit(last.name, 'Transpose', [emit(last.name, 'Reshape', [v, shape(`${last.name}/rows_shape`, [width, -1])], {})], { perm: ints([1, 0]) }, last.outputs[0]);
  }
  out.outputs = [...g.outputs];
  return pruneInitializers(out);
}

/** Whether a Transpose node swaps the last two of its input's axes and keeps the others. */
function swapsLastTwo(n: Node): boolean {
  const perm = attrInts(n, 'perm');
  const r = perm?.length ?? 0;
  return r >= 2 && perm!.every((p, i) => (i < r - 2 ? p === i : p === (i === r - 2 ? r - 1 : r - 2)));
}

/**
 * `g` with each Transpose of a MatMul's product (last two axes swapped, the product read by it
 * alone) computed as the product of the transposed factors, (A B)^T = B^T A^T, where a factor
 * that is itself such a Transpose is read untransposed. Reverse-mode graphs have this shape
 * where a forward Transpose follows a MatMul's weight gradient (self-attention: the gradient of
 * the attention map, [N, HW, HW], transposed once more); the factors' transposes are folded into
 * onnxruntime's MatMul (FusedMatMul's transA/transB) and the large product is not copied again.
 * The same graph when there is none.
 */
export function transposeProducts(g: Graph): Graph {
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outputs = new Set(g.outputs);
  const swapped = new Map<Node, Node>(); // MatMul -> the Transpose of its product
  for (const t of g.nodes) {
    if (t.op !== 'Transpose' || t.domain !== '' || !swapsLastTwo(t)) continue;
    const m = g.producer(t.inputs[0]);
    if (m?.op !== 'MatMul' || m.domain !== '' || readers.get(m.outputs[0]) !== 1 || outputs.has(m.outputs[0])) continue;
    if (m.inputs.some((i) => g.rank(i) < 2)) continue;
    swapped.set(m, t);
  }
  if (swapped.size === 0) return g;
  const transposes = new Set(swapped.values());
  const out = emptyLike(g);
  const taken = new Set([...g.values.keys(), ...g.nodes.map((n) => n.name)]);
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  for (const n of g.nodes) {
    if (transposes.has(n)) continue;
    const t = swapped.get(n);
    if (!t) {
      out.addNode({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
      continue;
    }
    const transposed = (x: string): string => {
      const p = g.producer(x);
      if (p?.op === 'Transpose' && p.domain === '' && swapsLastTwo(p)) return p.inputs[0];
      const r = g.rank(x);
      const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
      const y = unique(`${x}/T`);
      out.addNode({ name: unique(`${n.name}/Transpose`), op: 'Transpose', domain: '', inputs: [x], outputs: [y], attrs: { perm: ints(perm) } });
      return y;
    };
    const [a, b] = n.inputs;
    out.addNode({ name: n.name, op: 'MatMul', domain: '', inputs: [transposed(b), transposed(a)], outputs: [t.outputs[0]], attrs: {} });
  }
  out.outputs = [...g.outputs];
  return pruneInitializers(pruneNodes(out));
}

/** g without the nodes whose outputs nothing reads (g itself, changed in place). */
function pruneNodes(g: Graph): Graph {
  for (let removed = true; removed; ) {
    const read = new Set(g.outputs);
    for (const n of g.nodes) for (const i of n.inputs) read.add(i);
    const kept = g.nodes.filter((n) => n.outputs.some((o) => o !== '' && read.has(o)));
    removed = kept.length < g.nodes.length;
    g.nodes = kept;
  }
  return g;
}

/** `v` repeated `times` times, as a float32 constant. */
function tiled(v: Float32Array, times: number): ConstTensor {
  const data = new Float32Array(v.length * times);
  for (let k = 0; k < times; k++) data.set(v, k * v.length);
  return { dtype: 'float32', dims: [data.length], data };
}

/** A graph with g's name, opset, inputs and initializers, and no nodes. */
function emptyLike(g: Graph): Graph {
  const out = new Graph();
  out.name = g.name;
  out.opset = g.opset;
  for (const v of g.inputs) out.addInput(v.name, v.dtype, [...v.shape]);
  for (const [name, t] of g.initializers) out.addInitializer(name, t);
  return out;
}

/** g without the initializers no node or output reads (g itself, changed in place). */
function pruneInitializers(g: Graph): Graph {
  const read = new Set(g.outputs);
  for (const n of g.nodes) for (const i of n.inputs) read.add(i);
  for (const name of [...g.initializers.keys()]) {
    if (!read.has(name)) {
      g.initializers.delete(name);
      g.values.delete(name);
    }
  }
  return g;
}
