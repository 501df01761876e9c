/**
 * The PyTorch side of the bench's side-by-side cases: a Python process (scripts/torch_twin.py)
 * that rebuilds a fixture's G and D as eager PyTorch from the graphs Refinery read, checks them
 * against the fixture's golden logits, and times the same operations on request, so that the
 * bench interleaves blocks of Refinery calls and PyTorch calls in one run.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Attr, ConstTensor, Graph } from '../onnx/graph.js';
import { findPython } from './python.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/torch_twin.py', import.meta.url));

/** A Python that imports torch and numpy (see findPython), or why there is none. */
export function findTorchPython(): { python: string; version: string } | { reason: string } {
  return findPython(['torch', 'numpy'], 'python3-torch libopenblas0-pthread');
}

interface TensorRef {
  dtype: 'float32' | 'int64';
  dims: number[];
  offset: number;
  bytes: number;
}

class Blob {
  parts: Uint8Array[] = [];
  size = 0;
  add(t: ConstTensor): TensorRef {
    if (t.dtype !== 'float32' && t.dtype !== 'int64') throw new Error(`the PyTorch twin reads float32 and int64 tensors, not ${t.dtype}`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
    const ref: TensorRef = { dtype: t.dtype, dims: [...t.dims], offset: this.size, bytes: bytes.length };
    this.parts.push(bytes);
    this.size += bytes.length;
    return ref;
  }
}

function graphSpec(g: Graph, blob: Blob) {
  const attr = (a: Attr) => (a.type === 'tensor' ? { tensor: blob.add(a.v) } : a.v);
  return {
    inputs: g.inputs.map((i) => i.name),
    outputs: g.outputs,
    initializers: Object.fromEntries([...g.initializers].map(([name, t]) => [name, blob.add(t)])),
    nodes: g.nodes.map((n) => ({
      op: n.op,
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, attr(a)])),
    })),
  };
}

export interface TwinJob {
  generator: Graph;
  discriminator: Graph;
  dOutput: string;
  threads: number;
  /** The fixture's golden z.npy and logit.npy. */
  goldenZ: string;
  goldenLogit: string;
  /** Latents per batch size (the same the Refinery side uses). */
  latents: Map<number, Float32Array>;
  latentDim: number;
}

/** A running PyTorch twin. */
export class TorchTwin {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: AsyncIterator<string>,
    private readonly rl: Interface,
    /** What the twin reported when it was ready (torch version, threads, golden check). */
    readonly info: { torch: string; threads: number; blas: string[]; golden_logit_rel_error: number },
  ) {}

  /** Write the job into `dir` and start the twin. */
  static async start(python: string, job: TwinJob, dir: string): Promise<TorchTwin> {
    const blob = new Blob();
    const doc = {
      blob: join(dir, 'twin.bin'),
      threads: job.threads,
      prior: 'normal',
      d_output: job.dOutput,
      golden_z: job.goldenZ,
      golden_logit: job.goldenLogit,
      generator: graphSpec(job.generator, blob),
      discriminator: graphSpec(job.discriminator, blob),
      latents: Object.fromEntries([...job.latents].map(([b, z]) => [String(b), blob.add({ dtype: 'float32', dims: [b, job.latentDim], data: z })])),
    };
    writeFileSync(doc.blob, Buffer.concat(blob.parts));
    writeFileSync(join(dir, 'twin.json'), JSON.stringify(doc));
    const child = spawn(python, [SCRIPT, join(dir, 'twin.json')], {
      env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const rl = createInterface({ input: child.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error('the PyTorch twin exited before it was ready');
    return new TorchTwin(child, lines, rl, JSON.parse(first.value) as TorchTwin['info']);
  }

  /** Milliseconds per call of `runs` calls: 'grad' = latent energy value and gradient, 'forward' = D(G(z)). */
  async time(what: 'grad' | 'forward', batch: number, runs: number): Promise<number[]> {
    this.child.stdin.write(`${what} ${batch} ${runs}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error('the PyTorch twin exited');
    return (JSON.parse(line.value) as { ms: number[] }).ms;
  }

  close(): void {
    this.rl.close();
    this.child.stdin.end();
  }
}
