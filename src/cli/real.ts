/** Held-out real samples for the command line: a .npy file, a folder of PNG or JPEG images, or a built-in dataset. */
import { existsSync, statSync } from 'node:fs';
import { getDataset } from '../data/dataset.js';
import { pixelsToRange, readImageFolder } from '../data/images.js';
import { fail } from '../errors.js';
import { npyToFloat32 } from '../io/npy.js';
import { readNpy } from '../io/npyfile.js';
import type { ModelMeta } from '../models/meta.js';
import { Rng } from '../rng.js';
import { REAL_STREAM } from '../data/sample.js';
import type { Tensor } from '../tensor.js';
import { checkMemory } from '../platform/memory.js';

export interface RealSamples {
  tensor: Tensor;
  /** The file or folder read, when there is one. */
  file?: string;
  /** Where the samples came from, for the summary. */
  description: string;
}

/**
 * Samples from `path`: a .npy [n, ...] or a folder of PNG and JPEG images. A folder's pixels, and
 * the values of a .npy of uint8 (8-bit images as an array, e.g. torch-fidelity's input format),
 * map from 0..255 to `range` as readImageFolder maps them; a .npy of any other dtype is taken as
 * it is. `grayscale` as readImageFolder's; errors name `option`.
 */
export async function readSamplesFile(
  path: string,
  option: string,
  range: [number, number],
  grayscale?: boolean,
  onProgress?: (done: number, total: number) => void,
): Promise<Tensor> {
  if (!existsSync(path)) fail('invalid_file', option, 'an existing .npy file or folder of PNG or JPEG images', path);
  if (statSync(path).isDirectory()) {
    const f = await readImageFolder(path, { range, grayscale, option, onProgress });
    return { data: f.data, shape: [...f.shape] };
  }
  const array = readNpy(path);
  return array.dtype === '|u1' ? { data: pixelsToRange(array.data as Uint8Array, range), shape: [...array.shape] } : npyToFloat32(array);
}

/** Samples of the generator's shape from `path` (see readSamplesFile; pixels map to the run's output range); errors name `option`. */
export async function readSamplesPath(path: string, meta: ModelMeta, option: string): Promise<Tensor> {
  const { dataShape } = meta;
  const t = await readSamplesFile(path, option, meta.outputRange ?? [-1, 1], dataShape[0] === 1);
  if (t.shape.slice(1).join('x') !== dataShape.join('x')) {
    fail('shape_mismatch', option, `an array of shape [m, ${dataShape.join(', ')}] (the generator's sample shape)`, `[${t.shape.join(', ')}]`);
  }
  return t;
}

/** Read --real (a .npy or a folder of PNGs and JPEGs) or draw --real-n samples of --dataset; undefined when neither is given. */
export async function readRealSamples(
  opts: { real?: string; dataset?: string; realN: number; seed: number },
  meta: ModelMeta,
): Promise<RealSamples | undefined> {
  const { dataShape } = meta;
  if (opts.real !== undefined && opts.dataset !== undefined)
    fail('invalid_argument', '--dataset', 'either --real or --dataset, not both', `--real ${opts.real} and --dataset ${opts.dataset}`);
  if (opts.real !== undefined) return { tensor: await readSamplesPath(opts.real, meta, '--real'), file: opts.real, description: opts.real };
  if (opts.dataset !== undefined) {
    if (dataShape.length !== 1 || dataShape[0] !== 2)
      fail('invalid_argument', '--dataset', 'a generator of 2-D samples (built-in datasets are 2-D)', `samples of shape [${dataShape.join(', ')}]`);
    checkMemory(4 * 2 * opts.realN, '--real-n', `${opts.realN} real samples`);
    const data = getDataset(opts.dataset).sample(opts.realN, new Rng(opts.seed, REAL_STREAM));
    return { tensor: { data, shape: [opts.realN, 2] }, description: `dataset ${opts.dataset} (n=${opts.realN}, seed ${opts.seed})` };
  }
  return undefined;
}
