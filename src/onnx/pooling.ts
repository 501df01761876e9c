/**
 * Average pooling folded into the convolution before it. A Conv with constant weights, stride 1,
 * whose output an s x s AveragePool of stride s alone reads (SNGAN's and BigGAN's discriminator
 * blocks: `avg_pool2d(conv(h), 2)`), is one Conv of stride s whose kernel is the mean of the
 * s^2 shifted copies of the layer's kernel: output (i, j) averages the layer's outputs at
 * (s i + a, s j + b), each a sum over the input window shifted by (a, b), so it sums the input
 * window of size k + s - 1 with those weights, under the layer's own padding and bias. A 3x3
 * kernel and a 2x2 pooling become one 4x4 kernel of stride 2: 16 multiply-adds per output and
 * input channel where the Conv at full resolution took 4 x 9 = 36, 2.25 times fewer; the
 * full-resolution map and the pooling's pass over it go. The output grid is the same
 * (floor((H + pads - k - s + 1) / s) + 1 both ways). Applied where models are composed
 * (`inline`), before differentiation, so that the gradient gains as much (its input gradient is
 * a strided ConvTranspose, which the phase rewrite runs as s^2 Convs). The sums are rounded
 * differently (the 1/s^2 is in the weights), so the values agree to float32 rounding, not bit
 * for bit.
 */
import { attrInt, attrInts, attrString, type Graph, ints, type Node, readOnce } from './graph.js';
import { convWindow } from './ops/conv.js';
import { Rewriter } from './rewriter.js';

/** The pooling factor s when `pool` is an s x s AveragePool of stride s without padding over a 4-D value, else undefined. */
function plainPooling(g: Graph, pool: Node): number | undefined {
  if (pool.op !== 'AveragePool' || pool.domain !== '' || g.rank(pool.inputs[0]) !== 4) return undefined;
  const k = attrInts(pool, 'kernel_shape');
  const strides = attrInts(pool, 'strides') ?? [1, 1];
  const pads = attrInts(pool, 'pads') ?? [0, 0, 0, 0];
  const dilations = attrInts(pool, 'dilations') ?? [1, 1];
  const autoPad = attrString(pool, 'auto_pad', 'NOTSET');
  if (k?.length !== 2 || k[0] !== k[1] || k[0] < 2) return undefined;
  if (strides.some((v) => v !== k[0]) || pads.some((v) => v !== 0) || dilations.some((v) => v !== 1)) return undefined;
  if ((autoPad !== 'NOTSET' && autoPad !== 'VALID') || attrInt(pool, 'ceil_mode', 0) !== 0) return undefined;
  return k[0];
}

/** Whether `pad` is a Pad that adds nothing: constant mode, all pads constant zeros. */
function zeroPad(g: Graph, pad: Node): boolean {
  if (pad.op !== 'Pad' || pad.domain !== '' || attrString(pad, 'mode', 'constant') !== 'constant') return false;
  // Opset 11+: pads as the second input (axes, opset 18, only narrow them); before, an attribute.
  const pads = pad.inputs[1] ? g.constValue(pad.inputs[1]) : undefined;
  const values = pads ? Array.from(pads.data as ArrayLike<number | bigint>, Number) : attrInts(pad, 'pads');
  return values?.every((v) => v === 0) === true;
}

/** The folded kernel [Cout, Cin / group, kh + s - 1, kw + s - 1] of a Conv `conv` followed by an s x s pooling, or undefined when `conv` cannot be folded. */
function foldedKernel(g: Graph, conv: Node, s: number): { data: Float32Array; dims: number[]; pads: number[] } | undefined {
  if (conv.op !== 'Conv' || conv.domain !== '') return undefined;
  const w = g.constValue(conv.inputs[1]);
  if (w?.dtype !== 'float32' || w.dims.length !== 4) return undefined;
  if (conv.inputs[2] && g.constValue(conv.inputs[2])?.dtype !== 'float32') return undefined;
  const strides = attrInts(conv, 'strides') ?? [1, 1];
  const dilations = attrInts(conv, 'dilations') ?? [1, 1];
  const autoPad = attrString(conv, 'auto_pad', 'NOTSET');
  if (strides.some((v) => v !== 1) || dilations.some((v) => v !== 1) || (autoPad !== 'NOTSET' && autoPad !== 'VALID')) return undefined;
  const [cout, cin, kh, kw] = w.dims;
  const fh = kh + s - 1;
  const fw = kw + s - 1;
  const src = w.data as Float32Array;
  const data = new Float32Array(cout * cin * fh * fw);
  const scale = 1 / (s * s);
  for (let oc = 0; oc < cout * cin; oc++) {
    for (let u = 0; u < fh; u++) {
      for (let v = 0; v < fw; v++) {
        // Taps (u - a, v - b) of the layer's kernel, over the pooling's offsets (a, b).
        let sum = 0;
        for (let a = 0; a < s; a++) {
          const t = u - a;
          if (t < 0 || t >= kh) continue;
          for (let b = 0; b < s; b++) {
            const r = v - b;
            if (r >= 0 && r < kw) sum += src[(oc * kh + t) * kw + r];
          }
        }
        data[(oc * fh + u) * fw + v] = sum * scale;
      }
    }
  }
  // The layer's own padding (explicit, or none under VALID).
  return { data, dims: [cout, cin, fh, fw], pads: convWindow(conv, [kh, kw], []).pads };
}

/**
 * `g` with each Conv (constant float32 weights and bias, stride and dilation 1, explicit or no
 * padding) whose output only an s x s AveragePool of stride s (no padding, floor mode) reads,
 * directly or through a Pad of zeros (as PyTorch exports avg_pool2d), computed as one Conv of
 * stride s with the folded kernel (see the file's comment). The same graph when there is none.
 */
export function foldPooling(g: Graph): Graph {
  const single = readOnce(g);
  const folds = new Map<Node, { conv: Node; kernel: { data: Float32Array; dims: number[]; pads: number[] }; s: number; pad?: Node }>();
  for (const pool of g.nodes) {
    const s = plainPooling(g, pool);
    if (s === undefined) continue;
    // PyTorch exports avg_pool2d as a Pad of zeros, then the pooling: looked through.
    const p = g.producer(pool.inputs[0]);
    const pad = p && zeroPad(g, p) && single(pool.inputs[0]) ? p : undefined;
    const v = pad ? pad.inputs[0] : pool.inputs[0];
    const conv = g.producer(v);
    if (!conv || !single(v)) continue;
    const kernel = foldedKernel(g, conv, s);
    if (kernel) folds.set(pool, { conv, kernel, s, pad });
  }
  if (folds.size === 0) return g;
  const dropped = new Set([...folds.values()].flatMap((f) => (f.pad ? [f.conv, f.pad] : [f.conv])));
  return Rewriter.rebuild(g, (rw, n) => {
    if (dropped.has(n)) return true;
    const f = folds.get(n);
    if (!f) return false;
    const { conv, kernel, s } = f;
    const w = rw.constant(`${conv.name}/pooled_w`, { dtype: 'float32', dims: kernel.dims, data: kernel.data });
    const attrs: Node['attrs'] = {
      kernel_shape: ints(kernel.dims.slice(2)),
      strides: ints([s, s]),
      pads: ints(kernel.pads),
    };
    if (conv.attrs.group) attrs.group = conv.attrs.group;
    rw.emit(conv.name, 'Conv', [conv.inputs[0], w, ...conv.inputs.slice(2)], attrs, n.outputs[0]);
    return true;
  });
}
