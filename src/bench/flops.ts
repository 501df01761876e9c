/**
 * Floating-point work of a graph and the machine's sgemm peak, for the bench's "achieved GFLOP/s
 * against the measured peak". FLOPs count the multiply-adds of the dense ops (2 per multiply-add):
 * Conv, ConvTranspose, MatMul and Gemm, from the shapes the graph knows; every symbolic dimension
 * is taken as the batch size (the only symbolic one in Refinery's step graphs). Elementwise ops,
 * reductions and normalisations are left out (a small share of these models' work).
 */
import { attrInt, type Dim, Graph } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';

export interface FlopCount {
  /** FLOPs of one call (2 per multiply-add). */
  flops: number;
  /** FLOPs per op type. */
  byOp: Record<string, number>;
  /** Dense nodes whose shapes were not known (not counted). */
  uncounted: number;
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

/** The FLOPs of one call of `g` at batch size `batch`. */
export function graphFlops(g: Graph, batch: number): FlopCount {
  const dims = (name: string): number[] | undefined => {
    const v = g.values.get(name);
    const t = g.initializers.get(name);
    const shape: readonly Dim[] | undefined = v?.shape ?? t?.dims;
    if (!shape) return undefined;
    const out = shape.map((d) => (typeof d === 'number' ? d : batch));
    return out.every((d) => Number.isFinite(d) && d >= 0) ? out : undefined;
  };
  const byOp: Record<string, number> = {};
  let uncounted = 0;
  for (const node of g.nodes) {
    let f: number | undefined;
    if (node.op === 'Conv') {
      const y = dims(node.outputs[0]);
      const w = dims(node.inputs[1]);
      if (y && w) f = 2 * prod(y) * prod(w.slice(1));
    } else if (node.op === 'ConvTranspose') {
      const x = dims(node.inputs[0]);
      const w = dims(node.inputs[1]);
      if (x && w) f = 2 * prod(x) * prod(w.slice(1));
    } else if (node.op === 'MatMul') {
      const a = dims(node.inputs[0]);
      const y = dims(node.outputs[0]);
      if (a && y && a.length > 0) f = 2 * prod(y) * a[a.length - 1];
    } else if (node.op === 'Gemm') {
      const a = dims(node.inputs[0]);
      const y = dims(node.outputs[0]);
      if (a && y && a.length === 2) f = 2 * prod(y) * (attrInt(node, 'transA', 0) ? a[0] : a[1]);
    } else continue;
    if (f === undefined) uncounted++;
    else byOp[node.op] = (byOp[node.op] ?? 0) + f;
  }
  return { flops: Object.values(byOp).reduce((a, b) => a + b, 0), byOp, uncounted };
}

/**
 * The sgemm peak of this machine through onnxruntime: the best GFLOP/s of float32 MatMuls of
 * sizes 512 to 4096 (cubes), the fastest of `runs` calls each after two warm-up calls, with
 * `threads` intra-op threads.
 */
export async function sgemmPeak(
  threads: number,
  runs = 5,
): Promise<{ gflops: number; size: number; threads: number; runs: number; bySize: Record<number, number> }> {
  const bySize: Record<number, number> = {};
  let best = { gflops: 0, size: 0 };
  for (const size of [512, 1024, 2048, 4096]) {
    const gflops = await sgemmAt(size, threads, runs);
    bySize[size] = Math.round(gflops * 10) / 10;
    if (gflops > best.gflops) best = { gflops, size };
  }
  return { ...best, threads, runs, bySize };
}

/** The fastest of `runs` calls of a size^3 float32 MatMul, GFLOP/s. */
async function sgemmAt(size: number, threads: number, runs: number): Promise<number> {
  const timer = await sgemmTimer(size, threads);
  try {
    await timer.time(2);
    return timer.gflops(Math.min(...(await timer.time(runs))));
  } finally {
    await timer.release();
  }
}

/**
 * A size^3 float32 MatMul session to time beside a case (the bench interleaves its calls with the
 * case's, so that both see the machine in the same state): `time(calls)` gives each call's
 * milliseconds, `gflops(ms)` a call's rate.
 */
export async function sgemmTimer(
  size: number,
  threads: number,
): Promise<{ size: number; time: (calls: number) => Promise<number[]>; gflops: (ms: number) => number; release: () => Promise<void> }> {
  const g = new Graph();
  const a = g.addInput('a', 'float32', [size, size]);
  const b = g.addInput('b', 'float32', [size, size]);
  g.outputs = [g.op('MatMul', [a, b])];
  const s = await Session.create(g, { threads });
  const rng = new Rng(2048);
  const feeds = {
    a: { data: rng.fillNormal(new Float32Array(size * size)), shape: [size, size] },
    b: { data: rng.fillNormal(new Float32Array(size * size)), shape: [size, size] },
  };
  return {
    size,
    time: async (calls) => {
      const times: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t0 = performance.now();
        await s.run(feeds);
        times.push(performance.now() - t0);
      }
      return times;
    },
    gflops: (ms) => (2 * size ** 3) / (ms * 1e6),
    release: () => s.release(),
  };
}
