/** Running graphs with ONNX Runtime: onnxruntime-node in Node.js, onnxruntime-web in browsers (see platform/host.ts). */
import type * as ort from 'onnxruntime-common';
import { fail } from '../errors.js';
import { host } from '../platform/host.js';
import type { Tensor } from '../tensor.js';
import { type Device, DEVICES } from './device.js';
import { denseColumns } from './columns.js';
import { denseMasks, nchwcMasks, nchwcScales, transposeProducts } from './fuse.js';
import { rewriteConvTransposes } from './phases.js';
import type { Graph } from './graph.js';
import { encodeGraph } from './model.js';

export interface SessionOptions {
  /** Intra-op threads; default: REFINERY_THREADS or the number of cores. */
  threads?: number;
  /** Execution provider; default 'cpu'. */
  device?: Device;
}

/** What running on `device` needs, for the error when it is missing. */
const DEVICE_NEEDS: Record<Device, string> = {
  cpu: 'the CPU provider',
  cuda: "onnxruntime-node's CUDA provider: an NVIDIA GPU with CUDA 12 and cuDNN 9, and the provider's libraries, fetched by `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (from NuGet, not npm)",
};

export function defaultThreads(): number {
  const env = host().setting('REFINERY_THREADS');
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) fail('invalid_argument', 'REFINERY_THREADS', 'a positive integer', env);
    return n;
  }
  return host().cores();
}

/**
 * Whether onnxruntime's worker threads spin while a run waits for its next operator:
 * REFINERY_SPIN=0 turns it off, for machines whose cores other processes share. On dedicated
 * cores spinning makes the small operators of a sampler step 15-25% faster (bench, dcgan32 and
 * mnist_dcgan28 steps at batch 64); with another busy process on the cores it makes them about
 * 40% slower. Either way the threads stop spinning when a run ends
 * (`session.force_spinning_stop`), so sessions waiting their turn do not take cores from the one
 * running.
 */
export function spinning(): boolean {
  const env = host().setting('REFINERY_SPIN');
  if (env === undefined || env === '' || env === '1') return true;
  if (env === '0') return false;
  return fail('invalid_argument', 'REFINERY_SPIN', '0 or 1', env);
}

function sessionOptions(options: SessionOptions, device: Device): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: host().providers(device),
    intraOpNumThreads: options.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    extra: { session: { intra_op: { allow_spinning: spinning() ? '1' : '0' }, force_spinning_stop: '1' } },
  };
}

/**
 * The graph as sessions compile it for `device`. On every device, a transposed MatMul product
 * becomes the product of the transposed factors (transposeProducts). With onnxruntime-node's CPU
 * kernels, ConvTransposes with constant weights (a generator's forward layers, a strided Conv's
 * backward) also become phase Convs (phases.ts), dense layers (forward and backward) 1x1 Convs
 * over columns (columns.ts), and the gradient's ReLU masks and constant scalings of feature maps
 * and columns depthwise 1x1 Convs (fuse.ts): the gain comes from its blocked NCHWc Conv kernels
 * and from staying in their layout. The masks of other dense activations become a scaling and a
 * Clip, which avoid its slow Cast from bool.
 * onnxruntime-web's graphs are left without these (two browser runs with and without the
 * ConvTranspose rewrite were within this machine's noise).
 */
export function compiledGraph(g: Graph, device: Device): Graph {
  const product = transposeProducts(g);
  return nodeCpu(device) ? nchwcScales(denseMasks(nchwcMasks(denseColumns(rewriteConvTransposes(product))))) : product;
}

/** Whether a session runs on onnxruntime-node's CPU kernels (the rewrites and shapes for them apply). */
function nodeCpu(device: Device): boolean {
  return device === 'cpu' && host().name === 'node';
}

/** The ONNX bytes a session on `device` runs for `g`: the compiled graph, with its values' shapes for onnxruntime-node's CPU kernels. */
export function compiledModel(g: Graph, device: Device): Uint8Array {
  return encodeGraph(compiledGraph(g, device), { shapes: nodeCpu(device) });
}

/** A compiled graph. Inputs and outputs are float32 tensors. */
export class Session {
  private constructor(
    private readonly inner: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(graph: Graph | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const ort = host().ort;
    // onnxruntime's own log goes to stderr; Refinery reports failures as errors (a provider that
    // fails to load: with what to install), so only fatal messages are let through. Read when the
    // environment starts, like the telemetry switch.
    ort.env.logLevel = 'fatal';
    const device = options.device ?? 'cpu';
    if (!DEVICES.includes(device)) fail('invalid_argument', 'device', `one of ${DEVICES.join(', ')}`, String(device));
    const bytes = graph instanceof Uint8Array ? graph : compiledModel(graph, device);
    let inner: ort.InferenceSession;
    try {
      inner = await ort.InferenceSession.create(bytes, sessionOptions(options, device));
    } catch (e) {
      if (device === 'cpu') throw e;
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      return fail('invalid_argument', 'device', DEVICE_NEEDS[device], `${device}: ${why}`);
    }
    return new Session(inner, inner.inputNames, inner.outputNames);
  }

  /** Run with float32 feeds; returns the requested outputs (default: all) as float32 tensors. */
  async run(feeds: Record<string, Tensor>, outputs: readonly string[] = this.outputNames): Promise<Record<string, Tensor>> {
    const ort = host().ort;
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.shape);
    const result = await this.inner.run(ortFeeds, outputs as string[]);
    const out: Record<string, Tensor> = {};
    for (const name of outputs) {
      const r = result[name];
      if (r.type !== 'float32') fail('internal', `output ${name}`, 'float32', r.type);
      out[name] = { data: r.data as Float32Array, shape: r.dims.map(Number) };
      r.dispose?.();
    }
    return out;
  }

  /**
   * `run` for graphs whose every input and output has the batch (rows) as its first axis, with
   * results that do not depend on the batch a row falls in: a batch of one row runs as two
   * copies of it. onnxruntime takes other paths for a single row (a [1, C, HW] reduction is
   * summed as [C, HW]), whose sums round differently: the MNIST bench's trained generator (a
   * pixel norm over channels) gave 54,819 of 200,704 values other bits one row at a time than
   * in batches, and none differed between batches of 2 to 128.
   */
  async runRows(feeds: Record<string, Tensor>, outputs: readonly string[] = this.outputNames): Promise<Record<string, Tensor>> {
    const all = Object.values(feeds);
    if (all.length === 0 || !all.every((t) => t.shape[0] === 1)) return this.run(feeds, outputs);
    const twice: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const data = new Float32Array(2 * t.data.length);
      data.set(t.data);
      data.set(t.data, t.data.length);
      twice[name] = { data, shape: [2, ...t.shape.slice(1)] };
    }
    const out = await this.run(twice, outputs);
    for (const [name, t] of Object.entries(out)) {
      if (t.shape[0] !== 2) fail('internal', `output ${name}`, 'the batch as its first axis', `shape [${t.shape.join(', ')}]`);
      out[name] = { data: t.data.slice(0, t.data.length / 2), shape: [1, ...t.shape.slice(1)] };
    }
    return out;
  }

  /** Run with float64 feeds; returns the requested outputs (default: all) as float64 arrays. */
  async run64(
    feeds: Record<string, { data: Float64Array; shape: number[] }>,
    outputs: readonly string[] = this.outputNames,
  ): Promise<Record<string, { data: Float64Array; shape: number[] }>> {
    const out = await this.runWide(feeds, outputs);
    for (const [name, r] of Object.entries(out)) if (!(r.data instanceof Float64Array)) fail('internal', `output ${name}`, 'float64', 'int64');
    return out as Record<string, { data: Float64Array; shape: number[] }>;
  }

  /** Run with float64 or int64 feeds (by their arrays' type); returns the requested outputs as float64 or int64 arrays, as the graph types them. */
  async runWide(
    feeds: Record<string, { data: Float64Array | BigInt64Array; shape: number[] }>,
    outputs: readonly string[] = this.outputNames,
  ): Promise<Record<string, { data: Float64Array | BigInt64Array; shape: number[] }>> {
    const ort = host().ort;
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.data instanceof BigInt64Array ? 'int64' : 'float64', t.data, t.shape);
    const result = await this.inner.run(ortFeeds, outputs as string[]);
    const out: Record<string, { data: Float64Array | BigInt64Array; shape: number[] }> = {};
    for (const name of outputs) {
      const r = result[name];
      if (r.type !== 'float64' && r.type !== 'int64') fail('internal', `output ${name}`, 'float64 or int64', r.type);
      out[name] = { data: r.data as Float64Array | BigInt64Array, shape: r.dims.map(Number) };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}
