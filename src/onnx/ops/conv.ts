/** Spatial operators: Conv, ConvTranspose, AveragePool, GlobalAveragePool, MaxPool. */
import { attrInt, attrInts, attrString, int, ints, str, type Dim, type Graph, type Node } from '../graph.js';
import type { OpDef } from './types.js';
import { fmtShape, isStatic, shapeError, unsupported } from './util.js';

interface Window {
  /** Spatial rank. */
  n: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** begin pads then end pads, explicit (auto_pad resolved). */
  pads: number[];
}

function spatial(node: Node, s: readonly Dim[]): number[] {
  const sp = s.slice(2);
  if (!sp.every((d) => typeof d === 'number')) unsupported(node, 'static spatial dimensions', fmtShape(s));
  return sp as number[];
}

/** Resolve kernel/stride/dilation/pads (including auto_pad) for a forward window over `inSize`. */
export function convWindow(node: Node, kernel: number[], inSize: number[]): Window {
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(n).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(inSize[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - inSize[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i];
    }
  } else if (autoPad !== 'NOTSET') unsupported(node, 'auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER', autoPad);
  return { n, kernel, strides, dilations, pads };
}

function convOut(w: Window, inSize: number[], ceil = false): number[] {
  return inSize.map((d, i) => {
    const span = d + w.pads[i] + w.pads[i + w.n] - w.dilations[i] * (w.kernel[i] - 1) - 1;
    return (ceil ? Math.ceil(span / w.strides[i]) : Math.floor(span / w.strides[i])) + 1;
  });
}

function windowAttrs(w: Window, group = 1) {
  return { strides: ints(w.strides), dilations: ints(w.dilations), pads: ints(w.pads), group: int(group) };
}

function perm01(n: number): number[] {
  return [1, 0, ...Array.from({ length: n }, (_, i) => i + 2)];
}

/**
 * Swap the batch and channel axes of [N, C, ...] for a weight gradient computed as a Conv with
 * `group` groups, whose groups must pair channel group k of both operands:
 * 'outer' gives [C/group, group*N, ...] (the Conv's input, channel blocks of N per group),
 * 'inner' gives [C, N, ...] (the Conv's weight, output channels in group order). group 1: a plain swap.
 */
function groupedSwap(g: Graph, node: Node, v: string, group: number, role: 'outer' | 'inner'): string {
  const n = g.rank(v) - 2;
  if (group === 1) return g.op('Transpose', [v], { perm: ints(perm01(n)) });
  const s = g.shape(v);
  const c = s[1];
  if (typeof c !== 'number' || !s.slice(2).every((d) => typeof d === 'number')) {
    unsupported(node, 'static channel and spatial sizes for a grouped weight gradient', fmtShape(s));
  }
  const sp = s.slice(2) as number[];
  const split = g.op('Reshape', [v, g.int64s([0, group, c / group, ...sp])]);
  const rest = sp.map((_, i) => i + 3);
  if (role === 'outer') {
    const t = g.op('Transpose', [split], { perm: ints([2, 1, 0, ...rest]) });
    return g.op('Reshape', [t, g.int64s([c / group, -1, ...sp])]);
  }
  const t = g.op('Transpose', [split], { perm: ints([1, 2, 0, ...rest]) });
  return g.op('Reshape', [t, g.int64s([c, -1, ...sp])]);
}

/** Keep the first `kernel` entries of each spatial axis of a [A, B, ...] tensor, then swap A and B. */
function cropAndSwap(g: Graph, x: string, kernel: number[]): string {
  const s = g.shape(x).slice(2) as number[];
  const n = kernel.length;
  let y = x;
  if (s.some((d, i) => d !== kernel[i])) {
    y = g.op('Slice', [x, g.int64s(new Array<number>(n).fill(0)), g.int64s(kernel), g.int64s(kernel.map((_, i) => i + 2))]);
  }
  return g.op('Transpose', [y], { perm: ints(perm01(n)) });
}

/** No padding, unit dilation, one group: the window positions map one-to-one onto kernel taps. */
function isDenseWindow(win: Window, group: number): boolean {
  return group === 1 && win.pads.every((p) => p === 0) && win.dilations.every((d) => d === 1);
}
function reshapeTo(g: Graph, x: string, shape: number[]): string {
  return g.op('Reshape', [x, g.int64s(shape)]);
}
/** [N, prod(dims)] -> [N, ...dims] (N kept from the input). */
function unflatten(g: Graph, x: string, dims: number[]): string {
  return g.op('Reshape', [x, g.int64s([0, ...dims])]);
}
function biasGrad(g: Graph, dy: string): string {
  const r = g.rank(dy);
  return g.op('ReduceSum', [dy, g.int64s([0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)])], { keepdims: int(0) });
}

/** A Conv whose window is one position: kernel 1, stride 1, no padding. */
function isPointwise(node: Node, ws: readonly Dim[]): boolean {
  const kernel = attrInts(node, 'kernel_shape') ?? ws.slice(2);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  return (
    kernel.every((k) => k === 1) &&
    (attrInts(node, 'strides') ?? []).every((v) => v === 1) &&
    (attrInts(node, 'pads') ?? []).every((v) => v === 0) &&
    (autoPad === 'NOTSET' || autoPad === 'VALID')
  );
}

function convInfo(g: Graph, node: Node) {
  const [x, w] = node.inputs;
  const xs = g.shape(x);
  const ws = g.shape(w);
  if (xs.length < 3 || ws.length !== xs.length) shapeError(node, 'input [N,C,...] and weight of the same rank', `${fmtShape(xs)} and ${fmtShape(ws)}`);
  const kernel = attrInts(node, 'kernel_shape') ?? spatial(node, ws);
  const inSize = spatial(node, xs);
  return { x, w, xs, ws, kernel, inSize, group: attrInt(node, 'group', 1) };
}

const conv: OpDef = {
  op: 'Conv',
  infer(g, node) {
    const xs = g.shape(node.inputs[0]);
    const ws = g.shape(node.inputs[1]);
    const group = attrInt(node, 'group', 1);
    if (typeof xs[1] === 'number' && typeof ws[1] === 'number' && xs[1] !== ws[1] * group) {
      shapeError(node, `input channels ${ws[1] * group} (weight ${fmtShape(ws)}, group ${group})`, `${xs[1]} (input ${fmtShape(xs)})`);
    }
    if (xs.length >= 3 && xs.length === ws.length && isPointwise(node, ws)) {
      // A 1x1 window with stride 1 and no padding keeps the spatial sizes, symbolic ones too
      // (fuse.ts's dense layers as Convs over [1, features, batch, 1]).
      return [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], ws[0], ...xs.slice(2)] }];
    }
    const { kernel, inSize } = convInfo(g, node);
    const win = convWindow(node, kernel, inSize);
    return [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], ws[0], ...convOut(win, inSize)] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined) return [undefined, undefined, undefined];
    const { x, w, kernel, inSize, group } = convInfo(g, node);
    const win = convWindow(node, kernel, inSize);
    const outSize = g.shape(dy).slice(2) as number[];
    let dx: string | undefined;
    if (ctx.needs(0) && isDenseWindow(win, group) && outSize.every((d) => d === 1) && inSize.every((d, i) => d === kernel[i])) {
      // The window covers the whole input (e.g. a DCGAN discriminator's last layer): the input
      // gradient is the matrix product dy[N, Cout] @ w[Cout, Cin*K], much faster than ConvTranspose.
      const ws = g.shape(w);
      if (isStatic(ws)) dx = unflatten(g, g.op('Gemm', [g.op('Flatten', [dy], { axis: int(1) }), reshapeTo(g, w, [ws[0], -1])]), [ws[1], ...kernel]);
    }
    if (ctx.needs(0) && dx === undefined) dx = flippedKernelGrad(g, dy, w, win, group);
    if (ctx.needs(0) && dx === undefined) {
      const outputPadding = inSize.map(
        (d, i) => d - ((outSize[i] - 1) * win.strides[i] - win.pads[i] - win.pads[i + win.n] + win.dilations[i] * (kernel[i] - 1) + 1),
      );
      dx = g.op('ConvTranspose', [dy, w], { ...windowAttrs(win, group), kernel_shape: ints(kernel), output_padding: ints(outputPadding) });
    }
    let dw: string | undefined;
    if (ctx.needs(1)) {
      // dw[m, c] = sum over n of x[n, c] (correlated with) dy[n, m]: a Conv with the batch as channels.
      const xt = groupedSwap(g, node, x, group, 'outer');
      const dyt = groupedSwap(g, node, dy, group, 'inner');
      const full = g.op('Conv', [xt, dyt], { strides: ints(win.dilations), dilations: ints(win.strides), pads: ints(win.pads), group: int(group) });
      dw = cropAndSwap(g, full, kernel);
    }
    const db = node.inputs[2] && ctx.needs(2) ? biasGrad(g, dy) : undefined;
    return [dx, dw, db];
  },
};

/**
 * The input gradient of a stride-1 Conv with constant weights as a forward Conv: the kernel
 * transposed (in and out channels) and flipped, pads d (k - 1) - p. onnxruntime's blocked (NCHWc)
 * Conv kernels run it about twice as fast as the equivalent ConvTranspose. Undefined when it does
 * not apply (strides, groups, computed weights, pads beyond the kernel's reach).
 */
function flippedKernelGrad(g: Graph, dy: string, w: string, win: Window, group: number): string | undefined {
  const wc = g.constValue(w);
  if (group !== 1 || !wc || wc.dtype !== 'float32' || win.strides.some((s) => s !== 1)) return undefined;
  const n = win.n;
  const pads = win.pads.map((p, i) => win.dilations[i % n] * (win.kernel[i % n] - 1) - p);
  if (pads.some((p) => p < 0)) return undefined;
  const [m, c, ...k] = wc.dims;
  const taps = k.reduce((a, b) => a * b, 1);
  const src = wc.data as Float32Array;
  const flipped = new Float32Array(src.length);
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < c; i++) {
      const from = (o * c + i) * taps;
      const to = (i * m + o) * taps;
      for (let t = 0; t < taps; t++) flipped[to + t] = src[from + taps - 1 - t];
    }
  }
  const kernel = g.float32(flipped, [c, m, ...k]);
  return g.op('Conv', [dy, kernel], { strides: ints(win.strides), dilations: ints(win.dilations), pads: ints(pads), kernel_shape: ints(k) });
}

/** Resolve a ConvTranspose's window (pads from auto_pad or output_shape included), its output padding and output size. */
export function convTransposeWindow(node: Node, kernel: number[], inSize: number[]) {
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(n).fill(1);
  const outputPadding = attrInts(node, 'output_padding') ?? new Array<number>(n).fill(0);
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const full = inSize.map((d, i) => strides[i] * (d - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1);
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? outputShape.slice(-n) : inSize.map((d, i) => d * strides[i]);
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const total = full[i] - target[i];
      if (total < 0) unsupported(node, 'an output_shape reachable without negative padding', `[${target.join(',')}]`);
      const half = Math.floor(total / 2);
      // ONNX: SAME_UPPER puts the smaller half at the start, otherwise at the end.
      pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[i + n] = total - pads[i];
    }
  } else if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  const win: Window = { n, kernel, strides, dilations, pads };
  return { win, outputPadding, outSize: full.map((f, i) => f - pads[i] - pads[i + n]) };
}

const convTranspose: OpDef = {
  op: 'ConvTranspose',
  infer(g, node) {
    const { xs, ws, kernel, inSize, group } = convInfo(g, node);
    if (typeof xs[1] === 'number' && typeof ws[0] === 'number' && xs[1] !== ws[0]) {
      shapeError(node, `input channels ${ws[0]} (weight ${fmtShape(ws)})`, `${xs[1]} (input ${fmtShape(xs)})`);
    }
    const { outSize } = convTransposeWindow(node, kernel, inSize);
    const cout = typeof ws[1] === 'number' ? ws[1] * group : ws[1];
    return [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], cout, ...outSize] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined) return [undefined, undefined, undefined];
    const { x, w, kernel, inSize, group } = convInfo(g, node);
    const { win } = convTransposeWindow(node, kernel, inSize);
    let dx: string | undefined;
    const outSize = g.shape(dy).slice(2);
    const ws = g.shape(w);
    if (ctx.needs(0) && isDenseWindow(win, group) && inSize.every((d) => d === 1) && outSize.every((d, i) => d === kernel[i]) && isStatic(ws)) {
      // A 1x1 input spread over the whole kernel (e.g. a DCGAN generator's first layer): the input
      // gradient is dy[N, Cout*K] @ w[Cin, Cout*K]^T, much faster than a Conv with a 1x1 output.
      const flat = g.op('Gemm', [g.op('Flatten', [dy], { axis: int(1) }), reshapeTo(g, w, [ws[0], -1])], { transB: int(1) });
      dx = unflatten(g, flat, [ws[0], ...inSize]);
    } else if (ctx.needs(0)) dx = g.op('Conv', [dy, w], { ...windowAttrs(win, group), kernel_shape: ints(kernel) });
    let dw: string | undefined;
    if (ctx.needs(1)) {
      const dyt = groupedSwap(g, node, dy, group, 'outer');
      const xt = groupedSwap(g, node, x, group, 'inner');
      const full = g.op('Conv', [dyt, xt], { strides: ints(win.dilations), dilations: ints(win.strides), pads: ints(win.pads), group: int(group) });
      dw = cropAndSwap(g, full, kernel);
    }
    const db = node.inputs[2] && ctx.needs(2) ? biasGrad(g, dy) : undefined;
    return [dx, dw, db];
  },
};

function poolInfo(g: Graph, node: Node) {
  const xs = g.shape(node.inputs[0]);
  const inSize = spatial(node, xs);
  const kernel = attrInts(node, 'kernel_shape');
  if (!kernel) unsupported(node, 'kernel_shape', 'none');
  const win = convWindow(node, kernel, inSize);
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  return { xs, inSize, win, ceil, outSize: convOut(win, inSize, ceil) };
}

const averagePool: OpDef = {
  op: 'AveragePool',
  infer(g, node) {
    const { xs, outSize } = poolInfo(g, node);
    return [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], xs[1], ...outSize] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined || !ctx.needs(0)) return [undefined];
    const { xs, inSize, win, ceil, outSize } = poolInfo(g, node);
    if (ceil && convOut(win, inSize, false).some((d, i) => d !== outSize[i])) {
      unsupported(node, 'ceil_mode that does not change the output size, for differentiation', 'ceil_mode 1 with partial windows');
    }
    const kSize = win.kernel.reduce((a, b) => a * b, 1);
    const tiles = win.pads.every((p) => p === 0) && win.dilations.every((d) => d === 1) && inSize.every((d, i) => d === outSize[i] * win.kernel[i]);
    if (tiles && win.strides.every((s, i) => s === win.kernel[i])) {
      // Windows that tile the input (F.avg_pool2d(x, 2)): each input gets dy / k of its window,
      // nearest upsampling of dy, much faster than the depthwise ConvTranspose below.
      const scales = g.float32(Float32Array.from([1, 1, ...win.kernel]), [2 + win.n]);
      return [
        g.op('Resize', [g.op('Mul', [dy, g.scalar(1 / kSize)]), '', scales], {
          mode: str('nearest'),
          coordinate_transformation_mode: str('asymmetric'),
          nearest_mode: str('floor'),
        }),
      ];
    }
    const c = xs[1];
    if (typeof c !== 'number') unsupported(node, 'a static channel count for differentiation', fmtShape(xs));
    const includePad = attrInt(node, 'count_include_pad', 0) === 1;
    const hasPad = win.pads.some((p) => p > 0);
    let scaled: string;
    let kernelValue: number;
    if (!hasPad || includePad) {
      scaled = dy;
      kernelValue = 1 / kSize;
    } else {
      scaled = g.op('Div', [dy, g.float32(countMap(win, inSize, outSize), [1, 1, ...outSize])]);
      kernelValue = 1;
    }
    const kernel = g.float32(new Float32Array(c * kSize).fill(kernelValue), [c, 1, ...win.kernel]);
    const outputPadding = inSize.map(
      (d, i) => d - ((outSize[i] - 1) * win.strides[i] - win.pads[i] - win.pads[i + win.n] + win.dilations[i] * (win.kernel[i] - 1) + 1),
    );
    return [g.op('ConvTranspose', [scaled, kernel], { ...windowAttrs(win, c), kernel_shape: ints(win.kernel), output_padding: ints(outputPadding) })];
  },
};

/** Number of non-padding input elements under each pooling window. */
function countMap(win: Window, inSize: number[], outSize: number[]): Float32Array {
  const total = outSize.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let count = 1;
    for (let i = win.n - 1; i >= 0; i--) {
      const o = rem % outSize[i];
      rem = Math.floor(rem / outSize[i]);
      const start = o * win.strides[i] - win.pads[i];
      let k = 0;
      for (let j = 0; j < win.kernel[i]; j++) {
        const p = start + j * win.dilations[i];
        if (p >= 0 && p < inSize[i]) k++;
      }
      count *= k;
    }
    out[flat] = Math.max(count, 1);
  }
  return out;
}

const globalAveragePool: OpDef = {
  op: 'GlobalAveragePool',
  infer(g, node) {
    const xs = g.shape(node.inputs[0]);
    return [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], xs[1], ...xs.slice(2).map(() => 1)] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined || !ctx.needs(0)) return [undefined];
    const size = spatial(node, g.shape(node.inputs[0])).reduce((a, b) => a * b, 1);
    return [g.op('Expand', [g.op('Mul', [dy, g.scalar(1 / size)]), g.shapeOf(node.inputs[0])])];
  },
};

const maxPool: OpDef = {
  op: 'MaxPool',
  infer(g, node) {
    const { xs, outSize } = poolInfo(g, node);
    const out = [{ dtype: g.dtype(node.inputs[0]), shape: [xs[0], xs[1], ...outSize] }];
    if (node.outputs.length > 1) out.push({ dtype: 'int64', shape: [xs[0], xs[1], ...outSize] });
    return out;
  },
  /**
   * The incoming gradient goes to the first maximum of each window (PyTorch's convention for
   * ties), summed where windows overlap. For each kernel offset k, the strided slice x_k of the
   * (-inf padded) input holds the k-th element of every window; the mask "x_k equals the output
   * and no earlier offset did" selects dy, and one depthwise ConvTranspose with a one-hot kernel
   * per offset puts the masked gradients back in place.
   */
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined || !ctx.needs(0)) return [undefined];
    const { xs, inSize, win, outSize } = poolInfo(g, node);
    const c = xs[1];
    if (typeof c !== 'number') unsupported(node, 'a static channel count for differentiation', fmtShape(xs));
    const x = node.inputs[0];
    const y = node.outputs[0];
    const n = win.n;
    const axes = g.int64s(Array.from({ length: n }, (_, i) => i + 2));
    // The extent every window reaches (with ceil_mode a last window may pass the end pad).
    const cover = outSize.map((o, i) => (o - 1) * win.strides[i] + win.dilations[i] * (win.kernel[i] - 1) + 1);
    const endPad = inSize.map((d, i) => Math.max(0, cover[i] - win.pads[i] - d));
    const dtype = g.dtype(x);
    const padded = g.op('Pad', [x, g.int64s([0, 0, ...win.pads.slice(0, n), 0, 0, ...endPad]), g.scalar(-Infinity, dtype)], { mode: str('constant') });
    const kSize = win.kernel.reduce((a, b) => a * b, 1);
    const zero = g.scalar(0, dtype);
    const parts: string[] = [];
    let taken: string | undefined;
    for (let k = 0; k < kSize; k++) {
      const offset = unravel(k, win.kernel).map((j, i) => j * win.dilations[i]);
      const xk = g.op('Slice', [
        padded,
        g.int64s(offset),
        g.int64s(offset.map((o, i) => o + (outSize[i] - 1) * win.strides[i] + 1)),
        axes,
        g.int64s(win.strides),
      ]);
      const hit = g.op('Equal', [xk, y]);
      const first = taken === undefined ? hit : g.op('And', [hit, g.op('Not', [taken])]);
      taken = taken === undefined ? hit : g.op('Or', [taken, hit]);
      parts.push(g.op('Unsqueeze', [g.op('Where', [first, dy, zero]), g.int64s([2])]));
    }
    // [N, C, K, out...] -> [N, C K, out...]: group c of the ConvTranspose reads its K offsets.
    const stacked = g.op('Reshape', [g.op('Concat', parts, { axis: int(2) }), g.int64s([0, c * kSize, ...outSize])]);
    const oneHot = new Float32Array(c * kSize * kSize);
    for (let ch = 0; ch < c; ch++) for (let k = 0; k < kSize; k++) oneHot[(ch * kSize + k) * kSize + k] = 1;
    let dx = g.op('ConvTranspose', [stacked, g.float32(oneHot, [c * kSize, 1, ...win.kernel])], {
      strides: ints(win.strides),
      dilations: ints(win.dilations),
      group: int(c),
      kernel_shape: ints(win.kernel),
    });
    // dx covers [0, cover) of the padded input: pad what no window reached, then drop the pads.
    const tail = inSize.map((d, i) => Math.max(0, win.pads[i] + d - cover[i]));
    if (tail.some((t) => t > 0)) dx = g.op('Pad', [dx, g.int64s([0, 0, ...tail.map(() => 0), 0, 0, ...tail])], { mode: str('constant') });
    return [g.op('Slice', [dx, g.int64s(win.pads.slice(0, n)), g.int64s(inSize.map((d, i) => win.pads[i] + d)), axes])];
  },
};

/** Multi-index of `flat` in a row-major array of shape `dims`. */
function unravel(flat: number, dims: number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let i = dims.length - 1; i >= 0; i--) {
    idx[i] = flat % dims[i];
    flat = Math.floor(flat / dims[i]);
  }
  return idx;
}

export const convOps: OpDef[] = [conv, convTranspose, averagePool, globalAveragePool, maxPool];
