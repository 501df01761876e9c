/**
 * `sample(pair, { n, seed })`: draw samples of the generator alone (the unrefined baseline).
 * Latent i is drawn from its own stream Rng(seed, SAMPLE_STREAM, i), so the samples do not depend
 * on the batch size.
 */
import { describe, fail, RefineryError } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { type Device, DEVICES } from '../onnx/device.js';
import { checkMemory, checkSampleSize } from '../platform/memory.js';
import { SAMPLE_STREAM, sampleLatents } from '../run/latent.js';
import { GeneratorRunner } from '../targets/generator.js';
import type { Tensor } from '../tensor.js';

export { SAMPLE_STREAM, sampleLatents };

/** Options of `sample` and `sampleToFile`. */
export interface SampleOptions {
  /** Samples to draw. */
  n: number;
  /** Default 0. */
  seed?: number;
  /** Rows per generator call. Default 4096. */
  batchSize?: number;
  /** Where the generator runs: 'cpu' (default) or 'cuda'. */
  device?: Device;
  /** Stops the draw before the next generator batch (RefineryError 'cancelled'). */
  signal?: AbortSignal;
  /** Called after each generator batch with stage 'sample', the samples done and n. */
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

/** Defaults of `seed` and `batchSize` in `SampleOptions`. */
export const SAMPLE_DEFAULTS = { seed: 0, batchSize: 4096 } as const;

export function checkSampleOptions(o: SampleOptions): { n: number; seed: number; batchSize: number; device?: Device } {
  const issues = [];
  const int = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (typeof o !== 'object' || o === null) fail('invalid_argument', 'options', 'an object { n, seed, batchSize }', describe(o));
  if (!int(o.n, 1)) issues.push({ path: 'n', expected: 'a positive integer', received: describe(o.n) });
  if (o.seed !== undefined && !int(o.seed, Number.MIN_SAFE_INTEGER))
    issues.push({ path: 'seed', expected: 'a safe integer (|seed| < 2^53)', received: describe(o.seed) });
  if (o.batchSize !== undefined && !int(o.batchSize, 1)) issues.push({ path: 'batchSize', expected: 'a positive integer', received: describe(o.batchSize) });
  if (o.device !== undefined && !DEVICES.includes(o.device))
    issues.push({ path: 'device', expected: `one of ${DEVICES.join(', ')}`, received: describe(o.device) });
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  return { n: o.n, seed: o.seed ?? SAMPLE_DEFAULTS.seed, batchSize: o.batchSize ?? SAMPLE_DEFAULTS.batchSize, device: o.device };
}

/**
 * Generate rows [start, start + rows) in batches, handing each batch to `sink` (in order).
 * The generator session lives for the call.
 */
export async function generateRows(
  pair: Pick<ModelPair, 'generator' | 'meta' | 'device'>,
  o: { seed: number; batchSize: number; start?: number; rows: number; signal?: AbortSignal; device?: Device },
  sink: (x: Float32Array, z: Float32Array, start: number, rows: number) => void | Promise<void>,
): Promise<void> {
  const { latentDim: d, latentPrior, dataShape } = pair.meta;
  const size = dataShape.reduce((a, b) => a * b, 1);
  checkMemory(4 * Math.min(o.batchSize, o.rows) * size * 2, 'batchSize', `generator batches of ${Math.min(o.batchSize, o.rows)} rows of ${size} values`);
  const gen = await GeneratorRunner.create(pair, o.device ? { device: o.device } : {});
  try {
    const first = o.start ?? 0;
    for (let done = 0; done < o.rows; done += o.batchSize) {
      if (o.signal?.aborted) throw new RefineryError('cancelled', [{ path: 'sample', expected: `${o.rows} samples`, received: `a stop after ${done}` }]);
      const rows = Math.min(o.batchSize, o.rows - done);
      const z = sampleLatents(latentPrior, o.seed, first + done, rows, d);
      const x = await gen.generate({ data: z, shape: [rows, d] });
      if (x.data.length !== rows * size)
        fail('shape_mismatch', 'generator output', `${rows * size} values ([${rows}, ${dataShape.join(', ')}])`, `${x.data.length} values`);
      await sink(x.data, z, first + done, rows);
    }
  } finally {
    await gen.release();
  }
}

/** Draw `n` samples of the generator, with their latents. */
export async function sample(pair: ModelPair, options: SampleOptions): Promise<{ samples: Tensor; latents: Tensor }> {
  const { n, seed, batchSize, device } = checkSampleOptions(options);
  checkSampleSize(pair);
  const { latentDim: d, dataShape } = pair.meta;
  const size = dataShape.reduce((a, b) => a * b, 1);
  checkMemory(4 * n * (size + d), 'n', `${n} samples of ${size} values in memory`);
  const samples = new Float32Array(n * size);
  const latents = new Float32Array(n * d);
  await generateRows(pair, { seed, batchSize, rows: n, signal: options.signal, device }, (x, z, start, rows) => {
    samples.set(x, start * size);
    latents.set(z, start * d);
    options.onProgress?.({ stage: 'sample', done: start + rows, total: n });
  });
  return { samples: { data: samples, shape: [n, ...dataShape] }, latents: { data: latents, shape: [n, d] } };
}
