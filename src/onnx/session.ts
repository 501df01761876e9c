/** Running graphs with ONNX Runtime: onnxruntime-node in Node.js, onnxruntime-web in browsers (see platform/host.ts). */
import type * as ort from 'onnxruntime-common';
import { fail } from '../errors.js';
import { host } from '../platform/host.js';
import type { Tensor } from '../tensor.js';
import { type Device, DEVICES } from './device.js';
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

function sessionOptions(options: SessionOptions, device: Device): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: host().providers(device),
    intraOpNumThreads: options.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    // Idle worker threads sleep instead of spinning: equal speed on an idle machine (dcgan32,
    // DDLS/DGflow samplers), 30% faster when another process or a second session shares the cores.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
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
    const bytes = graph instanceof Uint8Array ? graph : encodeGraph(graph);
    const device = options.device ?? 'cpu';
    if (!DEVICES.includes(device)) fail('invalid_argument', 'device', `one of ${DEVICES.join(', ')}`, String(device));
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

  /** Run with float64 feeds; returns the requested outputs (default: all) as float64 arrays. */
  async run64(
    feeds: Record<string, { data: Float64Array; shape: number[] }>,
    outputs: readonly string[] = this.outputNames,
  ): Promise<Record<string, { data: Float64Array; shape: number[] }>> {
    const ort = host().ort;
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float64', t.data, t.shape);
    const result = await this.inner.run(ortFeeds, outputs as string[]);
    const out: Record<string, { data: Float64Array; shape: number[] }> = {};
    for (const name of outputs) {
      const r = result[name];
      if (r.type !== 'float64') fail('internal', `output ${name}`, 'float64', r.type);
      out[name] = { data: r.data as Float64Array, shape: r.dims.map(Number) };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}
