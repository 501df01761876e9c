/**
 * Phase convolutions: layers whose output grid is s times their input's, computed as s^2
 * stride-1 Convs over the input, one per output phase (a, b) (output rows s m + a, columns
 * s n + b), then interleaved. Two layers have this form:
 * - a strided ConvTranspose with constant weights ("sub-pixel" convolution: the same
 *   multiply-adds, run by onnxruntime's blocked Conv kernels instead of a GEMM and col2im).
 *   Applied where graphs are compiled for onnxruntime-node's CPU kernels (`Session.create`),
 *   after differentiation, so that the backward ConvTransposes of strided Convs are rewritten too
 *   and the backward of a generator's layers stays one strided Conv. A ConvTranspose over a 1x1
 *   input (a DCGAN generator's first layer) becomes one Gemm;
 * - a Conv with constant weights after a nearest upsampling by an integer factor (SNGAN's and
 *   BigGAN's generator blocks): upsampled pixels repeat, so each phase sums the kernel's taps that
 *   fall on one input pixel, and a 3x3 kernel after a 2x upsampling becomes four 2x2 kernels over
 *   the input, 2.25 times fewer multiply-adds (a 1x1 kernel: the Conv before the upsampling, 4
 *   times fewer). Applied where models are composed (`inline`), before differentiation, so that
 *   the gradient gains as much.
 * With fewer than MIN_PHASE_CHANNELS output channels, one Conv computes all phases and Slices part
 * them (onnxruntime's blocked kernels pad each Conv's channels to their block of 8 or 16).
 */
import { attrInt, attrInts, type ConstTensor, type Graph, int, ints, type Node } from './graph.js';
import { convTransposeWindow, convWindow } from './ops/conv.js';
import { nearestReplication } from './ops/resize.js';
import { Rewriter } from './rewriter.js';

/** Output channels below which all phases run as one Conv. */
const MIN_PHASE_CHANNELS = 8;

/**
 * One phase along one axis: its kernel's taps, each the sum of the layer's kernel taps listed in
 * `taps[j]`, read from input m - before + j for output m (pads before + after = taps - 1).
 */
interface AxisPhase {
  taps: number[][];
  before: number;
  after: number;
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
 * The phases' kernels over both axes. `weight(o, i, th, tw)` reads the layer's kernel; `few`
 * (few output channels) asks for one Conv over all phases: phase r's taps sit at the start of a
 * window of the longest phase's length and, with the largest of the phases' pads before, its
 * output m is the Conv's m + offset, offset = that pad - its own.
 */
function planPhases(
  axes: AxisPhase[][],
  cout: number,
  cin: number,
  weight: (o: number, i: number, th: number, tw: number) => number,
  inSize: number[],
  few: boolean,
): PhasePlan {
  const s = axes[0].length;
  const tap = (ph: AxisPhase, pw: AxisPhase, o: number, i: number, u: number, v: number) => {
    let sum = 0;
    for (const th of ph.taps[u]) for (const tw of pw.taps[v]) sum += weight(o, i, th, tw);
    return sum;
  };
  if (few) {
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
              for (let v = 0; v < pw.taps.length; v++) data[((c * cin + i) * lh + u) * lw + v] = tap(ph, pw, o, i, u, v);
            }
          }
        }
      });
    });
    return { kernels: [{ dtype: 'float32', dims: [s * s * cout, cin, lh, lw], data }], pads: [[...before, ...after]], inSize, offsets };
  }
  const kernels: ConstTensor[] = [];
  const pads: number[][] = [];
  for (const ph of axes[0]) {
    for (const pw of axes[1]) {
      const jh = ph.taps.length;
      const jw = pw.taps.length;
      const data = new Float32Array(cout * cin * jh * jw);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) {
          for (let u = 0; u < jh; u++) for (let v = 0; v < jw; v++) data[((o * cin + i) * jh + u) * jw + v] = tap(ph, pw, o, i, u, v);
        }
      }
      kernels.push({ dtype: 'float32', dims: [cout, cin, jh, jw], data });
      pads.push([ph.before, pw.before, ph.after, pw.after]);
    }
  }
  return { kernels, pads, inSize };
}

/**
 * Emits the plan's Convs over x and their interleaving into `y`. `bias`: the layer's bias (a value
 * name, with its constant data, which one Conv over all phases needs).
 */
function emitPhases(rw: Rewriter, base: string, x: string, plan: PhasePlan, bias: { name: string; data?: Float32Array } | undefined, y: string): void {
  const [h, w] = plan.inSize;
  let phases: string[];
  let s: number;
  if (plan.offsets) {
    const offsets = plan.offsets;
    const kernel = plan.kernels[0];
    s = offsets[0].length;
    const cout = kernel.dims[0] / (s * s);
    const b = bias?.data ? [rw.constant(`${base}/phases_b`, tiled(bias.data, s * s))] : [];
    const all = rw.emit(base, 'Conv', [x, rw.constant(`${base}/phases_w`, kernel), ...b], {
      pads: ints(plan.pads[0]),
      kernel_shape: ints(kernel.dims.slice(2)),
    });
    const axes = rw.int64s(`${base}/slice_axes`, [1, 2, 3]);
    phases = offsets[0].flatMap((oh, a) =>
      offsets[1].map((ow, b) => {
        const c = (a * s + b) * cout;
        const starts = rw.int64s(`${base}/slice_starts`, [c, oh, ow]);
        return rw.emit(base, 'Slice', [all, starts, rw.int64s(`${base}/slice_ends`, [c + cout, oh + h, ow + w]), axes]);
      }),
    );
  } else {
    s = Math.round(Math.sqrt(plan.kernels.length));
    const b = bias ? [bias.name] : [];
    phases = plan.kernels.map((kernel, i) =>
      rw.emit(base, 'Conv', [x, rw.constant(`${base}/phase${i}_w`, kernel), ...b], { pads: ints(plan.pads[i]), kernel_shape: ints(kernel.dims.slice(2)) }),
    );
  }
  // Interleave: output (s i + a, s j + b) is phase (a, b)'s (i, j). The column phases of a row
  // phase are stacked on a new last axis ([N, C, H, W, s], read as [N, C, H, 1, s W]), then the
  // row phases on axis 3 ([N, C, H, s, s W], read as [N, C, s H, s W]): two Concats (block
  // copies), where onnxruntime's DepthToSpace took 3-4 times as long on these shapes (2 threads).
  const column = rw.int64s(`${base}/column_shape`, [0, 0, 0, w, 1]);
  const row = rw.int64s(`${base}/row_shape`, [0, 0, h, 1, s * w]);
  const rows = Array.from({ length: s }, (_, a) => {
    const cols = phases.slice(a * s, (a + 1) * s).map((p) => rw.emit(base, 'Reshape', [p, column]));
    return rw.emit(base, 'Reshape', [rw.emit(base, 'Concat', cols, { axis: int(4) }), row]);
  });
  rw.emit(base, 'Reshape', [rw.emit(base, 'Concat', rows, { axis: int(3) }), rw.int64s(`${base}/out_shape`, [0, 0, s * h, s * w])], {}, y);
}

/** `v` repeated `times` times, as a float32 constant. */
function tiled(v: Float32Array, times: number): ConstTensor {
  const data = new Float32Array(v.length * times);
  for (let k = 0; k < times; k++) data.set(v, k * v.length);
  return { dtype: 'float32', dims: [data.length], data };
}

/** A layer's bias for emitPhases: its name, and its data when constant; undefined without one. */
function biasOf(g: Graph, n: Node): { name: string; data?: Float32Array } | undefined {
  const b = n.inputs[2];
  if (!b) return undefined;
  const c = g.constValue(b);
  return { name: b, data: c?.dtype === 'float32' ? (c.data as Float32Array) : undefined };
}

/** Whether the few-channel plan can run: its bias, if any, must be a float32 constant. */
function fewChannels(g: Graph, n: Node, cout: number): boolean | undefined {
  if (cout >= MIN_PHASE_CHANNELS) return false;
  return n.inputs[2] && g.constValue(n.inputs[2])?.dtype !== 'float32' ? undefined : true;
}

/**
 * The phases of a 2-D ConvTranspose with constant weight [Cin, Cout, kh, kw], equal strides
 * s > 1, no dilation or groups, and an output of s times the input on both axes; undefined
 * otherwise. Along one axis, output s m + r sums x[m + q - j] w[s j + rho] over j < J, with
 * r + p = s q + rho and J = ceil((k - rho) / s): a correlation over x with the taps
 * w[s (J - 1 - u) + rho] and J - 1 - q zeros of padding before.
 */
function convTransposePhases(g: Graph, n: Node): PhasePlan | undefined {
  const w = g.constValue(n.inputs[1]);
  const xs = g.shape(n.inputs[0]);
  const ys = g.shape(n.outputs[0]);
  if (w?.dtype !== 'float32' || w.dims.length !== 4 || xs.length !== 4) return undefined;
  const strides = attrInts(n, 'strides') ?? [1, 1];
  const dil = attrInts(n, 'dilations') ?? [1, 1];
  const s = strides[0];
  if (s < 2 || strides[1] !== s || dil.some((d) => d !== 1) || attrInt(n, 'group', 1) !== 1) return undefined;
  const [cin, cout, kh, kw] = w.dims;
  const k = [kh, kw];
  const inSize = [xs[2], xs[3]];
  const outSize = [ys[2], ys[3]];
  if (![...inSize, ...outSize].every((d) => typeof d === 'number')) return undefined;
  const { pads } = convTransposeWindow(n, k, inSize as number[]).win;
  if (outSize.some((o, a) => o !== s * (inSize[a] as number)) || k.some((v) => v < s)) return undefined;
  const axes = [0, 1].map((a) =>
    Array.from({ length: s }, (_, r): AxisPhase => {
      const q = Math.floor((r + pads[a]) / s);
      const rho = (r + pads[a]) % s;
      const J = Math.ceil((k[a] - rho) / s);
      return { taps: Array.from({ length: J }, (_, u) => [s * (J - 1 - u) + rho]), before: J - 1 - q, after: q };
    }),
  );
  if (axes.some((phases) => phases.some((p) => p.before < 0 || p.after < 0))) return undefined;
  const few = fewChannels(g, n, cout);
  if (few === undefined) return undefined;
  const src = w.data as Float32Array;
  return planPhases(axes, cout, cin, (o, i, th, tw) => src[((i * cout + o) * kh + th) * kw + tw], inSize as number[], few);
}

/** A ConvTranspose over a 1x1 input with no padding: [N, Cin] @ w[Cin, Cout k...] + bias, reshaped. */
function isPointInput(g: Graph, n: Node): boolean {
  const w = g.constValue(n.inputs[1]);
  const xs = g.shape(n.inputs[0]);
  if (w?.dtype !== 'float32' || xs.length < 3 || !xs.slice(2).every((d) => d === 1)) return false;
  const { pads } = convTransposeWindow(n, w.dims.slice(2), xs.slice(2) as number[]).win;
  const outPad = attrInts(n, 'output_padding') ?? [];
  const dil = attrInts(n, 'dilations') ?? [];
  return (
    pads.every((p) => p === 0) &&
    outPad.every((p) => p === 0) &&
    dil.every((d) => d === 1) &&
    attrInt(n, 'group', 1) === 1 &&
    (!n.inputs[2] || g.constValue(n.inputs[2])?.dtype === 'float32')
  );
}

/** `g` with its ConvTransposes with constant weights rewritten as Gemm or phase Convs (the same graph when there is none). */
export function rewriteConvTransposes(g: Graph): Graph {
  const plans = new Map<Node, 'gemm' | PhasePlan>();
  for (const n of g.nodes) {
    if (n.op !== 'ConvTranspose' || n.domain !== '') continue;
    if (isPointInput(g, n)) plans.set(n, 'gemm');
    else {
      const p = convTransposePhases(g, n);
      if (p) plans.set(n, p);
    }
  }
  if (plans.size === 0) return g;
  return Rewriter.rebuild(g, (rw, n) => {
    const plan = plans.get(n);
    if (!plan) return false;
    const [x, wName, bName] = n.inputs;
    const y = n.outputs[0];
    if (plan === 'gemm') {
      const w = g.constValue(wName)!;
      const [cin, cout, ...k] = w.dims;
      const taps = k.reduce((a, v) => a * v, 1);
      const flat = rw.emit(n.name, 'Flatten', [x], { axis: int(1) });
      const inputs = [flat, rw.constant(`${n.name}/gemm_w`, { dtype: 'float32', dims: [cin, cout * taps], data: w.data })];
      if (bName) {
        const b = g.constValue(bName)!.data as Float32Array;
        const c = new Float32Array(cout * taps);
        for (let o = 0; o < cout; o++) c.fill(b[o], o * taps, (o + 1) * taps);
        inputs.push(rw.constant(`${n.name}/gemm_b`, { dtype: 'float32', dims: [cout * taps], data: c }));
      }
      rw.emit(n.name, 'Reshape', [rw.emit(n.name, 'Gemm', inputs), rw.int64s(`${n.name}/shape`, [0, cout, ...k])], {}, y);
    } else emitPhases(rw, n.name, x, plan, biasOf(g, n), y);
    return true;
  });
}

/**
 * The phases of a 2-D Conv with constant weight [Cout, Cin, kh, kw], stride 1, no dilation or
 * groups, reading an upsampling of its input by s on both axes that keeps its size (pads before
 * + after = k - 1); undefined otherwise, or 'commute' for a 1x1 kernel without pads. Along one
 * axis, output s m + r sums u[s m + r - p + t] w[t] over t < k, and u[i] = x[floor(i / s)]: the
 * tap t reads x[m + floor((r - p + t) / s)].
 */
function upsampledConvPhases(g: Graph, n: Node, s: number, inSize: number[]): PhasePlan | 'commute' | undefined {
  const w = g.constValue(n.inputs[1]);
  if (w?.dtype !== 'float32' || w.dims.length !== 4 || attrInt(n, 'group', 1) !== 1) return undefined;
  if ((attrInts(n, 'strides') ?? []).some((v) => v !== 1) || (attrInts(n, 'dilations') ?? []).some((v) => v !== 1)) return undefined;
  const [cout, cin, kh, kw] = w.dims;
  const k = [kh, kw];
  const { pads } = convWindow(
    n,
    k,
    inSize.map((d) => d * s),
  );
  if (k.some((v, a) => pads[a] + pads[a + 2] !== v - 1)) return undefined;
  if (kh === 1 && kw === 1) return 'commute';
  const axes = [0, 1].map((a) =>
    Array.from({ length: s }, (_, r): AxisPhase => {
      const offset = (t: number) => Math.floor((r - pads[a] + t) / s);
      const first = offset(0);
      const taps: number[][] = Array.from({ length: offset(k[a] - 1) - first + 1 }, () => []);
      for (let t = 0; t < k[a]; t++) taps[offset(t) - first].push(t);
      return { taps, before: -first, after: offset(k[a] - 1) };
    }),
  );
  if (axes.some((phases) => phases.some((p) => p.before < 0 || p.after < 0))) return undefined;
  const few = fewChannels(g, n, cout);
  if (few === undefined) return undefined;
  const src = w.data as Float32Array;
  return planPhases(axes, cout, cin, (o, i, th, tw) => src[((o * cin + i) * kh + th) * kw + tw], inSize, few);
}

/**
 * `g` with each Conv with constant weights that reads a nearest upsampling by an integer factor
 * computed from the upsampling's input (see the file's comment); the upsampling stays for its
 * other readers. The same graph when there is none.
 */
export function foldUpsampling(g: Graph): Graph {
  const plans = new Map<Node, { up: Node; plan: PhasePlan | 'commute' }>();
  for (const n of g.nodes) {
    if (n.op !== 'Conv' || n.domain !== '' || g.rank(n.inputs[0]) !== 4) continue;
    const up = g.producer(n.inputs[0]);
    if (!up || (up.op !== 'Resize' && up.op !== 'Upsample') || up.domain !== '') continue;
    const factors = nearestReplication(g, up);
    const xs = g.shape(up.inputs[0]);
    if (factors?.[0] !== 1 || factors[1] !== 1 || factors[2] < 2 || factors[3] !== factors[2]) continue;
    if (!xs.slice(2).every((d) => typeof d === 'number')) continue;
    const plan = upsampledConvPhases(g, n, factors[2], xs.slice(2) as number[]);
    if (plan) plans.set(n, { up, plan });
  }
  if (plans.size === 0) return g;
  return Rewriter.rebuild(g, (rw, n) => {
    const p = plans.get(n);
    if (!p) return false;
    const x = p.up.inputs[0];
    if (p.plan === 'commute') {
      // A 1x1 Conv commutes with the upsampling: the Conv on the input, then the upsampling.
      const conv = rw.emit(n.name, 'Conv', [x, ...n.inputs.slice(1)], { ...n.attrs });
      rw.out.addNode({
        ...p.up,
        name: rw.unique(`${n.name}/${p.up.op}_node`),
        inputs: [conv, ...p.up.inputs.slice(1)],
        outputs: [n.outputs[0]],
        attrs: { ...p.up.attrs },
      });
    } else emitPhases(rw, n.name, x, p.plan, biasOf(g, n), n.outputs[0]);
    return true;
  });
}
