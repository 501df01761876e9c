/**
 * Graph rewrites that keep a model's function and remove work (the phase convolutions are in
 * phases.ts):
 * - where models are composed (`inline`, before differentiation: the gradient gains too), folded
 *   layers (foldLayers): an inference-mode BatchNormalization after a Conv or ConvTranspose with
 *   constant weights is folded into that layer's weights and bias (onnxruntime folds it after
 *   Conv but not after ConvTranspose, the DCGAN generator's layers; folding before
 *   differentiation also removes the BN's backward, a per-channel Mul), a Conv after a
 *   nearest upsampling runs on the upsampling's input (foldUpsampling), and an average pooling
 *   after a Conv becomes that Conv's stride (foldPooling, pooling.ts);
 * - where graphs are compiled (`Session.create`), on every device, a Transpose of a MatMul's
 *   product becomes the product of the transposed factors (transposeProducts: a self-attention
 *   gradient's [N, HW, HW] copies), and, for onnxruntime-node's CPU kernels, dense layers and
 *   their gradients become 1x1 Convs over columns (denseColumns, columns.ts), ConvTransposes
 *   phase Convs (rewriteConvTransposes), and the gradient's ReLU masks and constant scalings of
 *   feature maps and columns depthwise Convs that stay in onnxruntime's blocked layout
 *   (nchwcMasks, nchwcScales), and its masks of other dense activations a scaling and a Clip
 *   (denseMasks).
 */
import { attrFloat, attrInt, attrInts, type ConstTensor, type Graph, int, ints, type Node, readersOf, readOnce } from './graph.js';
import { foldUpsampling } from './phases.js';
import { foldPooling } from './pooling.js';
import { Rewriter } from './rewriter.js';

/** A model's graph with its BatchNormalizations, upsamplings and poolings folded into its convolutions (see the file's comment). */
export function foldLayers(g: Graph): Graph {
  return foldPooling(foldUpsampling(foldBatchNorms(g)));
}

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
 * A Gemm x B + C's constant parts: B (float32, 2-D, as stored), whether it is transposed, its
 * inputs k and outputs f, and C (float32, f values) when present; undefined when the Gemm
 * transposes x, scales, or reads a B or C that is not such a constant.
 */
function gemmParts(g: Graph, n: Node): { src: Float32Array; dims: number[]; tb: boolean; k: number; f: number; bias?: Float32Array } | undefined {
  if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) return undefined;
  const w = g.constValue(n.inputs[1]);
  if (w?.dtype !== 'float32' || w.dims.length !== 2) return undefined;
  const tb = attrInt(n, 'transB', 0) === 1;
  const [k, f] = tb ? [w.dims[1], w.dims[0]] : w.dims;
  const c = n.inputs[2] ? g.constValue(n.inputs[2]) : undefined;
  if (n.inputs[2] && (c?.dtype !== 'float32' || c.data.length !== f || c.dims.length > 2)) return undefined;
  return { src: w.data as Float32Array, dims: w.dims, tb, k, f, bias: c ? (c.data as Float32Array) : undefined };
}

/**
 * A Gemm's weight and bias with `y = s x + t` folded in per channel, channel c owning `block`
 * consecutive output features (a Reshape of [N, C block] to [N, C, ...] between them; 1 when the
 * BN reads the Gemm's output itself); undefined when the Gemm is not x B + C with constant
 * float32 B and C, or the sizes do not match.
 */
function foldedGemm(g: Graph, gemm: Node, s: Float64Array, t: Float64Array, block: number): { w: ConstTensor; b: ConstTensor } | undefined {
  const parts = gemmParts(g, gemm);
  if (!parts || parts.f !== s.length * block) return undefined;
  const { src, tb, k, f, bias: b } = parts;
  const data = new Float32Array(src.length);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < f; j++) {
      const at = tb ? j * k + i : i * f + j;
      data[at] = src[at] * s[Math.floor(j / block)];
    }
  }
  const bias = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    const c = Math.floor(j / block);
    bias[j] = s[c] * (b ? b[j] : 0) + t[c];
  }
  return { w: { dtype: 'float32', dims: [...parts.dims], data }, b: { dtype: 'float32', dims: [f], data: bias } };
}

/**
 * The features per channel when `reshape` turns a [N, F] Gemm output into [N, C, ...] with C
 * channels of F / C consecutive features each (a generator's first layer, `.view(-1, C, 7, 7)`);
 * undefined otherwise.
 */
function channelBlock(g: Graph, reshape: Node): number | undefined {
  const xs = g.shape(reshape.inputs[0]);
  const ys = g.shape(reshape.outputs[0]);
  if (xs.length !== 2 || ys.length < 3 || typeof xs[1] !== 'number' || !ys.slice(1).every((d) => typeof d === 'number')) return undefined;
  const block = (ys.slice(2) as number[]).reduce((a, v) => a * v, 1);
  return (ys[1] as number) * block === xs[1] && xs[0] === ys[0] ? block : undefined;
}

/**
 * `g` with every foldable BatchNormalization folded into the layer before it (the same graph when
 * there is none): a Conv or ConvTranspose, or a Gemm, directly or through a Reshape of its
 * features into channels. Foldable: inference mode, constant statistics, each value between the
 * layer and the BN read by the next alone and not a graph output, and the layer's weight and bias
 * constant (so graphs whose weights are fed, as in training, are left as they are). Node and
 * value names are kept; the BN's output is now the layer's (or the Reshape's).
 */
export function foldBatchNorms(g: Graph): Graph {
  const single = readOnce(g);
  const fused = new Map<Node, { w: ConstTensor; b: ConstTensor; output?: string }>();
  const renamed = new Map<Node, string>();
  const dropped = new Set<Node>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.domain !== '' || attrInt(bn, 'training_mode', 0) !== 0) continue;
    if (bn.outputs.slice(1).some((o) => o !== '')) continue;
    const x = bn.inputs[0];
    let layer = g.producer(x);
    if (layer?.domain !== '' || fused.has(layer) || !single(x)) continue;
    const map = affine(g, bn);
    if (!map) continue;
    let reshape: Node | undefined;
    let wb: { w: ConstTensor; b: ConstTensor } | undefined;
    if (layer.op === 'Conv' || layer.op === 'ConvTranspose') wb = folded(g, layer, map.s, map.t);
    else if (layer.op === 'Gemm' && g.rank(x) === 2) wb = foldedGemm(g, layer, map.s, map.t, 1);
    else if (layer.op === 'Reshape') {
      reshape = layer;
      layer = g.producer(reshape.inputs[0]);
      const block = channelBlock(g, reshape);
      if (layer?.op === 'Gemm' && layer.domain === '' && !fused.has(layer) && single(reshape.inputs[0]) && block)
        wb = foldedGemm(g, layer, map.s, map.t, block);
    }
    if (!wb || !layer) continue;
    if (reshape) {
      fused.set(layer, wb);
      renamed.set(reshape, bn.outputs[0]);
    } else fused.set(layer, { ...wb, output: bn.outputs[0] });
    dropped.add(bn);
  }
  if (fused.size === 0) return g;
  return Rewriter.rebuild(g, (rw, n) => {
    if (dropped.has(n)) return true;
    const f = fused.get(n);
    const output = f ? f.output : renamed.get(n);
    if (!f && !output) return false;
    const inputs = f ? [n.inputs[0], rw.constant(`${n.name}/folded_w`, f.w), rw.constant(`${n.name}/folded_b`, f.b)] : [...n.inputs];
    rw.out.addNode({ ...n, inputs, outputs: output ? [output, ...n.outputs.slice(1)] : [...n.outputs], attrs: { ...n.attrs } });
    return true;
  });
}

/**
 * A dense layer's weight as [N, K] and bias [N] (float32 constants), when `n` is a Gemm or MatMul
 * of a 2-D input by constant weights with a 1-D (or absent) constant bias; undefined otherwise.
 * A MatMul's weights may be a Transpose of a constant (a MatMul layer's gradient).
 */
export function denseLayer(g: Graph, n: Node): { w: Float32Array; b?: Float32Array; k: number; n: number } | undefined {
  if (n.domain !== '' || (n.op !== 'Gemm' && n.op !== 'MatMul') || g.rank(n.inputs[0]) !== 2) return undefined;
  let parts: ReturnType<typeof gemmParts>;
  if (n.op === 'Gemm') parts = gemmParts(g, n);
  else {
    const t = g.producer(n.inputs[1]);
    const transposed = t?.op === 'Transpose' && t.domain === '' && g.rank(t.inputs[0]) === 2 && (attrInts(t, 'perm') ?? [1, 0]).join() === '1,0';
    const inputs = transposed ? [n.inputs[0], t.inputs[0]] : n.inputs.slice(0, 2);
    parts = gemmParts(g, { ...n, inputs, attrs: transposed ? { transB: int(1) } : {} });
  }
  if (!parts) return undefined;
  const { src, tb, k, f } = parts;
  const data = new Float32Array(f * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) data[j * k + i] = tb ? src[j * k + i] : src[i * f + j];
  return { w: data, b: parts.bias ? Float32Array.from(parts.bias) : undefined, k, n: f };
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
  const single = readOnce(g);
  const swapped = new Map<Node, Node>(); // MatMul -> the Transpose of its product
  for (const t of g.nodes) {
    if (t.op !== 'Transpose' || t.domain !== '' || !swapsLastTwo(t)) continue;
    const m = g.producer(t.inputs[0]);
    if (m?.op !== 'MatMul' || m.domain !== '' || !single(m.outputs[0])) continue;
    if (m.inputs.some((i) => g.rank(i) < 2)) continue;
    swapped.set(m, t);
  }
  if (swapped.size === 0) return g;
  const transposes = new Set(swapped.values());
  return Rewriter.rebuild(g, (rw, n) => {
    if (transposes.has(n)) return true;
    const t = swapped.get(n);
    if (!t) return false;
    const transposed = (x: string): string => {
      const p = g.producer(x);
      if (p?.op === 'Transpose' && p.domain === '' && swapsLastTwo(p)) return p.inputs[0];
      const r = g.rank(x);
      const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
      return rw.emit(n.name, 'Transpose', [x], { perm: ints(perm) }, rw.unique(`${x}/T`));
    };
    const [a, b] = n.inputs;
    rw.out.addNode({ name: n.name, op: 'MatMul', domain: '', inputs: [transposed(b), transposed(a)], outputs: [t.outputs[0]], attrs: {} });
    return true;
  });
}

/** 2^126: times any positive float32 not subnormal (>= 2^-126) it is at least 1. */
const MASK_GAIN = 2 ** 126;

/** A scalar float32 constant's value (an initializer or Constant of one element), else undefined. */
function scalarConst(g: Graph, name: string): number | undefined {
  const t = g.constValue(name);
  return t && t.dtype === 'float32' && t.data.length === 1 ? Number(t.data[0]) : undefined;
}

/**
 * `g` with each float mask 1[y > 0] of a feature map y [N, 16k, H, W] (H, W > 1), Cast(Greater(y, 0)),
 * computed as Clip(Conv1x1(y), 0, 1): a depthwise 1x1 Conv that multiplies by 2^126, clipped.
 * It is 1 for every y >= 2^-126 (every positive float32 but subnormals, where it is
 * y * 2^126 < 1), 0 for y <= 0, and y * 2^126 overflows to +inf, which the Clip takes to 1.
 * A Clip(mask, alpha, 1) over it (LeakyRelu's slope, 0 <= alpha <= 1) becomes one such Conv
 * with bias alpha, clipped to [alpha, 1]. Why: the reverse-mode graph of a ReLU network masks
 * each activation's gradient, and where y comes from a Conv, onnxruntime keeps y in its blocked
 * NCHWc layout; Greater and Cast have no NCHWc kernels, so y and the gradient were reordered to
 * NCHW and back around every mask. The Conv (with the Clip fused into it) and the Mul that
 * applies the mask do run on NCHWc, and the reorders go (with the values' shapes recorded, see
 * `EncodeOptions.shapes`). One difference: where y is NaN the mask is NaN, not 0 (the value the
 * gradient belongs to is NaN then too). The same graph when there is no such mask.
 */
export function nchwcMasks(g: Graph): Graph {
  return rewriteMasks(
    g,
    (y) => blockedMap(g, y),
    (rw, at, y, channels, floor, output) => {
      const w = rw.constant(`${at.name}/mask_w`, { dtype: 'float32', dims: [channels, 1, 1, 1], data: new Float32Array(channels).fill(MASK_GAIN) });
      const inputs = [y, w];
      if (floor !== 0) inputs.push(rw.constant(`${at.name}/mask_b`, { dtype: 'float32', dims: [channels], data: new Float32Array(channels).fill(floor) }));
      const scaled = rw.emit(at.name, 'Conv', inputs, { group: int(channels), kernel_shape: ints([1, 1]) });
      clipMask(rw, at, scaled, floor, output);
    },
  );
}

/**
 * `g` with each float mask 1[y > 0] of a dense value y [N, F] (a Gemm's activation, as in an MLP's
 * gradient), Cast(Greater(y, 0)), computed as Clip(y * 2^126, 0, 1), and a Clip(mask, alpha, 1)
 * over it (LeakyRelu's slope, 0 <= alpha <= 1) as Clip(y * 2^126, alpha, 1): the same values as
 * nchwcMasks' (1 for y >= 2^-126, 0 or alpha for y <= 0; a positive subnormal gets y * 2^126,
 * a NaN y a mask that may be NaN). Why: onnxruntime's Cast from bool is a slow kernel; in a
 * 2-D MLP's latent step at batch 10,000 its six masks took 4.7 of 39.7 ms of kernels (bench
 * profile, 2026-11-28), where a Mul by a constant and a Clip are vectorised. The same graph when
 * there is no such mask.
 */
export function denseMasks(g: Graph): Graph {
  return rewriteMasks(
    g,
    (y) => (g.dtype(y) === 'float32' && g.rank(y) === 2 ? 0 : undefined),
    (rw, at, y, _channels, floor, output) => {
      const gain = rw.constant(`${at.name}/mask_gain`, { dtype: 'float32', dims: [], data: Float32Array.of(MASK_GAIN) });
      clipMask(rw, at, rw.emit(at.name, 'Mul', [y, gain]), floor, output);
    },
  );
}

/** Clip(scaled, floor, 1) into `output`: the end of a mask (rewriteMasks). */
function clipMask(rw: Rewriter, at: Node, scaled: string, floor: number, output: string): void {
  const lo = rw.constant(`${at.name}/mask_lo`, { dtype: 'float32', dims: [], data: Float32Array.of(floor) });
  const hi = rw.constant(`${at.name}/mask_hi`, { dtype: 'float32', dims: [], data: Float32Array.of(1) });
  rw.emit(at.name, 'Clip', [scaled, lo, hi], {}, output);
}

/**
 * `g` with each gradient mask Cast(Greater(y, 0)) to float32 whose y `accept` takes (it gives the
 * channel count `emit` is told), and each Clip(mask, alpha, 1) that alone reads such a mask
 * (LeakyRelu's slope, 0 <= alpha <= 1), emitted by `emit(rw, node, y, channels, floor, output)`
 * with floor 0 for a mask, alpha for a slope. The same graph when there is none.
 */
function rewriteMasks(
  g: Graph,
  accept: (y: string) => number | undefined,
  emit: (rw: Rewriter, at: Node, y: string, channels: number, floor: number, output: string) => void,
): Graph {
  const readers = readersOf(g.nodes);
  const masks = new Map<Node, { y: string; channels: number }>();
  for (const n of g.nodes) {
    if (n.op !== 'Cast' || n.domain !== '' || attrInt(n, 'to', 0) !== 1) continue;
    const gt = g.producer(n.inputs[0]);
    if (gt?.op !== 'Greater' || gt.domain !== '' || scalarConst(g, gt.inputs[1]) !== 0) continue;
    const y = gt.inputs[0];
    const channels = accept(y);
    if (channels !== undefined) masks.set(n, { y, channels });
  }
  if (masks.size === 0) return g;
  // A Clip(mask, alpha, 1) read by itself: folded into the mask.
  const slopes = new Map<Node, number>();
  for (const [n] of masks) {
    const r = readers.get(n.outputs[0]) ?? [];
    const c = r[0];
    if (r.length !== 1 || c.op !== 'Clip' || c.domain !== '' || c.inputs[0] !== n.outputs[0]) continue;
    const lo = c.inputs[1] ? scalarConst(g, c.inputs[1]) : undefined;
    const hi = c.inputs[2] ? scalarConst(g, c.inputs[2]) : undefined;
    if (lo !== undefined && hi === 1 && lo >= 0 && lo <= 1) slopes.set(c, lo);
  }
  // The masks whose Clip takes their place.
  const folded = new Set([...slopes.keys()].map((c) => g.producer(c.inputs[0])!));
  return Rewriter.rebuild(g, (rw, n) => {
    const m = masks.get(n);
    if (m && !folded.has(n)) emit(rw, n, m.y, m.channels, 0, n.outputs[0]);
    else if (slopes.has(n)) {
      const mask = masks.get(g.producer(n.inputs[0])!)!;
      emit(rw, n, mask.y, mask.channels, slopes.get(n)!, n.outputs[0]);
    } else return folded.has(n);
    return true;
  });
}

/**
 * The channel count of `v` when it is a value onnxruntime keeps in NCHWc: a float32 image feature
 * map [N, 16k, H, W] with H, W > 1 (or unknown), or dense values as columns [1, 16k, batch, 1]
 * (columns.ts); undefined otherwise.
 */
function blockedMap(g: Graph, v: string): number | undefined {
  const shape = g.shape(v);
  if (g.dtype(v) !== 'float32' || shape.length !== 4 || typeof shape[1] !== 'number' || shape[1] % 16 !== 0) return undefined;
  if (shape[0] === 1 && shape[3] === 1) return shape[1];
  if ((typeof shape[2] === 'number' && shape[2] <= 1) || (typeof shape[3] === 'number' && shape[3] <= 1)) return undefined;
  return shape[1];
}

/**
 * `g` with each product of a feature map [N, 16k, H, W] (H, W > 1) and a scalar constant, Mul(v, c),
 * computed as a depthwise 1x1 Conv with weight c: the same products, rounded the same way. The
 * reverse-mode graph scales by constants where the forward pass averages (AveragePool's gradient:
 * dy / 4 before a nearest upsampling) or upsamples (a nearest upsampling's gradient: 4 times an
 * AveragePool). onnxruntime runs a Mul on its blocked NCHWc layout only when both factors are in
 * it, never for a constant, so each such Mul cost a reorder of v to NCHW and of the product back;
 * a Conv runs on NCHWc. The same graph when there is no such product.
 */
export function nchwcScales(g: Graph): Graph {
  const scales = new Map<Node, { v: string; c: number; channels: number }>();
  for (const n of g.nodes) {
    if (n.op !== 'Mul' || n.domain !== '') continue;
    for (const k of [0, 1]) {
      const c = scalarConst(g, n.inputs[1 - k]);
      const channels = blockedMap(g, n.inputs[k]);
      if (c === undefined || channels === undefined) continue;
      scales.set(n, { v: n.inputs[k], c, channels });
      break;
    }
  }
  if (scales.size === 0) return g;
  return Rewriter.rebuild(g, (rw, n) => {
    const s = scales.get(n);
    if (!s) return false;
    const w = rw.constant(`${n.name}/scale_w`, { dtype: 'float32', dims: [s.channels, 1, 1, 1], data: new Float32Array(s.channels).fill(s.c) });
    rw.emit(n.name, 'Conv', [s.v, w], { group: int(s.channels), kernel_shape: ints([1, 1]) }, n.outputs[0]);
    return true;
  });
}
