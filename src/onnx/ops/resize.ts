/**
 * Resize (opsets 11+) and Upsample. Every mode (nearest, linear, cubic) with every coordinate
 * transformation except tf_crop_and_resize is linear in the input and separable per axis: along
 * each resized spatial axis the output is A x with a constant [out, in] interpolation matrix, so
 * the gradient is A^T dy, applied as MatMuls. Integer nearest upscaling, the common case in GAN
 * generators, keeps a faster rule (sum over each replicated block).
 */
import { attrFloat, attrInt, attrString, constNumbers, ints, type Dim, type Graph, type Node } from '../graph.js';
import { RefineryError } from '../../errors.js';
import type { GradCtx, OpDef } from './types.js';
import { shapeValue } from './shape.js';
import { alongAxis, fmtShape, unsupported } from './util.js';

interface ResizeSpec {
  mode: 'nearest' | 'linear' | 'cubic';
  /** Output size per axis (static where the input's is, or scale 1). */
  out: Dim[];
  /** Scale per axis (out / in when sizes are given). */
  scales: number[];
}

function spec(g: Graph, node: Node): ResizeSpec {
  const xs = g.shape(node.inputs[0]);
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') unsupported(node, "mode 'nearest', 'linear' or 'cubic'", mode);
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (node.op === 'Upsample') {
    scales = node.inputs[1]
      ? constNumbers(g.constValue(node.inputs[1]) ?? unsupported(node, 'constant scales', 'computed scales'))
      : node.attrs.scales?.type === 'floats'
        ? node.attrs.scales.v
        : undefined;
  } else {
    const sc = node.inputs[2] ? g.constValue(node.inputs[2]) : undefined;
    if (node.inputs[2] && !sc) unsupported(node, 'constant scales', 'computed scales');
    if (sc && sc.data.length > 0) scales = constNumbers(sc);
    else if (node.inputs[3]) {
      // Sizes may be computed from the input's shape (torch: Concat(Shape(x)[0:2], [H, W])).
      const v = shapeValue(g, node.inputs[3]);
      if (v === undefined || v.length !== xs.length || !v.slice(2).every((d) => typeof d === 'number')) {
        unsupported(node, 'sizes known before running', v === undefined ? 'computed sizes' : fmtShape(v));
      }
      if (v[0] !== xs[0] || v[1] !== xs[1]) unsupported(node, 'resizing of the spatial axes only', `sizes ${fmtShape(v)} for input ${fmtShape(xs)}`);
      // Batch and channels keep their size (scale 1), symbolic or not.
      sizes = v.map((d, i) => (i < 2 ? 1 : (d as number)));
    }
    if (node.inputs[3] && sizes && attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') {
      unsupported(node, "keep_aspect_ratio_policy 'stretch'", attrString(node, 'keep_aspect_ratio_policy', ''));
    }
    if (attrInt(node, 'antialias', 0) !== 0) unsupported(node, 'antialias 0', 'antialias 1');
    if (node.attrs.axes !== undefined) unsupported(node, 'Resize over all axes', 'an axes attribute');
  }
  if (sizes) {
    scales = sizes.map((s, i) => {
      if (i < 2) return 1;
      const d = xs[i];
      return typeof d === 'number' ? s / d : unsupported(node, 'static spatial input sizes', fmtShape(xs));
    });
  }
  if (!scales) unsupported(node, 'constant scales or sizes', 'none');
  if (scales.length !== xs.length || scales[0] !== 1 || scales[1] !== 1) unsupported(node, 'resizing of the spatial axes only', `scales [${scales.join(',')}]`);
  const out = xs.map((d, i) => {
    if (i < 2) return d;
    if (sizes) return sizes[i];
    if (typeof d !== 'number') return unsupported(node, 'static spatial input sizes', fmtShape(xs));
    return Math.floor(d * scales[i]);
  });
  return { mode, out, scales };
}

/**
 * Integer nearest upscaling that replicates each pixel into a block (output i reads input
 * floor(i / s) on every axis; the fast gradient applies). Checked on the node's own coordinate
 * transformation and rounding over two blocks: half_pixel with floor, for one, does not replicate.
 */
function replicationFactors(node: Node, s: ResizeSpec): number[] | undefined {
  if (s.mode !== 'nearest' || s.scales.some((k) => k < 1 || Math.abs(k - Math.round(k)) > 1e-6)) return undefined;
  const factors = s.scales.map(Math.round);
  if (node.op === 'Upsample') return factors;
  const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!['half_pixel', 'pytorch_half_pixel', 'asymmetric', 'tf_half_pixel_for_nn', 'align_corners'].includes(ctm)) return undefined;
  const replicates = factors.every((f) => {
    if (f === 1) return true;
    // An axis of 3 inputs resized to 3 f outputs: rows of the first two blocks and the last.
    for (let o = 0; o < 3 * f; o++) {
      const source = Math.min(Math.max(nearestIndex(node, sourceCoordinate(node, ctm, o, f, 3, 3 * f)), 0), 2);
      if (source !== Math.floor(o / f)) return false;
    }
    return true;
  });
  return replicates ? factors : undefined;
}

/**
 * The factors of a Resize or Upsample that replicates each pixel of its input into a block
 * (nearest, integer scales), or undefined when it does not or its scales are not constant.
 */
export function nearestReplication(g: Graph, node: Node): number[] | undefined {
  try {
    return replicationFactors(node, spec(g, node));
  } catch (e) {
    if (e instanceof RefineryError) return undefined;
    throw e;
  }
}

/** The source coordinate of output index `o` along an axis (ONNX's coordinate_transformation_mode). */
function sourceCoordinate(node: Node, ctm: string, o: number, scale: number, inSize: number, outSize: number): number {
  switch (ctm) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case 'asymmetric':
      return o / scale;
    case 'tf_half_pixel_for_nn':
      return (o + 0.5) / scale;
    default:
      return unsupported(node, 'coordinate_transformation_mode half_pixel, pytorch_half_pixel, align_corners, asymmetric or tf_half_pixel_for_nn', ctm);
  }
}

function nearestIndex(node: Node, v: number): number {
  const mode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  switch (mode) {
    case 'round_prefer_floor':
      return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil':
      return Math.round(v);
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    default:
      return unsupported(node, 'nearest_mode round_prefer_floor, round_prefer_ceil, floor or ceil', mode);
  }
}

function cubicWeights(a: number, t: number): number[] {
  const far = (u: number) => ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
  const near = (u: number) => ((a + 2) * u - (a + 3)) * u * u + 1;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** The [out, in] matrix of one axis (row-major float32). */
function axisMatrix(node: Node, mode: ResizeSpec['mode'], scale: number, inSize: number, outSize: number): Float32Array {
  const ctm = node.op === 'Upsample' ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const m = new Float32Array(outSize * inSize);
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  for (let o = 0; o < outSize; o++) {
    const v = sourceCoordinate(node, ctm, o, scale, inSize, outSize);
    const row = o * inSize;
    if (mode === 'nearest') {
      m[row + clamp(node.op === 'Upsample' ? Math.floor(v) : nearestIndex(node, v))] = 1;
    } else if (mode === 'linear') {
      const c = Math.min(Math.max(v, 0), inSize - 1);
      const i0 = Math.floor(c);
      const w = c - i0;
      m[row + i0] += 1 - w;
      m[row + clamp(i0 + 1)] += w;
    } else {
      const i0 = Math.floor(v);
      const w = cubicWeights(attrFloat(node, 'cubic_coeff_a', -0.75), v - i0);
      const exclude = attrInt(node, 'exclude_outside', 0) === 1;
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const i = i0 - 1 + k;
        if (exclude && (i < 0 || i >= inSize)) continue;
        total += w[k];
      }
      for (let k = 0; k < 4; k++) {
        const i = i0 - 1 + k;
        if (exclude && (i < 0 || i >= inSize)) continue;
        m[row + clamp(i)] += exclude ? w[k] / total : w[k];
      }
    }
  }
  return m;
}

function resizeGrad(ctx: GradCtx): (string | undefined)[] {
  const { g, node } = ctx;
  const dy = ctx.dy[0];
  const none = node.inputs.map(() => undefined);
  if (dy === undefined || !ctx.needs(0)) return none;
  const s = spec(g, node);
  const out: (string | undefined)[] = [...none];
  const factors = replicationFactors(node, s);
  if (factors) {
    const sp = factors.slice(2);
    const block = sp.reduce((a, b) => a * b, 1);
    out[0] = g.op('Mul', [g.op('AveragePool', [dy], { kernel_shape: ints(sp), strides: ints(sp) }), g.scalar(block)]);
    return out;
  }
  // dx = dy ×_axis A per resized spatial axis, with A [out, in] its interpolation matrix.
  const xs = g.shape(node.inputs[0]);
  if (xs.length !== 3 && xs.length !== 4) unsupported(node, `${s.mode} resizing of 1 or 2 spatial axes for differentiation`, fmtShape(xs));
  let dx = dy;
  for (let axis = 2; axis < xs.length; axis++) {
    const inSize = xs[axis] as number;
    const outSize = s.out[axis] as number;
    if (inSize === outSize && s.scales[axis] === 1) continue;
    dx = alongAxis(g, dx, axis, { data: axisMatrix(node, s.mode, s.scales[axis], inSize, outSize), out: outSize, in: inSize });
  }
  out[0] = dx;
  return out;
}

function resizeDef(op: string): OpDef {
  return {
    op,
    infer(g, node) {
      return [{ dtype: g.dtype(node.inputs[0]), shape: spec(g, node).out }];
    },
    grad: resizeGrad,
  };
}

export const resizeOps: OpDef[] = [resizeDef('Resize'), resizeDef('Upsample')];
