/**
 * Finite-difference checks of emitted gradients (test helper). The scalar checked is
 * L = sum(R * y) with a fixed random R, accumulated in float64 from the float32 outputs; directional
 * central differences along random directions are compared with <grad L, v>.
 */
import { differentiate } from '../onnx/autodiff.js';
import { type Dim, Graph } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { numel } from '../tensor.js';

export interface CheckInput {
  name: string;
  shape: number[];
  /** Values; default: normal draws kept away from 0 (|x| >= 0.2) so kinks are not crossed. */
  data?: Float32Array;
  /** Whether to check this input's gradient (default true). */
  check?: boolean;
  /** Shape declared in the graph when it differs from `shape` (e.g. a symbolic batch axis). */
  graphShape?: Dim[];
}

export interface CheckResult {
  /** Worst |fd - analytic| / scale over all inputs and directions. */
  worst: number;
  details: { input: string; fd: number; analytic: number; scale: number }[];
}

export function awayFromZero(rng: Rng, n: number, lo = 0.2, hi = 1.2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng.uniform());
  return out;
}

/**
 * Build `y = build(g, inputs)` and check the gradient of sum(R*y) with respect to each checked
 * input. `corrupt` scales the analytic gradient (a negative control uses e.g. 1.01).
 */
export async function gradCheck(
  build: (g: Graph, names: string[]) => string,
  inputs: CheckInput[],
  options: { seed?: number; eps?: number; directions?: number; corrupt?: number; opset?: number } = {},
): Promise<CheckResult> {
  const rng = new Rng(options.seed ?? 7);
  const eps = options.eps ?? 1e-2;
  const g = new Graph();
  if (options.opset !== undefined) g.opset = options.opset;
  const names = inputs.map((i) => g.addInput(i.name, 'float32', i.graphShape ?? i.shape));
  const y = build(g, names);
  const yShape = g.shape(y);
  if (!yShape.every((d) => typeof d === 'number')) throw new Error(`output shape must be static, got ${yShape}`);
  const r = rng.fillNormal(new Float32Array(numel(yShape as number[])));
  const rName = g.float32(r, yShape as number[]);
  const weighted = g.op('Mul', [y, rName]);
  const checked = inputs.filter((i) => i.check !== false).map((i) => i.name);
  const grads = differentiate(
    g,
    { [weighted]: g.op('ConstantOfShape', [g.shapeOf(weighted)], { value: { type: 'tensor', v: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } } }) },
    checked,
  );
  g.outputs = [y, ...checked.map((c) => grads.get(c)!)];
  const session = await Session.create(g, { threads: 1 });
  const base: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const inp of inputs) base[inp.name] = { data: inp.data ?? awayFromZero(rng, numel(inp.shape)), shape: inp.shape };
  const loss = async (feeds: typeof base) => {
    const out = await session.run(feeds, [y]);
    let s = 0;
    const d = out[y].data;
    for (let i = 0; i < d.length; i++) s += d[i] * r[i];
    return s;
  };
  const out0 = await session.run(base);
  const result: CheckResult = { worst: 0, details: [] };
  for (const name of checked) {
    const grad = out0[grads.get(name)!].data;
    for (let k = 0; k < (options.directions ?? 3); k++) {
      const v = rng.fillNormal(new Float32Array(grad.length));
      let vnorm = 0;
      for (const t of v) vnorm += t * t;
      vnorm = Math.sqrt(vnorm);
      for (let i = 0; i < v.length; i++) v[i] /= vnorm;
      const shift = (sign: number) => {
        const d = Float32Array.from(base[name].data, (x, i) => x + sign * eps * v[i]);
        return { ...base, [name]: { data: d, shape: base[name].shape } };
      };
      const fd = ((await loss(shift(1))) - (await loss(shift(-1)))) / (2 * eps);
      let an = 0;
      let gnorm = 0;
      for (let i = 0; i < v.length; i++) {
        an += grad[i] * v[i] * (options.corrupt ?? 1);
        gnorm += grad[i] * grad[i];
      }
      const scale = Math.max(Math.abs(an), Math.sqrt(gnorm) * 0.1, 1e-6);
      result.details.push({ input: name, fd, analytic: an, scale });
      result.worst = Math.max(result.worst, Math.abs(fd - an) / scale);
    }
  }
  await session.release();
  return result;
}
